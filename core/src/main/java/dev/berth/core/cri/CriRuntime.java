package dev.berth.core.cri;

import dev.berth.core.config.BerthConfig;
import dev.berth.core.dispatch.Dispatcher;
import dev.berth.core.dispatch.EventHub;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.store.ContainerRecord;
import dev.berth.core.store.NameIndex;
import dev.berth.core.store.RecordStore;
import dev.berth.core.store.SandboxRecord;
import dev.berth.spi.BackendEvent;
import dev.berth.spi.BackendException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The state the RPC classes share: config, stores, name index, dispatcher and event hub, plus the lookups every
 * RPC needs (find a pod or container by id or unique prefix, NOT_FOUND otherwise).
 */
public final class CriRuntime {
    private static final SecureRandom RANDOM = new SecureRandom();

    private final BerthConfig config;
    private final Dispatcher dispatcher;
    private final RecordStore<SandboxRecord> sandboxes;
    private final RecordStore<ContainerRecord> containers;
    private final NameIndex names = new NameIndex();
    private final AbandonedCreates abandoned = new AbandonedCreates(names);
    private static final int REMOVED_KEPT = 64;
    private final java.util.Map<String, SandboxRecord> removedSandboxes = java.util.Collections.synchronizedMap(
            new java.util.LinkedHashMap<>() {
                @Override
                protected boolean removeEldestEntry(java.util.Map.Entry<String, SandboxRecord> eldest) {
                    return size() > REMOVED_KEPT;
                }
            });
    /** Pods whose STOPPED went to GetContainerEvents' subscribers; each is dropped when its record goes. */
    private final java.util.Set<String> podsStopped = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final EventHub events;
    private final ContainerStateCache states;
    private final SandboxStateCache sandboxStates;
    private final RecordStore.Index<ContainerRecord> containersByPod;
    private final RecordStore.Index<ContainerRecord> containersByLabel;
    private final RecordStore.Index<SandboxRecord> sandboxesByLabel;
    private final ConcurrentHashMap<String, ReentrantLock> locks = new ConcurrentHashMap<>();
    private volatile String podCidr = "";

    public CriRuntime(BerthConfig config, Dispatcher dispatcher, RecordStore<SandboxRecord> sandboxes,
                      RecordStore<ContainerRecord> containers, EventHub events) {
        this.config = config;
        this.dispatcher = dispatcher;
        this.sandboxes = sandboxes;
        this.containers = containers;
        this.events = events;
        sandboxes.all().forEach(s -> names.reserve(s.nameKey(), s.id()));
        containers.all().forEach(c -> names.reserve(c.nameKey(), c.id()));
        this.states = new ContainerStateCache(new ContainerStateCache.Source() {
            @Override
            public boolean evented(ContainerRecord c) {
                Handler h = sandboxes.get(c.sandboxId()).map(dispatcher::forSandboxOrNull).orElse(null);
                return h != null && h.has(dev.berth.spi.EventSource.class);
            }

            @Override
            public dev.berth.spi.ContainerStatus fetch(ContainerRecord c) {
                return liveStatus(c);
            }
        });
        containers.listen((before, after) -> {
            if (before == null) {
                states.track(after.id());
            } else if (after == null) {
                states.forget(before.id());
            }
        });
        containers.all().forEach(c -> states.track(c.id()));
        events.listen(states);
        this.sandboxStates = new SandboxStateCache(new SandboxStateCache.Source() {
            @Override
            public boolean evented(SandboxRecord s) {
                Handler h = dispatcher.forSandboxOrNull(s);
                return h != null && h.backend() instanceof dev.berth.spi.SandboxEventSource events
                        && events.reportsEnd(s.id());
            }

            @Override
            public dev.berth.spi.SandboxStatus fetch(SandboxRecord s) {
                return dispatcher.forSandbox(s).backend().sandboxStatus(s.id());
            }
        });
        sandboxes.listen((before, after) -> {
            if (before == null) {
                sandboxStates.track(after.id());
            } else if (after == null) {
                sandboxStates.forget(before.id());
            }
        });
        sandboxes.listen(this::announce);
        events.forwardOnly(this::firstStopOfPod);
        sandboxes.all().forEach(s -> sandboxStates.track(s.id()));
        events.listen(sandboxStates);
        this.containersByPod = containers.index(c -> java.util.List.of(c.sandboxId()));
        this.containersByLabel = containers.index(c -> labelKeys(c.labels()));
        this.sandboxesByLabel = sandboxes.index(s -> labelKeys(s.labels()));
    }

