package dev.berth.core.cri.containerd02;

import dev.berth.containerd.v02.Event;
import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.Validation;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.dispatch.HandlerRegistry;
import dev.berth.core.store.RecordStore;
import dev.berth.spi.BackendException;
import dev.berth.spi.BundleRunning;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What the containerd 0.2 API's RPC classes share: core's records of its containers, the handler whose backend
 * runs them ({@code [legacy] containerd_api_handler}, the default handler if empty) through the optional
 * {@link BundleRunning} capability, and the subscribers of {@code Events}. As in containerd 0.2, a container whose
 * main process exited is deleted: its exit event is published once it is gone.
 */
public final class ContainerdRuntime {
    private static final System.Logger LOG = System.getLogger(ContainerdRuntime.class.getName());
    /** Events a slow {@code Events} client may fall behind by before it loses some. */
    private static final int QUEUE = 1024;
    /** The capability's name in UNIMPLEMENTED answers. */
    static final String CAPABILITY = "running OCI bundles for the containerd 0.2 API";
    /** How a container is bound to its handler generation, apart from pod ids. */
    private static final String KEY = "containerd02:";

    private final HandlerRegistry registry;
    private final String handlerName;
    private final RecordStore<BundleRecord> records;
    private final CriRuntime cri;
    private final List<BlockingQueue<Event>> subscribers = new CopyOnWriteArrayList<>();
    private final Set<BundleRunning> wired = Collections.newSetFromMap(new IdentityHashMap<>());

    public ContainerdRuntime(HandlerRegistry registry, String handlerName, RecordStore<BundleRecord> records,
                             CriRuntime cri) {
        this.registry = registry;
        this.handlerName = handlerName;
        this.records = records;
        this.cri = cri;
    }

    /** Core's records, for tests. */
    public RecordStore<BundleRecord> records() {
        return records;
    }

    /**
     * Hands each handler generation that runs a recorded container the ids it owns, before anything is served;
     * containers that exited meanwhile are then reported and deleted by the backend's events.
     */
    public void recover() {
        for (Handler h : registry.generations()) {
            List<String> ids = records.all().stream()
                    .filter(r -> r.handler().equals(h.name()) && r.generation() == h.generation())
                    .map(BundleRecord::id).toList();
            if (ids.isEmpty()) {
                continue;
            }
            ids.forEach(id -> registry.adopt(KEY + id, h.name(), h.generation()));
            if (!(h.backend() instanceof BundleRunning b)) {
                LOG.log(System.Logger.Level.WARNING, "handler \"{0}\" no longer runs bundles; {1} containerd 0.2 "
                        + "container(s) stay listed", h.label(), ids.size());
                continue;
            }
            wire(b);
            try {
                List<String> lost = b.recoverBundles(ids);
                LOG.log(System.Logger.Level.INFO, "handler \"{0}\" recovered {1} containerd 0.2 container(s); {2} lost",
                        h.label(), ids.size(), lost.size());
                for (String id : lost) {
                    LOG.log(System.Logger.Level.WARNING, "containerd 0.2 container {0} could not be recovered; its "
                            + "record is dropped", id);
                    records.get(id).ifPresent(this::release);
                    records.remove(id);
                }
            } catch (BackendException e) {
                LOG.log(System.Logger.Level.ERROR, "handler \"{0}\" failed to recover containerd 0.2 containers: {1}",
                        h.label(), e.getMessage());
            }
        }
    }

    /**
     * The handler a new container goes to, with the capability (else UNIMPLEMENTED naming what it lacks), and the
     * container bound to its newest generation as a pod is, so that no reload closes that generation under it (a
     * drained handler answers UNAVAILABLE). {@link #release} undoes the binding.
     */
    Handler claim(String id) {
        Handler h = registry.claim(KEY + id, handlerName);
        try {
            wire(h.require(BundleRunning.class, CAPABILITY));
        } catch (RuntimeException e) {
            registry.release(h, KEY + id);
            throw e;
        }
        return h;
    }

    /** Unbinds a container that is gone (or was never made) from its generation. */
    void release(BundleRecord r) {
        for (Handler h : registry.generations()) {
            if (h.name().equals(r.handler()) && h.generation() == r.generation()) {
                registry.release(h, KEY + r.id());
            }
        }
    }

    /** The record of {@code id} (checked as an id first), or NOT_FOUND. */
    BundleRecord require(String id) {
        Validation.id(id, "id");
        return records.get(id).orElseThrow(() -> BackendException.notFound("container", id));
    }

    /** The backend that runs a recorded container. */
    BundleRunning backend(BundleRecord r) {
        for (Handler h : registry.generations()) {
            if (h.name().equals(r.handler()) && h.generation() == r.generation()) {
                BundleRunning b = h.require(BundleRunning.class, CAPABILITY);
                wire(b);
                return b;
            }
        }
        throw new BackendException(BackendException.Kind.FAILED_PRECONDITION, "container \"" + r.id()
                + "\" belongs to handler \"" + r.handler() + "\" generation " + r.generation()
                + ", which is no longer configured");
    }

    /** Whether {@code id} names a CRI pod or container: the two APIs never share an id. */
    boolean usedByCri(String id) {
        return cri.sandboxes().get(id).isPresent() || cri.containers().get(id).isPresent();
    }

    Path bundleOf(BundleRecord r) {
        return Path.of(r.bundlePath());
    }

    /** How many {@code Events} calls are subscribed; for tests. */
    public int subscribers() {
        return subscribers.size();
    }

    BlockingQueue<Event> subscribe() {
        BlockingQueue<Event> q = new ArrayBlockingQueue<>(QUEUE);
        subscribers.add(q);
        return q;
    }

    void unsubscribe(BlockingQueue<Event> q) {
        subscribers.remove(q);
    }

    void publish(Event e) {
        for (BlockingQueue<Event> q : subscribers) {
            if (!q.offer(e)) {
                LOG.log(System.Logger.Level.WARNING, "an Events client fell behind; event {0} of {1} dropped",
                        e.getType(), e.getId());
            }
        }
    }

    private synchronized void wire(BundleRunning b) {
        if (wired.add(b)) {
            b.bundleEvents(this::onBackendEvent);
        }
    }

    private void onBackendEvent(BundleRunning.BundleEvent e) {
        BundleRecord rec = records.get(e.id()).orElse(null);
        if (rec == null) {
            return;
        }
        switch (e.type()) {
            case EXIT -> {
                if (BundleRunning.INIT.equals(e.processId())) {
                    // As containerd 0.2 does: the container goes with its main process.
                    try {
                        backend(rec).deleteBundle(rec.id());
                        records.remove(rec.id());
                        release(rec);
                    } catch (BackendException ex) {
                        LOG.log(System.Logger.Level.WARNING, "deleting exited containerd 0.2 container {0}: {1}",
                                rec.id(), ex.getMessage());
                    }
                }
                publish(event("exit", rec).setPid((int) e.pid()).setStatus(e.status()).build());
            }
            case OOM -> publish(event("oom", rec).setPid((int) e.pid()).build());
            case START -> publish(event("start-process", rec).setPid((int) e.pid()).build());
            case PAUSE -> publish(event("pause", rec).build());
            case RESUME -> publish(event("resume", rec).build());
        }
    }

    static Event.Builder event(String type, BundleRecord rec) {
        return Event.newBuilder().setType(type).setId(rec.id()).setBundlePath(rec.bundlePath());
    }

    /** For State: every record, in id order. */
    List<BundleRecord> all() {
        List<BundleRecord> all = new ArrayList<>(records.all());
        all.sort(java.util.Comparator.comparing(BundleRecord::id));
        return all;
    }
}
