package dev.berth.core.plugin;

import dev.berth.spi.RuntimeBackendFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;

/**
 * Loads the plugins in a directory, keeps them in step with it on {@link #rescan()}, and collects the backend
 * types they provide. A plugin that fails to load is reported with its file and the reason, and the others still
 * load; whether the daemon can start depends on whether the configured handlers need it.
 *
 * <p>Each archive gets a PF4J manager of its own, so that two versions of one plugin id can be loaded side by
 * side (PF4J holds one plugin per id), each with berth's SPI-first class loader. Before loading, an archive is
 * copied into a directory of its own named after its content hash, and PF4J reads (and for a zip, extracts) only
 * that copy: an archive replaced in place in the plugins directory never changes a version already loaded.
 *
 * <p>A rescan loads archives that are new (by content), and decides for each plugin id which loaded archive is
 * <em>current</em>: the highest {@code Plugin-Version} among the archives still in the directory. Only current
 * plugins provide {@link #types()}. A loaded archive that is no longer current (removed, or superseded by a newer
 * version) is <em>retiring</em>: it stays loaded while some handler generation uses its backend types, and
 * {@link #sweep} unloads it (PF4J unload, class loader closed, copy deleted) once none does.
 */
public final class PluginHost implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(PluginHost.class.getName());

    /**
     * One plugin archive as seen by the host: its id, version, SPI range ({@code Plugin-Requires}), archive, state
     * and the types it provides, or why it failed. States: {@code started} (current), {@code retiring} (loaded
     * for the generations still using it), {@code superseded} (in the directory but a newer version is current;
     * not loaded), {@code failed}. {@code classLoader} is the plugin's loader while it is loaded, else null.
     */
    public record PluginInfo(String id, String version, Path path, String state, List<String> types, String error,
                             String requires, ClassLoader classLoader) {
        public PluginInfo(String id, String version, Path path, String state, List<String> types, String error) {
            this(id, version, path, state, types, error, "", null);
        }
    }

    private final Path dir;
    private final Path copies;
    private final boolean ownCopies;
    private final List<LoadedArchive> archives = new ArrayList<>();
    private final List<LoadedArchive> failed = new ArrayList<>();
    private Map<String, BackendType> types = new TreeMap<>();
    /** The previous run's reusable copies while the first scan runs; then none. */
    private PluginCopies copyRecords;

    private PluginHost(Path dir, Path copies, boolean ownCopies) {
        this.dir = dir;
        this.copies = copies;
        this.ownCopies = ownCopies;
        this.copyRecords = PluginCopies.none(copies);
    }

    /**
     * Loads and starts every plugin under {@code dir}; a missing dir means no plugins. The archives are copied
     * into a temporary directory that {@link #close()} deletes (for the CLI and tests).
     */
    public static PluginHost load(Path dir) {
        Path copies = null;
        if (dir != null) {
            try {
                copies = Files.createTempDirectory("berth-plugins");
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("cannot create a directory for plugin copies", e);
            }
        }
        return load(dir, copies, true);
    }

    /**
     * Loads and starts every plugin under {@code dir}, copying each archive below {@code copies} (the daemon's
     * {@code <state>/plugins}). A previous run's complete copy of an archive that is still the same file is used
     * again (see {@link PluginCopies}); whatever else a previous run left there is deleted.
     */
    public static PluginHost load(Path dir, Path copies) {
        return load(dir, copies, false);
    }

    private static PluginHost load(Path dir, Path copies, boolean ownCopies) {
        PluginHost host = new PluginHost(dir, copies, ownCopies);
        if (dir != null) {
            if (!ownCopies) {
                host.copyRecords = PluginCopies.scan(copies);
            }
            host.rescan();
            host.copyRecords.dropUntaken();
            host.copyRecords = PluginCopies.none(copies);
        }
        return host;
    }

    /** A host with in-process factories only, for tests and embedding. */
    public static PluginHost of(List<RuntimeBackendFactory> factories) {
        PluginHost host = new PluginHost(null, null, false);
        for (RuntimeBackendFactory f : factories) {
            host.register(host.types, new BackendType(f.type(), "builtin", "0", f, f.getClass().getClassLoader()),
                    null);
        }
        return host;
    }

    /** What a rescan changed, for the reload's log line. */
    public record Changes(List<String> loaded, List<String> retiring, List<String> failed) {
        public boolean any() {
            return !loaded.isEmpty() || !retiring.isEmpty() || !failed.isEmpty();
        }

        @Override
        public String toString() {
            return "loaded " + (loaded.isEmpty() ? "none" : String.join(", ", loaded)) + "; retiring "
                    + (retiring.isEmpty() ? "none" : String.join(", ", retiring)) + "; failed "
                    + (failed.isEmpty() ? "none" : String.join(", ", failed));
        }
    }

    /**
     * Brings the host in step with the plugins directory: loads new archives, marks removed and superseded ones
     * retiring (unloaded by {@link #sweep} once unused) and recomputes {@link #types()}. Never throws for a bad
     * archive: it is reported as failed and the running plugins are untouched.
     */
    public synchronized Changes rescan() {
        List<String> newlyLoaded = new ArrayList<>();
        List<String> newlyRetiring = new ArrayList<>();
        List<String> nowFailed = new ArrayList<>();
        if (dir == null) {
            return new Changes(newlyLoaded, newlyRetiring, nowFailed);
        }
        failed.clear();
        archives.forEach(a -> a.present = false);
        List<Path> newPaths = new ArrayList<>();
        for (Path p : PluginFiles.candidates(dir)) {
            LoadedArchive known = findUnchanged(p);
            if (known != null) {
                known.present = true;
            } else {
                newPaths.add(p);
            }
        }
        Map<Path, Object> prepared = copyRecords.prepareAll(newPaths);
        for (Path p : newPaths) {
            LoadedArchive a;
            try {
                a = place(prepared.get(p));
            } catch (IOException | RuntimeException e) {
                LoadedArchive f = new LoadedArchive("", p);
                failReport(f, "cannot copy plugin archive: " + PluginFiles.reason(e));
                nowFailed.add(p.getFileName().toString());
                continue;
            }
            LoadedArchive same = archives.stream().filter(x -> x.hash.equals(a.hash)).findFirst().orElse(null);
            if (same != null) {
                // The same content under another name, or touched: still the same plugin.
                PluginFiles.deleteQuietly(a.copyDir);
                same.source = p;
                same.size = a.size;
                same.modified = a.modified;
                same.fileKey = a.fileKey;
                same.present = true;
                continue;
            }
            if (loadArchive(a)) {
                archives.add(a);
                if (a.loaded()) {
                    newlyLoaded.add(a.id + " " + a.version);
                    if (!a.reused) {
                        copyRecords.record(a.copyDir, a.identity, a.hash);
                    }
                }
            } else {
                nowFailed.add(p.getFileName().toString());
            }
        }
        // Per plugin id, the current archive is the highest version still in the directory.
        Map<String, LoadedArchive> current = new TreeMap<>();
        for (LoadedArchive a : archives) {
            if (a.present && (a.loaded() || "superseded".equals(a.state))) {
                LoadedArchive c = current.get(a.id);
                if (c == null || PluginFiles.compare(a.version, c.version) > 0) {
                    current.put(a.id, a);
                }
            }
        }
        for (LoadedArchive a : List.copyOf(archives)) {
            boolean isCurrent = current.get(a.id) == a;
            if (isCurrent && !a.loaded()) {
                // A superseded archive is current again (the newer one was removed): load it anew.
                archives.remove(a);
                LoadedArchive fresh;
                try {
                    fresh = place(copyRecords.prepareAll(List.of(a.source)).get(a.source));
                } catch (IOException | RuntimeException e) {
                    failReport(new LoadedArchive("", a.source), "cannot copy plugin archive: " + PluginFiles.reason(e));
                    continue;
                }
                if (loadArchive(fresh)) {
                    archives.add(fresh);
                    current.put(fresh.id, fresh);
                    if (fresh.loaded()) {
                        newlyLoaded.add(fresh.id + " " + fresh.version);
                        copyRecords.record(fresh.copyDir, fresh.identity, fresh.hash);
                    }
                }
            } else if (isCurrent) {
                a.state = "started";
            } else if (a.loaded() && !"retiring".equals(a.state)) {
                a.state = "retiring";
                newlyRetiring.add(a.id + " " + a.version);
                LoadedArchive now = current.get(a.id);
                LOG.log(System.Logger.Level.INFO, "plugin {0} {1} ({2}) is retiring: {3}; it is unloaded once no "
                        + "handler uses it", a.id, a.version, a.source.getFileName(), now != null
                        ? "version " + now.version + " from " + now.source.getFileName() + " replaces it"
                        : "its archive was removed");
            } else if (!a.loaded() && !a.present) {
                archives.remove(a);
            }
        }
        Map<String, BackendType> next = new TreeMap<>();
        for (LoadedArchive a : current.values()) {
            if (a.loaded()) {
                for (BackendType t : a.types) {
                    register(next, t, a.source);
                }
            }
        }
        types = next;
        return new Changes(newlyLoaded, newlyRetiring, nowFailed);
    }

    /**
     * Files a prepared archive (or rethrows why it could not be prepared): a new copy moves to the directory named
     * after its hash, unless an archive of that content already has it.
     */
    private LoadedArchive place(Object prepared) throws IOException {
        if (prepared instanceof IOException e) {
            throw e;
        }
        if (prepared instanceof RuntimeException e) {
            throw e;
        }
        LoadedArchive a = (LoadedArchive) prepared;
        if (a.reused) {
            return a;
        }
        Path target = copies.resolve(a.hash.substring(0, 16));
        if (archives.stream().noneMatch(x -> x.hash.equals(a.hash)) && !Files.exists(target)) {
            Files.move(a.copyDir, target);
            a.copyDir = target;
        }
        return a;
    }

    /** Loads and starts the copied archive with a manager of its own; false (reported) if it fails. */
    private boolean loadArchive(LoadedArchive a) {
        Path copied = a.copyDir.resolve(a.source.getFileName());
        BerthPluginManager manager = new BerthPluginManager(a.copyDir);
        String id;
        try {
            id = manager.loadPlugin(copied);
        } catch (RuntimeException | LinkageError e) {
            failAndDrop(a, manager, "cannot load plugin: " + PluginFiles.reason(e));
            return false;
        }
        PluginWrapper w = manager.getPlugin(id);
        if (w == null) {
            failAndDrop(a, manager, "cannot load plugin: PF4J did not register it");
            return false;
        }
        a.id = id;
        a.version = w.getDescriptor().getVersion();
        a.requires = w.getDescriptor().getRequires() == null ? "" : w.getDescriptor().getRequires();
        String requires = w.getDescriptor().getRequires();
        if (requires != null && !requires.isBlank() && !requires.equals("*")
                && !manager.getVersionManager().checkVersionConstraint(manager.getSystemVersion(), requires)) {
            failAndDrop(a, manager, "plugin \"" + id + "\" requires SPI " + requires + " but berth provides "
                    + manager.getSystemVersion());
            return false;
        }
        // Two archives of one id and version in the directory at once: which one is meant is unclear.
        for (LoadedArchive other : archives) {
            if (other.present && other.id.equals(id) && PluginFiles.compare(other.version, a.version) == 0) {
                failAndDrop(a, manager, "plugin \"" + id + "\" " + a.version + " is already loaded from "
                        + other.source.getFileName() + "; a replacement needs a higher Plugin-Version");
                return false;
            }
        }
        // An older version beside a newer one present in the directory is not loaded at all.
        for (LoadedArchive other : archives) {
            if (other.present && other.loaded() && other.id.equals(id) && PluginFiles.compare(other.version, a.version) > 0) {
                a.state = "superseded";
                a.error = "superseded by " + other.version + " (" + other.source.getFileName() + ")";
                PluginFiles.unloadManager(manager, id);
                PluginFiles.deleteQuietly(a.copyDir);
                a.copyDir = null;
                return true;
            }
        }
        try {
            PluginState state = manager.startPlugin(id);
            if (state != PluginState.STARTED) {
                String why = w.getFailedException() != null ? PluginFiles.reason(w.getFailedException())
                        : "requires SPI " + w.getDescriptor().getRequires() + " but berth provides "
                                + manager.getSystemVersion();
                failAndDrop(a, manager, "plugin \"" + id + "\" " + state.toString().toLowerCase() + ": " + why);
                return false;
            }
            List<BackendType> provided = new ArrayList<>();
            for (RuntimeBackendFactory f : manager.getExtensions(RuntimeBackendFactory.class, id)) {
                provided.add(new BackendType(f.type(), id, a.version, f, w.getPluginClassLoader()));
            }
            a.manager = manager;
            a.loader = w.getPluginClassLoader();
            a.types = List.copyOf(provided);
            a.state = "started";
            a.error = provided.isEmpty() ? "provides no backend type (missing @Extension index?)" : "";
            LOG.log(System.Logger.Level.INFO, "plugin {0} {1} loaded from {2}: types {3}", id, a.version,
                    a.source.getFileName(), provided.stream().map(BackendType::type).toList());
            return true;
        } catch (RuntimeException | LinkageError e) {
            failAndDrop(a, manager, "plugin \"" + id + "\" failed to start: " + PluginFiles.reason(e));
            return false;
        }
    }

    private void failAndDrop(LoadedArchive a, BerthPluginManager manager, String why) {
        for (PluginWrapper w : List.copyOf(manager.getPlugins())) {
            PluginFiles.unloadManager(manager, w.getPluginId());
        }
        PluginFiles.deleteQuietly(a.copyDir);
        a.copyDir = null;
        failReport(a, why);
    }

    private void failReport(LoadedArchive a, String why) {
        LOG.log(System.Logger.Level.ERROR, "{0}: {1}", a.source, why);
        a.state = "failed";
        a.error = why;
        failed.add(a);
    }

    /**
     * Unloads every retiring plugin whose class loader no handler generation uses ({@code inUse}): PF4J unload,
     * class loader closed, copy deleted. Returns the plugins unloaded, as "id version".
     */
    public synchronized List<String> sweep(Set<ClassLoader> inUse) {
        List<String> unloaded = new ArrayList<>();
        Set<ClassLoader> used = Collections.newSetFromMap(new IdentityHashMap<>());
        used.addAll(inUse);
        for (LoadedArchive a : List.copyOf(archives)) {
            if (!"retiring".equals(a.state) || !a.loaded() || used.contains(a.loader)) {
                continue;
            }
            PluginFiles.unloadManager(a.manager, a.id);
            PluginFiles.deleteQuietly(a.copyDir);
            LOG.log(System.Logger.Level.INFO, "plugin {0} {1} unloaded: no handler uses it any more", a.id,
                    a.version);
            unloaded.add(a.id + " " + a.version);
            a.manager = null;
            a.loader = null;
            a.types = List.of();
            a.copyDir = null;
            if (a.present) {
                a.state = "superseded";
                a.error = "superseded by a newer version";
            } else {
                archives.remove(a);
            }
        }
        return unloaded;
    }

    /** The known archive at {@code p} if the file is the same one (inode, size, modification time), else null. */
    private LoadedArchive findUnchanged(Path p) {
        try {
            var attrs = Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class);
            for (LoadedArchive a : archives) {
                if (a.source.equals(p) && a.size == attrs.size() && attrs.lastModifiedTime().equals(a.modified)
                        && java.util.Objects.equals(attrs.fileKey(), a.fileKey)) {
                    return a;
                }
            }
        } catch (IOException e) {
            // Gone meanwhile: treated as new, and its copy fails with the reason.
        }
        return null;
    }

    private void register(Map<String, BackendType> into, BackendType t, Path from) {
        BackendType prev = into.putIfAbsent(t.type(), t);
        if (prev != null) {
            LOG.log(System.Logger.Level.WARNING, "backend type \"{0}\" from plugin {1} ({2}) is ignored: plugin {3} "
                    + "already provides it", t.type(), t.pluginId(), from, prev.pluginId());
        }
    }

    /** The plugins directory, or null for a host of built-in factories. */
    public Path dir() {
        return dir;
    }

    /** The backend types of the current plugins. */
    public synchronized Map<String, BackendType> types() {
        return Map.copyOf(types);
    }

    /** Every archive the host knows: loaded ones (started, retiring), superseded ones and the failed ones. */
    public synchronized List<PluginInfo> plugins() {
        List<PluginInfo> out = new ArrayList<>();
        List<LoadedArchive> sorted = new ArrayList<>(archives);
        sorted.sort(Comparator.comparing((LoadedArchive a) -> a.id).thenComparing(a -> a.version));
        for (LoadedArchive a : sorted) {
            out.add(a.info());
        }
        for (LoadedArchive a : failed) {
            out.add(a.info());
        }
        return List.copyOf(out);
    }

    @Override
    public synchronized void close() {
        for (LoadedArchive a : archives) {
            if (a.loaded()) {
                PluginFiles.unloadManager(a.manager, a.id);
                a.manager = null;
            }
        }
        if (ownCopies) {
            PluginFiles.deleteQuietly(copies);
        }
    }
}