    /** The index keys of a record's labels: {@code key=value} each. */
    public static java.util.List<String> labelKeys(java.util.Map<String, String> labels) {
        return labels.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
    }

    /** A container's status from its backend, or UNKNOWN (with the reason) when the backend cannot say. */
    private dev.berth.spi.ContainerStatus liveStatus(ContainerRecord c) {
        try {
            return handlerOf(c).backend().containerStatus(c.id());
        } catch (BackendException e) {
            return new dev.berth.spi.ContainerStatus(c.id(), dev.berth.spi.ContainerStatus.State.UNKNOWN,
                    c.createdAt(), null, null, 0, "Unknown", e.getMessage(), 0, java.util.Map.of());
        }
    }

    /** Containers' last statuses, kept current by their backends' events ({@link ContainerStateCache}). */
    public ContainerStateCache containerStates() {
        return states;
    }

    /** Sandboxes' last statuses and ends, kept by their backends' events ({@link SandboxStateCache}). */
    public SandboxStateCache sandboxStates() {
        return sandboxStates;
    }

    /**
     * A pod's lifecycle for {@code GetContainerEvents}, as the kubelet's evented PLEG and containerd know it: created
     * and started once it is READY, stopped once it is no longer, deleted once its record is gone. The record of a
     * deleted pod is kept for a while, so that its event still carries the pod's status.
     */
    private void announce(SandboxRecord before, SandboxRecord after) {
        boolean wasReady = before != null && before.state() == SandboxRecord.State.READY;
        if (after == null) {
            if (before != null) {
                removedSandboxes.put(before.id(), before);
                podsStopped.remove(before.id());
                events.announce(new BackendEvent(BackendEvent.Type.DELETED, before.id(), before.id(), null));
            }
        } else if (after.state() == SandboxRecord.State.READY && !wasReady) {
            events.announce(new BackendEvent(BackendEvent.Type.CREATED, after.id(), after.id(), null));
            events.announce(new BackendEvent(BackendEvent.Type.STARTED, after.id(), after.id(), null));
        } else if (after.state() != SandboxRecord.State.READY && wasReady) {
            events.announce(new BackendEvent(BackendEvent.Type.STOPPED, after.id(), after.id(), null));
        }
    }

    /**
     * Whether an event goes to GetContainerEvents' subscribers: all do but a pod's second STOPPED. A pod's end is
     * seen twice when it is stopped: its record leaves READY, and a backend that reports its sandboxes' ends
     * publishes the end of the pod's process. A pod never runs again, so it is told once. A STOPPED that comes after
     * the pod's record is gone is not told at all (its DELETED went out already).
     */
    private boolean firstStopOfPod(BackendEvent e) {
        if (e.type() != BackendEvent.Type.STOPPED || !e.containerId().equals(e.sandboxId())) {
            return true;
        }
        if (!podsStopped.add(e.sandboxId())) {
            return false;
        }
        if (sandboxes.get(e.sandboxId()).isEmpty()) { // removed meanwhile: its DELETED dropped it, or will not
            podsStopped.remove(e.sandboxId());
            return false;
        }
        return true;
    }

    /** The record of a pod removed lately (the last {@value #REMOVED_KEPT}), or empty. */
    public java.util.Optional<SandboxRecord> removedSandbox(String id) {
        return java.util.Optional.ofNullable(removedSandboxes.get(id));
    }

    /** The ids of the containers of a pod (by full pod id). */
    public java.util.Set<String> containerIdsOf(String sandboxId) {
        return containersByPod.get(sandboxId);
    }

    /** The ids of the containers with label {@code key=value}. */
    public java.util.Set<String> containerIdsLabelled(String key, String value) {
        return containersByLabel.get(key + "=" + value);
    }

    /** The ids of the pods with label {@code key=value}. */
    public java.util.Set<String> sandboxIdsLabelled(String key, String value) {
        return sandboxesByLabel.get(key + "=" + value);
    }

    public static String newId() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    public BerthConfig config() {
        return config;
    }

    public Dispatcher dispatcher() {
        return dispatcher;
    }

    public RecordStore<SandboxRecord> sandboxes() {
        return sandboxes;
    }

    public RecordStore<ContainerRecord> containers() {
        return containers;
    }

    public NameIndex names() {
        return names;
    }

