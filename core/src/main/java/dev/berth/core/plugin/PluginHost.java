package dev.berth.core.plugin;

import dev.berth.spi.RuntimeBackendFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;

/**
 * Loads the plugins in a directory and collects the backend types they provide. A plugin that fails to load is
 * reported with its file and the reason, and the others still load; whether the daemon can start depends on
 * whether the configured handlers need it.
 */
public final class PluginHost implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(PluginHost.class.getName());

    /** One plugin as loaded: its id, version, file, state and the types it provides, or why it failed. */
    public record PluginInfo(String id, String version, Path path, String state, List<String> types, String error) {}

    private final BerthPluginManager manager;
    private final Map<String, BackendType> types = new TreeMap<>();
    private final List<PluginInfo> plugins = new ArrayList<>();

    private PluginHost(BerthPluginManager manager) {
        this.manager = manager;
    }

    /** Loads and starts every plugin under {@code dir}; a missing dir means no plugins. */
    public static PluginHost load(Path dir) {
        PluginHost host = new PluginHost(dir == null ? null : new BerthPluginManager(dir));
        if (dir != null && Files.isDirectory(dir)) {
            host.loadAll(dir);
        }
        return host;
    }

    /** A host with in-process factories only, for tests and embedding. */
    public static PluginHost of(List<RuntimeBackendFactory> factories) {
        PluginHost host = new PluginHost(null);
        for (RuntimeBackendFactory f : factories) {
            host.register(new BackendType(f.type(), "builtin", "0", f, f.getClass().getClassLoader()), null);
        }
        return host;
    }

    private void loadAll(Path dir) {
        List<Path> candidates;
        try (Stream<Path> s = Files.list(dir)) {
            candidates = s.filter(p -> {
                String n = p.getFileName().toString();
                return n.endsWith(".jar") || n.endsWith(".zip");
            }).sorted().toList();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.ERROR, "cannot list plugin directory {0}: {1}", dir, e.getMessage());
            return;
        }
        Map<String, Path> loaded = new LinkedHashMap<>();
        for (Path p : candidates) {
            if (p.getFileName().toString().endsWith(".zip")
                    && candidates.contains(p.resolveSibling(p.getFileName().toString().replace(".zip", ".jar")))) {
                continue;
            }
            try {
                String id = manager.loadPlugin(p);
                loaded.put(id, p);
            } catch (RuntimeException e) {
                fail(p, "cannot load plugin: " + reason(e));
            }
        }
        for (String id : loaded.keySet()) {
            PluginWrapper w = manager.getPlugin(id);
            if (w == null) {
                continue;
            }
            String requires = w.getDescriptor().getRequires();
            if (requires != null && !requires.isBlank() && !requires.equals("*")
                    && !manager.getVersionManager().checkVersionConstraint(manager.getSystemVersion(), requires)) {
                fail(loaded.get(id), "plugin \"" + id + "\" requires SPI " + requires + " but berth provides "
                        + manager.getSystemVersion());
                manager.unloadPlugin(id);
                continue;
            }
            try {
                PluginState state = manager.startPlugin(id);
                if (state != PluginState.STARTED) {
                    String why = w.getFailedException() != null ? reason(w.getFailedException())
                            : "requires SPI " + w.getDescriptor().getRequires() + " but berth provides "
                                    + manager.getSystemVersion();
                    fail(loaded.get(id), "plugin \"" + id + "\" " + state.toString().toLowerCase() + ": " + why);
                    continue;
                }
                List<String> provided = new ArrayList<>();
                for (RuntimeBackendFactory f : manager.getExtensions(RuntimeBackendFactory.class, id)) {
                    register(new BackendType(f.type(), id, w.getDescriptor().getVersion(), f, w.getPluginClassLoader()),
                            loaded.get(id));
                    provided.add(f.type());
                }
                plugins.add(new PluginInfo(id, w.getDescriptor().getVersion(), loaded.get(id), "started", provided,
                        provided.isEmpty() ? "provides no backend type (missing @Extension index?)" : ""));
            } catch (RuntimeException | LinkageError e) {
                fail(loaded.get(id), "plugin \"" + id + "\" failed to start: " + reason(e));
            }
        }
    }

    private void register(BackendType t, Path from) {
        BackendType prev = types.putIfAbsent(t.type(), t);
        if (prev != null) {
            LOG.log(System.Logger.Level.WARNING, "backend type \"{0}\" from plugin {1} ({2}) is ignored: plugin {3} "
                    + "already provides it", t.type(), t.pluginId(), from, prev.pluginId());
        }
    }

    private void fail(Path p, String why) {
        LOG.log(System.Logger.Level.ERROR, "{0}: {1}", p, why);
        plugins.add(new PluginInfo("", "", p, "failed", List.of(), why));
    }

    private static String reason(Throwable e) {
        Throwable root = e;
        StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage()));
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
            sb.append(": ").append(root.getMessage());
        }
        return sb.toString();
    }

    public Map<String, BackendType> types() {
        return Map.copyOf(types);
    }

    public List<PluginInfo> plugins() {
        return List.copyOf(plugins);
    }

    @Override
    public void close() {
        if (manager != null) {
            for (PluginWrapper w : List.copyOf(manager.getPlugins())) {
                try {
                    manager.unloadPlugin(w.getPluginId());
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "cannot unload plugin {0}: {1}", w.getPluginId(),
                            e.getMessage());
                }
            }
        }
    }
}
