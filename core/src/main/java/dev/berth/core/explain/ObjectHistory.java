package dev.berth.core.explain;

import dev.berth.core.store.ContainerRecord;
import dev.berth.core.store.RecordStore;
import dev.berth.core.store.SandboxRecord;
import dev.berth.spi.BackendEvent;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * A bounded history of each pod and container, for {@code berth explain}: record writes (state changes), the
 * backend's container events, the RPCs that changed it and the last errors of RPCs on it. A history lives as long
 * as its record and is dropped with it, except for objects whose creation failed and was rolled back (a pod that
 * never became ready, a container that never started): the newest {@value #FAILED} of those are kept, so that an
 * operator can still ask why a RunPodSandbox or CreateContainer failed after its record is gone.
 */
public final class ObjectHistory {
    static final int EVENTS = 50;
    static final int ERRORS = 8;
    static final int FAILED = 32;

    /** One thing that happened. */
    public record Entry(Instant at, String what) {}

    /** What is known of one object; a copy. */
    public record View(String kind, String id, String name, List<Entry> events, List<Entry> errors, boolean removed) {}

    private static final class Log {
        final String kind;
        final String id;
        final String name;
        final Deque<Entry> events = new ArrayDeque<>();
        final Deque<Entry> errors = new ArrayDeque<>();
        volatile boolean succeeded;
        volatile boolean removed;

        Log(String kind, String id, String name) {
            this.kind = kind;
            this.id = id;
            this.name = name;
        }

        synchronized void event(String what) {
            add(events, EVENTS, what);
        }

        synchronized void error(String what) {
            add(events, EVENTS, what);
            add(errors, ERRORS, what);
        }

        private static void add(Deque<Entry> d, int max, String what) {
            d.addLast(new Entry(Instant.now(), what));
            while (d.size() > max) {
                d.removeFirst();
            }
        }

        synchronized View view() {
            return new View(kind, id, name, List.copyOf(events), List.copyOf(errors), removed);
        }
    }

    private final Map<String, Log> live = new ConcurrentHashMap<>();
    private final LinkedHashMap<String, Log> failed = new LinkedHashMap<>();

    /** Follows the pod records. */
    public RecordStore.Listener<SandboxRecord> sandboxes() {
        return new RecordStore.Listener<>() {
            @Override
            public void written(SandboxRecord old, SandboxRecord now) {
                Log log = live.computeIfAbsent(now.id(), id -> new Log("pod", id, now.nameKey()));
                if (old == null) {
                    log.event("record written: " + now.state() + " on handler " + now.handler() + " (generation "
                            + now.generation() + ", plugin " + now.pluginId() + ")");
                } else if (old.state() != now.state()) {
                    log.event("state " + old.state() + " -> " + now.state());
                } else {
                    log.event("record updated (" + now.state() + ")");
                }
                if (now.state() == SandboxRecord.State.READY) {
                    log.succeeded = true;
                }
            }

            @Override
            public void removed(SandboxRecord old) {
                gone(old.id(), "record removed");
            }
        };
    }

    /** Follows the container records. */
    public RecordStore.Listener<ContainerRecord> containers() {
        return new RecordStore.Listener<>() {
            @Override
            public void written(ContainerRecord old, ContainerRecord now) {
                Log log = live.computeIfAbsent(now.id(), id -> new Log("container", id, now.name()));
                log.event(old == null ? "record written: image " + now.image() + " in pod " + now.sandboxId()
                        : "record updated");
            }

            @Override
            public void removed(ContainerRecord old) {
                gone(old.id(), "record removed");
            }
        };
    }

    private void gone(String id, String what) {
        Log log = live.remove(id);
        if (log == null || log.succeeded) {
            return; // removed with its object
        }
        log.event(what + " before it " + ("pod".equals(log.kind) ? "became ready" : "started")
                + ": its creation failed or was undone");
        log.removed = true;
        synchronized (failed) {
            failed.put(id, log);
            while (failed.size() > FAILED) {
                failed.remove(failed.keySet().iterator().next());
            }
        }
    }

    /** Follows the backends' container events, and the ends of sandboxes' own processes. */
    public Consumer<BackendEvent> events() {
        return e -> {
            if (dev.berth.core.cri.SandboxStateCache.sandboxEnded(e)) {
                Log pod = live.get(e.sandboxId());
                if (pod != null) {
                    pod.event("backend event: the sandbox's own process ended");
                }
                return;
            }
            Log c = live.get(e.containerId());
            if (c != null) {
                if (e.type() == BackendEvent.Type.STARTED) {
                    c.succeeded = true;
                }
                c.event("backend event: container " + e.type());
            }
            Log p = e.sandboxId().isEmpty() ? null : live.get(e.sandboxId());
            if (p != null && c != null) {
                p.event("backend event: container " + c.name + " " + e.type());
            }
        };
    }

    /**
     * An RPC that touched {@code pod} and/or {@code container} ended: one event on the container (else the pod);
     * a failure also goes to the object's last errors. Nothing for objects without a history.
     */
    public void rpc(String method, String pod, String container, String code, String message, long nanos) {
        Log log = find(container.isEmpty() ? pod : container);
        if (log == null && !container.isEmpty()) {
            log = find(pod);
        }
        if (log == null) {
            return;
        }
        String took = String.format(" (%.1f ms)", nanos / 1e6);
        if ("OK".equals(code)) {
            log.event(method + " OK" + took);
        } else {
            log.error(method + " failed: " + code + (message == null || message.isEmpty() ? "" : ": " + message)
                    + took);
        }
    }

    private Log find(String id) {
        if (id == null || id.isEmpty()) {
            return null;
        }
        Log log = live.get(id);
        if (log != null) {
            return log;
        }
        synchronized (failed) {
            return failed.get(id);
        }
    }

    /** The history of a pod or container with a record. */
    public Optional<View> of(String id) {
        Log log = live.get(id);
        return log == null ? Optional.empty() : Optional.of(log.view());
    }

    /**
     * Failed creations whose record is gone, newest first, whose id starts with {@code query} or whose name is
     * {@code query} (a pod's name, or namespace/name, or its full name key; a container's name).
     */
    public List<View> failed(String query) {
        List<View> out = new ArrayList<>();
        synchronized (failed) {
            for (Log log : failed.values()) {
                if (log.id.startsWith(query) || matchesName(log, query)) {
                    out.addFirst(log.view());
                }
            }
        }
        return out;
    }

    private static boolean matchesName(Log log, String query) {
        if (log.name.equals(query)) {
            return true;
        }
        if (!"pod".equals(log.kind)) {
            return false;
        }
        String[] key = log.name.split("_", -1); // name_namespace_uid_attempt
        return key.length >= 2 && (key[0].equals(query) || (key[1] + "/" + key[0]).equals(query));
    }
}