    /** The pods and containers whose creator gave up waiting, kept for its retry. */
    public AbandonedCreates abandonedCreates() {
        return abandoned;
    }

    public EventHub events() {
        return events;
    }

    public String podCidr() {
        return podCidr;
    }

    public void podCidr(String cidr) {
        this.podCidr = cidr;
    }

    /**
     * The sandbox with this id or unique id prefix; INVALID_ARGUMENT if empty or malformed ({@link Validation#id}),
     * NOT_FOUND if unknown.
     */
    public SandboxRecord sandbox(String idOrPrefix) {
        Validation.id(idOrPrefix, "pod sandbox id");
        return sandboxes.find(idOrPrefix).orElseThrow(() -> BackendException.notFound("pod sandbox", idOrPrefix));
    }

    /**
     * The container with this id or unique id prefix; INVALID_ARGUMENT if empty or malformed ({@link Validation#id}),
     * NOT_FOUND if unknown.
     */
    public ContainerRecord container(String idOrPrefix) {
        Validation.id(idOrPrefix, "container id");
        return containers.find(idOrPrefix).orElseThrow(() -> BackendException.notFound("container", idOrPrefix));
    }

    /** The handler owning a container's pod. */
    public Handler handlerOf(ContainerRecord c) {
        return dispatcher.forSandbox(sandbox(c.sandboxId()));
    }

    /**
     * The handler of a pod for a Stop or Remove, or null when it cannot be reached (its handler is not configured);
     * then the reason is recorded on {@code cleanup} as a failed step, so that the rest of the cleanup still runs.
     */
    public Handler handlerFor(SandboxRecord sandbox, Cleanup cleanup, String step) {
        try {
            return dispatcher.forSandbox(sandbox);
        } catch (BackendException e) {
            cleanup.fail(step, e);
            return null;
        }
    }

    /**
     * Runs a backend call for a container core lists. The backend answering NOT_FOUND means it has no such
     * container although core has its record (berth was killed while creating it, or the backend lost it):
     * the container is listed in state CONTAINER_UNKNOWN, and a listed object is never "not found". That becomes
     * FAILED_PRECONDITION naming the state and the way out (RemoveContainer cleans it up).
     */
    public <T> T onContainer(ContainerRecord c, Handler h, String action, java.util.function.Supplier<T> call) {
        return listed(call, "cannot " + action + " container \"" + c.id() + "\": it is listed in state "
                + "CONTAINER_UNKNOWN, as runtime handler \"" + h.name() + "\" has no such container (was berth stopped "
                + "while creating it?); remove it with RemoveContainer");
    }

    /** {@link #onContainer(ContainerRecord, Handler, String, java.util.function.Supplier)} for a call without result. */
    public void onContainer(ContainerRecord c, Handler h, String action, Runnable call) {
        onContainer(c, h, action, () -> {
            call.run();
            return null;
        });
    }

    /**
     * Runs a backend call for a pod core lists; NOT_FOUND from the backend (it has no such sandbox, e.g. one cut
     * off mid-RunPodSandbox by a kill) becomes FAILED_PRECONDITION naming the state, as for containers.
     */
    public <T> T onSandbox(SandboxRecord s, Handler h, String action, java.util.function.Supplier<T> call) {
        return listed(call, "cannot " + action + " pod sandbox \"" + s.id() + "\": it is not ready "
                + "(SANDBOX_NOTREADY), as runtime handler \"" + h.name() + "\" has no such sandbox (was berth stopped "
                + "while creating it?); remove it with RemovePodSandbox");
    }

    /** {@code call}, with the backend's NOT_FOUND for an object core lists turned into FAILED_PRECONDITION. */
    private static <T> T listed(java.util.function.Supplier<T> call, String message) {
        try {
            return call.get();
        } catch (BackendException e) {
            if (e.kind() != BackendException.Kind.NOT_FOUND) {
                throw e;
            }
            throw new BackendException(BackendException.Kind.FAILED_PRECONDITION,
                    message + " (" + e.getMessage() + ")", e);
        }
    }

    /**
     * A per-object lock, so that operations on one pod or container do not interleave (e.g. a Stop racing a
     * Remove). Locks are never removed; they are small and ids are not reused.
     */
    public ReentrantLock lockFor(String id) {
        return locks.computeIfAbsent(id, k -> new ReentrantLock());
    }

    /** Drops the lock of a removed object. */
    public void forgetLock(String id) {
        locks.remove(id);
    }
}
