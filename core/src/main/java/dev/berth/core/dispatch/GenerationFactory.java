package dev.berth.core.dispatch;

import dev.berth.core.config.BerthConfig;
import dev.berth.core.config.ConfigException;
import dev.berth.core.config.ConfigLoader;
import dev.berth.core.plugin.BackendType;
import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendException;
import dev.berth.spi.RuntimeBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * Creates handler generations: persists the generation's type and options ({@link GenerationStore}), then has the
 * plugin's factory create the backend in the plugin's class loader, wrapped in a {@link BackendProxy}. Holds no
 * state of the table; {@link HandlerRegistry} decides which generations exist.
 */
final class GenerationFactory {
    private static final System.Logger LOG = System.getLogger(GenerationFactory.class.getName());

    private final GenerationStore store;
    private final Path root;
    private final BackendContext.EventSink events;
    private final BackendProxy.Observer observer;

    GenerationFactory(GenerationStore store, Path root, BackendContext.EventSink events,
                      BackendProxy.Observer observer) {
        this.store = store;
        this.root = root;
        this.events = events;
        this.observer = observer;
    }

    /** Checks that every handler's type is provided by one of {@code types}. */
    static void validateTypes(ConfigLoader.Loaded loaded, Map<String, BackendType> types) {
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

    /** Creates a configured handler's generation; a failure is a {@link ConfigException} naming the handler. */
    Handler create(String name, int generation, BackendType t, BerthConfig.Handler cfg, ConfigLoader.Loaded loaded) {
        try {
            Handler h = instantiate(name, generation, t, cfg.type(), cfg.options());
            LOG.log(System.Logger.Level.INFO, "handler \"{0}\": type {1} from plugin {2} {3}", h.label(), cfg.type(),
                    t.pluginId(), t.pluginVersion());
            return h;
        } catch (BackendException e) {
            String key = "runtimes." + name + ".options";
            throw new ConfigException(loaded.where(key) + "runtimes." + name + ": " + e.getMessage());
        } catch (RuntimeException | LinkageError e) {
            throw new ConfigException("runtimes." + name + ": plugin " + t.pluginId() + " failed to create the "
                    + "backend: " + e.getClass().getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Persists the generation, then creates its backend. A failed create deletes the state directory only if it
     * made it, and the persisted entry only if it wrote it: a directory from before (pods of a generation 0 from
     * before generations existed) is never touched.
     */
    Handler instantiate(String name, int generation, BackendType t, String type, Map<String, Object> options) {
        Path dir = store.stateDir(name, generation);
        boolean hadDir = Files.exists(dir);
        boolean hadEntry = store.exists(name, generation);
        store.save(new GenerationStore.Entry(name, generation, type, options));
        try {
            var ctx = CoreBackendContext.create(name, t.pluginId(), dir, root, events);
            RuntimeBackend backend = BackendProxy.withLoader(t.classLoader(),
                    () -> t.factory().create(name, options, ctx));
            if (backend == null) {
                throw new ConfigException("runtimes." + name + ": plugin " + t.pluginId() + " returned no backend");
            }
            String label = generation == 0 ? name : name + "@" + generation;
            Handler h = new Handler(name, type, t.pluginId(), t.pluginVersion(), options,
                    BackendProxy.wrap(backend, t.classLoader(), t.pluginId(), label, name, observer), generation);
            return h;
        } catch (RuntimeException | LinkageError e) {
            if (!hadDir) {
                store.delete(name, generation);
            } else if (!hadEntry) {
                store.forget(name, generation);
            }
            throw e;
        }
    }
}
