package dev.berth.core.dispatch;

import dev.berth.core.config.BerthConfig;
import dev.berth.core.config.ConfigException;
import dev.berth.core.config.ConfigLoader;
import dev.berth.core.plugin.BackendType;
import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendException;
import dev.berth.spi.RuntimeBackend;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The handler table: handler name to live backend, built from config and the loaded backend types.
 *
 * <p>New pods resolve their handler here. Existing pods never do: the {@link Dispatcher} routes them to the
 * handler object they were created with. So a reload can add, change and remove handlers while existing pods
 * keep their backend; a handler that was removed or changed is retired (kept alive for its pods), not closed.
 */
public final class HandlerRegistry implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(HandlerRegistry.class.getName());

    private final Map<String, BackendType> types;
    private final Path state;
    private final Path root;
    private final BackendContext.EventSink events;
    private final ReentrantLock lock = new ReentrantLock();
    private volatile SortedMap<String, Handler> active = new TreeMap<>();
    private volatile String defaultName;
    private final List<Handler> retired = new ArrayList<>();

    public HandlerRegistry(Map<String, BackendType> types, Path state, Path root, BackendContext.EventSink events) {
        this.types = Map.copyOf(types);
        this.state = state;
        this.root = root;
        this.events = events;
    }

    /**
     * Checks that every handler's type is provided by a loaded plugin, before anything is created.
     * The error names the file and line of the handler's {@code type} key.
     */
    public void validateTypes(ConfigLoader.Loaded loaded) {
        for (var e : loaded.config().runtimes().entrySet()) {
            String type = e.getValue().type();
            if (!types.containsKey(type)) {
                String key = "runtimes." + e.getKey() + ".type";
                throw new ConfigException(loaded.where(key) + key + ": no loaded plugin provides backend type \""
                        + type + "\" (available types: " + (types.isEmpty() ? "none" : String.join(", ",
                        new TreeMap<>(types).keySet())) + ")");
            }
        }
    }

    /**
     * Applies a handler table: creates backends for new or changed handlers, retires removed or changed ones.
     * On any error nothing changes and the error says which handler and why.
     */
    public void apply(ConfigLoader.Loaded loaded) {
        validateTypes(loaded);
        BerthConfig config = loaded.config();
        lock.lock();
        try {
            SortedMap<String, Handler> next = new TreeMap<>();
            List<Handler> created = new ArrayList<>();
            try {
                for (var e : config.runtimes().entrySet()) {
                    Handler old = active.get(e.getKey());
                    if (old != null && old.type().equals(e.getValue().type())
                            && Objects.equals(old.options(), e.getValue().options())) {
                        next.put(e.getKey(), old);
                        continue;
                    }
                    Handler h = create(e.getKey(), e.getValue(), loaded);
                    created.add(h);
                    next.put(e.getKey(), h);
                }
            } catch (RuntimeException e) {
                created.forEach(h -> h.backend().close());
                throw e;
            }
            for (Handler old : active.values()) {
                if (next.get(old.name()) != old) {
                    retired.add(old);
                    LOG.log(System.Logger.Level.INFO, "handler \"{0}\" retired; its existing pods keep it", old.name());
                }
            }
            active = next;
            defaultName = config.defaultRuntime();
        } finally {
            lock.unlock();
        }
    }

    private Handler create(String name, BerthConfig.Handler cfg, ConfigLoader.Loaded loaded) {
        BackendType t = types.get(cfg.type());
        var ctx = CoreBackendContext.create(name, t.pluginId(), state, root, events);
        try {
            RuntimeBackend backend = BackendProxy.withLoader(t.classLoader(),
                    () -> t.factory().create(name, cfg.options(), ctx));
            if (backend == null) {
                throw new ConfigException("runtimes." + name + ": plugin " + t.pluginId() + " returned no backend");
            }
            LOG.log(System.Logger.Level.INFO, "handler \"{0}\": type {1} from plugin {2} {3}", name, cfg.type(),
                    t.pluginId(), t.pluginVersion());
            return new Handler(name, cfg.type(), t.pluginId(), t.pluginVersion(), cfg.options(),
                    BackendProxy.wrap(backend, t.classLoader(), t.pluginId(), name));
        } catch (BackendException e) {
            String key = "runtimes." + name + ".options";
            throw new ConfigException(loaded.where(key) + "runtimes." + name + ": " + e.getMessage());
        } catch (RuntimeException | LinkageError e) {
            throw new ConfigException("runtimes." + name + ": plugin " + t.pluginId() + " failed to create the "
                    + "backend: " + e.getClass().getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    /**
     * The handler for a {@code runtime_handler} from RunPodSandbox; empty means the default.
     * An unknown name is INVALID_ARGUMENT listing the configured handlers.
     */
    public Handler resolve(String runtimeHandler) {
        String name = runtimeHandler == null || runtimeHandler.isEmpty() ? defaultName : runtimeHandler;
        Handler h = active.get(name);
        if (h == null) {
            throw BackendException.invalid("unknown runtime handler \"" + runtimeHandler + "\"; configured handlers: "
                    + String.join(", ", active.keySet()) + " (default: " + defaultName + ")");
        }
        return h;
    }

    /** The current handler with this name, or a retired one if no current one has it; null if none. */
    public Handler byName(String name) {
        Handler h = active.get(name);
        if (h != null) {
            return h;
        }
        lock.lock();
        try {
            for (int i = retired.size() - 1; i >= 0; i--) {
                if (retired.get(i).name().equals(name)) {
                    return retired.get(i);
                }
            }
        } finally {
            lock.unlock();
        }
        return null;
    }

    public SortedMap<String, Handler> active() {
        return active;
    }

    public String defaultName() {
        return defaultName;
    }

    @Override
    public void close() {
        lock.lock();
        try {
            for (Handler h : active.values()) {
                h.backend().close();
            }
            for (Handler h : retired) {
                h.backend().close();
            }
        } finally {
            lock.unlock();
        }
    }
}
