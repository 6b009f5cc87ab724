package dev.berth.core.cri;

import dev.berth.core.store.SandboxRecord;
import dev.berth.core.util.NonBlocking;
import dev.berth.spi.BackendEvent;
import dev.berth.spi.SandboxStatus;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The last status each sandbox's backend gave, for a backend that reports the end of a sandbox's own process
 * (the SPI's {@code SandboxEventSource}), so that PodSandboxStatus answers from memory and ListPodSandbox shows a
 * sandbox whose pause process or VM ended as NOTREADY, as a kubelet's relist must see to recreate the pod.
 *
 * <p>A status is kept only for a sandbox whose backend reports its end ({@link Source#evented}, asked once per
 * sandbox), and only until something may have changed it: core's stop ({@link #invalidate}) or the backend's end
 * event drop it, and the next read asks the backend once. The end event also marks the sandbox ended for good:
 * ListPodSandbox shows it NOTREADY from then on without asking anything. A read that raced a change (it asked
 * before the change and got its answer after) does not keep its answer: each sandbox has a version that every
 * change bumps. A failed answer is never kept. For a backend without sandbox events every read asks it.
 *
 * <p>The sandboxes are those of the record store ({@link #track}, {@link #forget}, kept in step by its listener):
 * a removed sandbox leaves nothing behind.
 */
public final class SandboxStateCache implements Consumer<BackendEvent> {

    /** Where statuses come from. */
    public interface Source {
        /** Whether the sandbox's backend publishes its end; may ask the backend, so never called inline. */
        boolean evented(SandboxRecord s);

        /** The sandbox's status from its backend; throws {@code BackendException} when it cannot say. */
        SandboxStatus fetch(SandboxRecord s);
    }

    private static final class Slot {
        long version;
        SandboxStatus status; // null: not kept
        Boolean evented; // null: not asked yet
        boolean ended;
        boolean gone;
    }

    private final Source source;
    private final Map<String, Slot> slots = new ConcurrentHashMap<>();
    private final AtomicLong changes = new AtomicLong();

    public SandboxStateCache(Source source) {
        this.source = source;
    }

    /** Starts keeping a sandbox core has a record of. */
    public void track(String id) {
        slots.computeIfAbsent(id, k -> new Slot());
    }

    /** Forgets a removed sandbox. */
    public void forget(String id) {
        Slot s = slots.remove(id);
        if (s != null) {
            synchronized (s) {
                s.gone = true;
                drop(s);
            }
        }
    }

    /** Drops the kept status of a sandbox that may have changed (core stopped it); the next read asks its backend. */
    public void invalidate(String id) {
        Slot s = slots.get(id);
        if (s != null) {
            synchronized (s) {
                s.version++;
                drop(s);
            }
        }
    }

    /** The backend's event that a sandbox's own process ended: a STOPPED whose container is the sandbox itself. */
    public static boolean sandboxEnded(BackendEvent e) {
        return e.type() == BackendEvent.Type.STOPPED && e.containerId().equals(e.sandboxId());
    }

    @Override
    public void accept(BackendEvent e) {
        if (!sandboxEnded(e)) {
            return;
        }
        Slot s = slots.get(e.sandboxId());
        if (s != null) {
            synchronized (s) {
                s.version++;
                drop(s);
                if (!s.ended) {
                    s.ended = true;
                    changes.incrementAndGet();
                }
            }
        }
    }

    /**
     * The sandbox's status: the kept one, else its backend's (kept if its backend reports the sandbox's end and
     * nothing changed while it asked). Throws what the backend throws.
     */
    public SandboxStatus status(SandboxRecord r) {
        Slot s = slots.get(r.id());
        if (s != null) {
            synchronized (s) {
                if (s.status != null) {
                    return s.status;
                }
            }
        }
        NonBlocking.beforeBlocking();
        return ask(r, s);
    }

    /**
     * Asks the backend for a sandbox's status now and keeps it where it may: right after core started the sandbox,
     * so that the kubelet's first PodSandboxStatus finds it kept.
     */
    public SandboxStatus settle(SandboxRecord r) {
        return ask(r, slots.get(r.id()));
    }

    private SandboxStatus ask(SandboxRecord r, Slot s) {
        if (s == null) {
            return source.fetch(r);
        }
        long version;
        Boolean evented;
        synchronized (s) {
            version = s.version;
            evented = s.evented;
        }
        if (evented == null) {
            evented = source.evented(r);
        }
        SandboxStatus live = source.fetch(r);
        synchronized (s) {
            s.evented = evented;
            if (evented && !s.gone && s.version == version) {
                s.status = live;
                changes.incrementAndGet();
            }
        }
        return live;
    }

    /**
     * Whether ListPodSandbox must show the sandbox NOTREADY although its record is ready: its backend reported its
     * end, or the status kept says so. From memory alone.
     */
    public boolean notReady(String id) {
        Slot s = slots.get(id);
        if (s == null) {
            return false;
        }
        synchronized (s) {
            return s.ended || (s.status != null && s.status.state() != SandboxStatus.State.READY);
        }
    }

    /** Whether a status is kept for the sandbox. */
    public boolean settled(String id) {
        Slot s = slots.get(id);
        if (s == null) {
            return false;
        }
        synchronized (s) {
            return s.status != null;
        }
    }

    /**
     * A number that grows whenever a kept status or an end changes: a list built from them is still true while it,
     * and the records', stay the same.
     */
    public long changes() {
        return changes.get();
    }

    /** How many sandboxes are tracked (for tests: none is left behind by a removed one). */
    public int size() {
        return slots.size();
    }

    /**
     * Asks the backends for every ready sandbox whose status is not kept (after a restart: a pause process may have
     * ended while berth was down), and again for every kept one (the safety net against an end a backend failed to
     * report, run every minute); returns how many kept statuses had changed. Off the RPC path.
     */
    public int refresh(Function<String, SandboxRecord> records) {
        int changed = 0;
        for (String id : List.copyOf(slots.keySet())) {
            Slot s = slots.get(id);
            SandboxRecord r = records.apply(id);
            if (s == null || r == null || r.state() != SandboxRecord.State.READY) {
                continue;
            }
            SandboxStatus before;
            synchronized (s) {
                before = s.status;
                if (s.ended || (s.evented != null && !s.evented)) {
                    continue;
                }
            }
            try {
                SandboxStatus live = ask(r, s);
                if (before != null && live.state() != before.state()) {
                    changed++;
                }
            } catch (RuntimeException e) {
                invalidate(id); // the backend cannot say now: the next read asks it
            }
        }
        return changed;
    }

    /** Under the slot's lock. */
    private void drop(Slot s) {
        if (s.status != null) {
            s.status = null;
            changes.incrementAndGet();
        }
    }
}
