package dev.berth.core.dispatch;

import dev.berth.core.config.BerthConfig;
import dev.berth.core.config.ConfigLoader;
import dev.berth.core.plugin.BackendType;
import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendException;
import dev.berth.core.store.SandboxRecord;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The handler table: handler name to live backend, built from config and the loaded backend types, and the
 * lifecycle of each handler's backend <em>generations</em>.
 *
 * <p>New pods resolve their handler here and are bound to the newest generation of it. Existing pods never
 * re-resolve: the {@link Dispatcher} routes them to the generation that created them. A reload that changes a
 * handler's type or options creates a new generation: a new backend with a state directory of its own (see
 * {@link GenerationStore}), so two backend instances never share one. The old generation is retired: it keeps
 * serving its pods and is closed, and its state directory deleted, when the last of them is removed. A handler
 * removed from config is retired the same way. A generation is never closed while a pod is bound to it, and a
 * pod is bound from the moment RunPodSandbox picks its handler ({@link #claim}).
 *
 * <p>At startup ({@link #open}) every generation that still owns a pod record is re-created with the type and
 * options it was created with, whatever the config says now; the config decides only the newest generation.
 *
 * <p>Each generation remembers the plugin archive (class loader) its backend type came from. A reload with new
 * types ({@link #apply(ConfigLoader.Loaded, Map)}, after a plugins rescan) gives a handler whose type now comes from
 * another archive a new generation, so new pods use the newer plugin and old pods keep the old one;
 * {@link #loadersInUse} tells the plugin host which retiring plugins it may unload, and
 * {@link #onGenerationClosed} lets it do so when a generation closes. A drained handler ({@link HandlerDrains})
 * refuses new pods in {@link #claim}.
 */
public final class HandlerRegistry implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(HandlerRegistry.class.getName());

    private volatile Map<String, BackendType> types;
    private final GenerationStore store;
    private final GenerationFactory factory;
    private final ReentrantLock lock = new ReentrantLock();
    private volatile SortedMap<String, Handler> active = new TreeMap<>();
    private volatile String defaultName;
    /** Every open generation, active or retired. Guarded by {@link #lock}. */
    private final List<Handler> live = new ArrayList<>();
    /** The pods bound to each open generation. Guarded by {@link #lock}. */
    private final Map<Handler, Set<String>> pods = new IdentityHashMap<>();
    /** The backend type (plugin archive) each open generation was created from. Guarded by {@link #lock}. */
    private final Map<Handler, BackendType> origins = new IdentityHashMap<>();
    private final HandlerDrains drains;
    private volatile Runnable onClosed = () -> {};
    private boolean opened;

    public HandlerRegistry(Map<String, BackendType> types, Path state, Path root, BackendContext.EventSink events) {
        this(types, state, root, events, BackendProxy.Observer.NONE);
    }

    /** With every backend call reported to {@code observer} (the metrics). */
    public HandlerRegistry(Map<String, BackendType> types, Path state, Path root, BackendContext.EventSink events,
                           BackendProxy.Observer observer) {
        this.types = Map.copyOf(types);
        this.store = new GenerationStore(state);
        this.factory = new GenerationFactory(store, root, events, observer);
        this.drains = new HandlerDrains(root);
    }

    /** Called (outside the lock) after a retired generation was closed, e.g. to unload a plugin no longer used. */
    public void onGenerationClosed(Runnable action) {
        this.onClosed = action == null ? () -> {} : action;
    }

    /**
     * Checks that every handler's type is provided by a loaded plugin, before anything is created.
     * The error names the file and line of the handler's {@code type} key.
     */
    public void validateTypes(ConfigLoader.Loaded loaded) {
        GenerationFactory.validateTypes(loaded, types);
    }

    /**
     * Creates the handler table at startup. For each configured handler the newest persisted generation is reused
     * when its type and options are the configured ones, else a new generation is made (a handler with no
     * persisted generation, as after an upgrade from before generations, gets generation 0 and its old state
     * directory). Every other persisted generation that still owns one of {@code records} is re-created, retired,
     * with its own persisted options; one that owns none is deleted. A configured handler that cannot be created
     * stops the start; a retired generation that cannot be re-created is logged and its pods stay listed in an
     * unknown state.
     *
     * @param recordsComplete false when some sandbox record could not be read: then no generation is deleted, as
     *     it may own the pod of that record
     */
    public void open(ConfigLoader.Loaded loaded, Collection<SandboxRecord> records, boolean recordsComplete) {
        open(loaded, records, recordsComplete, List.of());
    }

    /** What else binds a generation besides a pod: a container of the containerd 0.2 API, for one. */
    public record Owner(String handler, int generation) {}

    /**
     * {@link #open(ConfigLoader.Loaded, Collection, boolean)}, with {@code others} owning generations as pods do:
     * such a generation is re-created after a restart, not deleted with the state of what still runs on it.
     */
    public void open(ConfigLoader.Loaded loaded, Collection<SandboxRecord> records, boolean recordsComplete,
                     Collection<Owner> others) {
        validateTypes(loaded);
        BerthConfig config = loaded.config();
        Set<String> owned = new HashSet<>();
        records.forEach(r -> owned.add(key(r.handler(), r.generation())));
        others.forEach(o -> owned.add(key(o.handler(), o.generation())));
        lock.lock();
        try {
            if (opened) {
                throw new IllegalStateException("handler registry already open");
            }
            List<GenerationStore.Entry> persisted = store.load();
            SortedMap<String, Handler> next = new TreeMap<>();
            List<Handler> created = new ArrayList<>();
            Set<String> kept = new HashSet<>();
            try {
                for (var e : config.runtimes().entrySet()) {
                    String name = e.getKey();
                    GenerationStore.Entry newest = persisted.stream().filter(p -> p.handler().equals(name))
                            .max(Comparator.comparingInt(GenerationStore.Entry::generation)).orElse(null);
                    int gen = newest == null ? 0 : same(newest.type(), newest.options(), e.getValue())
                            ? newest.generation() : newest.generation() + 1;
                    Handler h = create(name, gen, e.getValue(), loaded);
                    created.add(h);
                    next.put(name, h);
                    kept.add(key(name, gen));
                }
            } catch (RuntimeException e) {
                created.forEach(HandlerRegistry::closeQuietly);
                throw e;
            }
            live.addAll(created);
            for (GenerationStore.Entry p : persisted) {
                String k = key(p.handler(), p.generation());
                if (kept.contains(k)) {
                    continue;
                }
                if (owned.contains(k)) {
                    reopen(p);
                } else if (!recordsComplete) {
                    LOG.log(System.Logger.Level.WARNING, "handler \"{0}\" generation {1} owns no readable pod record, "
                            + "but some records are unreadable: keeping its state", p.handler(), p.generation());
                } else {
                    LOG.log(System.Logger.Level.INFO, "handler \"{0}\" generation {1} owns no pod; deleting its "
                            + "state", p.handler(), p.generation());
                    store.delete(p.handler(), p.generation());
                }
            }
            active = next;
            defaultName = config.defaultRuntime();
            opened = true;
        } finally {
            lock.unlock();
        }
    }

    private void reopen(GenerationStore.Entry p) {
        BackendType t = types.get(p.type());
        if (t == null) {
            LOG.log(System.Logger.Level.ERROR, "handler \"{0}\" generation {1} still owns pods, but no loaded "
                    + "plugin provides its type \"{2}\"; its pods stay listed in an unknown state", p.handler(),
                    p.generation(), p.type());
            return;
        }
        try {
            Handler h = factory.instantiate(p.handler(), p.generation(), t, p.type(), p.options());
            origins.put(h, t);
            live.add(h);
            LOG.log(System.Logger.Level.INFO, "handler \"{0}\" generation {1} re-created with its own options for "
                    + "the pods it still owns", p.handler(), p.generation());
        } catch (RuntimeException | LinkageError e) {
            LOG.log(System.Logger.Level.ERROR, "handler \"{0}\" generation {1} still owns pods but cannot be "
                    + "re-created: {2}; its pods stay listed in an unknown state", p.handler(), p.generation(),
                    e.getMessage());
        }
    }

    /**
     * Applies a new handler table (a reload): a new or changed handler gets a new generation, an unchanged one
     * keeps its backend; changed and removed handlers' old generations are retired, and closed at once if they
     * own no pods. On any error nothing changes and the error says which handler and why.
     */
    public void apply(ConfigLoader.Loaded loaded) {
        apply(loaded, types);
    }

    /**
     * Applies a new handler table with a new set of backend types (a reload after the plugins directory was
     * rescanned). A handler whose type now comes from another plugin archive (a newer version) gets a new
     * generation on it even when its options are unchanged; on error neither the table nor the types change.
     */
    public void apply(ConfigLoader.Loaded loaded, Map<String, BackendType> newTypes) {
        List<Handler> toClose = new ArrayList<>();
        Map<String, BackendType> previousTypes = types;
        lock.lock();
        try {
            GenerationFactory.validateTypes(loaded, newTypes);
            types = Map.copyOf(newTypes);
            if (!opened) {
                try {
                    open(loaded, List.of(), true);
                } catch (RuntimeException e) {
                    types = previousTypes;
                    throw e;
                }
                return;
            }
            BerthConfig config = loaded.config();
            SortedMap<String, Handler> next = new TreeMap<>();
            List<Handler> created = new ArrayList<>();
            try {
                for (var e : config.runtimes().entrySet()) {
                    Handler old = active.get(e.getKey());
                    if (old != null && same(old.type(), old.options(), e.getValue())
                            && sameOrigin(origins.get(old), types.get(e.getValue().type()))) {
                        next.put(e.getKey(), old);
                        continue;
                    }
                    Handler h = create(e.getKey(), nextGeneration(e.getKey()), e.getValue(), loaded);
                    created.add(h);
                    next.put(e.getKey(), h);
                }
            } catch (RuntimeException e) {
                for (Handler h : created) {
                    closeQuietly(h);
                    origins.remove(h);
                    if (h.generation() > 0) {
                        store.delete(h.name(), h.generation());
                    }
                }
                types = previousTypes;
                throw e;
            }
            live.addAll(created);
            for (Handler old : active.values()) {
                if (next.get(old.name()) != old) {
                    int owned = podsOf(old).size();
                    LOG.log(System.Logger.Level.INFO, "handler \"{0}\" retired; {1} existing pods keep it",
                            old.label(), owned);
                    if (owned == 0) {
                        toClose.add(old);
                    }
                }
            }
            active = next;
            defaultName = config.defaultRuntime();
            toClose.forEach(this::forget);
        } finally {
            lock.unlock();
        }
        toClose.forEach(this::retire);
    }

    private static boolean sameOrigin(BackendType a, BackendType b) {
        return a == null || b == null || a.classLoader() == b.classLoader();
    }

    private static boolean same(String type, Map<String, Object> options, BerthConfig.Handler cfg) {
        return type.equals(cfg.type()) && Objects.equals(options, cfg.options());
    }

    /** One more than any generation of {@code name} that is open or persisted. */
    private int nextGeneration(String name) {
        int max = -1;
        for (Handler h : live) {
            if (h.name().equals(name)) {
                max = Math.max(max, h.generation());
            }
        }
        for (GenerationStore.Entry e : store.load()) {
            if (e.handler().equals(name)) {
                max = Math.max(max, e.generation());
            }
        }
        return max + 1;
    }

    /** Creates a configured handler's generation on the backend type the config names. */
    private Handler create(String name, int generation, BerthConfig.Handler cfg, ConfigLoader.Loaded loaded) {
        BackendType t = types.get(cfg.type());
        Handler h = factory.create(name, generation, t, cfg, loaded);
        origins.put(h, t);
        return h;
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

    /**
     * Resolves a new pod's handler and binds {@code sandboxId} to its newest generation in one step, so that no
     * reload can close that generation before the pod is created on it.
     */
    public Handler claim(String sandboxId, String runtimeHandler) {
        lock.lock();
        try {
            Handler h = resolve(runtimeHandler);
            if (drains.isDrained(h.name())) {
                throw new BackendException(BackendException.Kind.UNAVAILABLE, "runtime handler \"" + h.name()
                        + "\" is drained: it takes no new pods while its existing pods keep running (berth handler "
                        + "undrain " + h.name() + " lifts this)");
            }
            podsOf(h).add(sandboxId);
            return h;
        } finally {
            lock.unlock();
        }
    }

    /** Binds an existing pod (at recovery) to an open generation. */
    public void attach(Handler h, String sandboxId) {
        lock.lock();
        try {
            if (isLive(h)) {
                podsOf(h).add(sandboxId);
            }
        } finally {
            lock.unlock();
        }
    }

    /** The open generation {@code generation} of handler {@code name} with {@code sandboxId} bound to it, or null. */
    public Handler adopt(String sandboxId, String name, int generation) {
        lock.lock();
        try {
            for (Handler h : live) {
                if (h.name().equals(name) && h.generation() == generation) {
                    podsOf(h).add(sandboxId);
                    return h;
                }
            }
            return null;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Unbinds a removed pod from its generation. When that was the last pod of a retired generation, the
     * generation is closed (its backend's {@code close()}) and its state directory deleted.
     */
    public void release(Handler h, String sandboxId) {
        boolean retire;
        lock.lock();
        try {
            Set<String> bound = pods.get(h);
            if (bound == null) {
                return;
            }
            bound.remove(sandboxId);
            retire = bound.isEmpty() && active.get(h.name()) != h && isLive(h);
            if (retire) {
                forget(h);
            }
        } finally {
            lock.unlock();
        }
        if (retire) {
            retire(h);
        }
    }

    private Set<String> podsOf(Handler h) {
        return pods.computeIfAbsent(h, k -> new HashSet<>());
    }

    private boolean isLive(Handler h) {
        return live.stream().anyMatch(x -> x == h);
    }

    private void forget(Handler h) {
        live.removeIf(x -> x == h);
        pods.remove(h);
        origins.remove(h);
    }

    private void retire(Handler h) {
        closeQuietly(h);
        store.delete(h.name(), h.generation());
        LOG.log(System.Logger.Level.INFO, "handler \"{0}\" closed: its last pod is gone", h.label());
        try {
            onClosed.run();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "after closing handler \"{0}\": {1}", h.label(), e.getMessage());
        }
    }

    private static void closeQuietly(Handler h) {
        try {
            h.backend().close();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "closing handler \"{0}\" failed: {1}", h.label(), e.getMessage());
        }
    }

    private static String key(String handler, int generation) {
        return handler + "@" + generation;
    }

    /** The newest generation of each configured handler. */
    public SortedMap<String, Handler> active() {
        return active;
    }

    /** Every open generation, the active ones and the retired ones that still own pods. */
    public List<Handler> generations() {
        lock.lock();
        try {
            return List.copyOf(live);
        } finally {
            lock.unlock();
        }
    }

    public String defaultName() {
        return defaultName;
    }

    /** The number of pods bound to open generation {@code h} (0 if it is not open). */
    public int podCount(Handler h) {
        lock.lock();
        try {
            Set<String> bound = pods.get(h);
            return bound == null ? 0 : bound.size();
        } finally {
            lock.unlock();
        }
    }

    /** The class loaders of the plugins whose backends some open generation uses. */
    public Set<ClassLoader> loadersInUse() {
        lock.lock();
        try {
            Set<ClassLoader> out = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
            for (Handler h : live) {
                BackendType t = origins.get(h);
                if (t != null) {
                    out.add(t.classLoader());
                }
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /** The class loader of the plugin generation {@code h} was created from, or null. */
    public ClassLoader loaderOf(Handler h) {
        lock.lock();
        try {
            BackendType t = origins.get(h);
            return t == null ? null : t.classLoader();
        } finally {
            lock.unlock();
        }
    }

    /** Which handlers take no new pods. */
    public HandlerDrains drains() {
        return drains;
    }

    /** Closes every open generation (berth stops; pods keep running). Their state stays for the next start. */
    @Override
    public void close() {
        lock.lock();
        try {
            live.forEach(HandlerRegistry::closeQuietly);
            live.clear();
            pods.clear();
            origins.clear();
        } finally {
            lock.unlock();
        }
    }
}
