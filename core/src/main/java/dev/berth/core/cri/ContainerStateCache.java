package dev.berth.core.cri;

import dev.berth.core.store.ContainerRecord;
import dev.berth.core.util.NonBlocking;
import dev.berth.spi.BackendEvent;
import dev.berth.spi.ContainerStatus;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * The last status each container's backend gave, so that ListContainers and ContainerStatus answer from memory
 * rather than asking the backend for every container on every call (the kubelet relists every second).
 *
 * <p>A status is kept only for a backend that reports its containers' exits itself ({@link Source#evented}: the
 * SPI's {@code EventSource}), and only until something may have changed it: any event for the container
 * (CREATED, STARTED, STOPPED: the backend's exit, also an OOM kill) and every Start, Stop or pod stop core runs
 * ({@link #invalidate}) drop it, and the next read asks the backend once. A read that raced such a change (it
 * asked the backend before the change and got its answer after) does not keep its answer: each container has a
 * version that every change bumps, and an answer is kept only if the version is the one the read started
 * with. An UNKNOWN answer (the backend cannot say, or cannot be reached) is never kept. For a backend without
 * events every read asks it, as before.
 *
 * <p>The containers are those of the record store ({@link #track}, {@link #forget}, kept in step by its
 * listener): a removed container leaves nothing behind. Each is either settled (a kept status, indexed by its
 * state, for ListContainers' state filter) or unsettled (the next read asks the backend).
 * {@link #refresh} asks the backend again for every settled container, a safety net against an exit the
 * backend failed to report (run every minute, off the RPC path).
 *
 * <p>Once the daemon serves, a change is settled in the background ({@link #settleInBackground}): one settle at a
 * time per container, which asks again if another change comes while it asks. Whoever asks the backend (the
 * settle or a read), the others wait for its answer (up to a few seconds) rather than ask a second time: one
 * backend call per change.
 */
public final class ContainerStateCache implements Consumer<BackendEvent> {

    /** Where statuses come from. */
    public interface Source {
        /** Whether this container's backend reports its exits, so that its status can be kept. */
        boolean evented(ContainerRecord c);

        /** The container's status from its backend; UNKNOWN (never an exception) when it cannot say. */
        ContainerStatus fetch(ContainerRecord c);
    }

    private static final class Slot {
        long version;
        ContainerStatus status; // null: unsettled
        boolean gone;
        /** A background settle is queued or asking the backend: at most one per container at a time. */
        boolean settling;
        /** A change came while the background settle was asking: it asks once more. */
        boolean again;
        /** Somebody (the background settle or a read) is asking the backend now: the others wait for its answer. */
        boolean fetching;
    }

    /** How long a read waits for the background settle's answer before it asks the backend itself. */
    private static final long READ_WAITS_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(5);

    private final Source source;
    private final Map<String, Slot> slots = new ConcurrentHashMap<>();
    private final Map<ContainerStatus.State, Set<String>> byState = new EnumMap<>(ContainerStatus.State.class);
    private final Set<String> unsettled = ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.atomic.AtomicLong changes = new java.util.concurrent.atomic.AtomicLong();
    private volatile java.util.function.BiConsumer<String, ContainerStatus> refreshed = (id, status) -> { };
    private volatile java.util.function.BiConsumer<String, ContainerStatus> settledAfterStart;
    private volatile java.util.concurrent.Executor settler;
    private volatile java.util.function.Function<String, ContainerRecord> settlerRecords;

    public ContainerStateCache(Source source) {
        this.source = source;
        for (ContainerStatus.State s : ContainerStatus.State.values()) {
            byState.put(s, ConcurrentHashMap.newKeySet());
        }
    }

    /** Starts keeping a container core has a record of (unsettled). */
    public void track(String id) {
        slots.computeIfAbsent(id, k -> {
            unsettled.add(k);
            return new Slot();
        });
    }

    /** Forgets a removed container. */
    public void forget(String id) {
        Slot s = slots.remove(id);
        if (s != null) {
            synchronized (s) {
                s.gone = true;
                unsettle(id, s);
                unsettled.remove(id);
            }
        }
    }

    /**
     * Drops the kept status of a container that may have changed; the next read asks its backend, unless the
     * background settling ({@link #settleInBackground}) has asked it first.
     */
    public void invalidate(String id) {
        Slot s = slots.get(id);
        if (s != null) {
            synchronized (s) {
                s.version++;
                unsettle(id, s);
            }
            settleSoon(id);
        }
    }

    /**
     * From now on, asks a container's backend for its status on {@code executor} as soon as a change dropped it (a
     * Start, a Stop, the backend's exit event), so that the kubelet's next relist and ContainerStatus find it kept
     * instead of asking the backend themselves, and can be answered on the transport's thread
     * ({@link dev.berth.core.cri.InlineReads}).
     */
    public void settleInBackground(java.util.concurrent.Executor executor,
                                   java.util.function.Function<String, ContainerRecord> records) {
        this.settlerRecords = records;
        this.settler = executor;
    }

    private void settleSoon(String id) {
        java.util.concurrent.Executor executor = settler;
        Slot s = slots.get(id);
        if (executor == null || s == null) {
            return;
        }
        // Several changes in a row (core's Start, then the backend's STARTED event) ask the backend once: a settle
        // already queued takes them all, and one already asking asks again when it has its answer.
        synchronized (s) {
            if (s.settling) {
                s.again = true;
                return;
            }
            s.settling = true;
        }
        var records = settlerRecords;
        try {
            executor.execute(() -> settleNow(id, s, records));
        } catch (java.util.concurrent.RejectedExecutionException closing) {
            synchronized (s) { // the daemon is closing
                s.settling = false;
            }
        }
    }

    private void settleNow(String id, Slot s, java.util.function.Function<String, ContainerRecord> records) {
        try {
            ContainerRecord c = records.apply(id);
            if (c != null && source.evented(c)) {
                for (boolean first = true; askAgain(s, first); first = false) {
                    ask(c, s, false);
                }
                return;
            }
        } catch (RuntimeException e) {
            // Not settled: the next read asks the backend itself.
        }
        synchronized (s) {
            s.settling = false;
        }
    }

    /**
     * Whether the background settle asks (again): first unless the container is settled or gone, then only if a
     * change came while it asked. When it does not, it ends under the same lock, so that a change after that queues
     * a new settle.
     */
    private static boolean askAgain(Slot s, boolean first) {
        synchronized (s) {
            boolean ask = !s.gone && s.status == null && (first || s.again);
            s.again = false;
            if (!ask) {
                s.settling = false;
            }
            return ask;
        }
    }

    @Override
    public void accept(BackendEvent e) {
        if (e.type() == BackendEvent.Type.DELETED) {
            return; // the record's removal forgets it
        }
        invalidate(e.containerId());
    }

    /** The container's status: the kept one, or its backend's (kept if its backend reports exits). */
    public ContainerStatus status(ContainerRecord c) {
        Slot s = slots.get(c.id());
        if (s == null || !source.evented(c)) {
            NonBlocking.beforeBlocking();
            return source.fetch(c);
        }
        synchronized (s) {
            if (s.status != null) {
                return s.status;
            }
        }
        NonBlocking.beforeBlocking();
        return ask(c, s, true);
    }

    /**
     * Asks the backend once per change: whoever finds the container unsettled with nobody asking asks, and keeps the
     * answer if nothing changed meanwhile; whoever finds somebody asking (the background settle right after a Start,
     * or another read) waits for that answer, up to {@link #READ_WAITS_NANOS}. After that a read asks itself, and
     * the background settle gives up (null).
     */
    private ContainerStatus ask(ContainerRecord c, Slot s, boolean read) {
        long version;
        boolean mine;
        synchronized (s) {
            long deadline = System.nanoTime() + READ_WAITS_NANOS;
            for (long left = READ_WAITS_NANOS; s.fetching && s.status == null && left > 0;
                    left = deadline - System.nanoTime()) {
                try {
                    java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(s, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            if (s.status != null) {
                return s.status;
            }
            mine = !s.fetching;
            if (!mine && !read) {
                return null;
            }
            version = s.version;
            s.fetching = true; // claimed, or (a read after the wait) already set by the one still asking
        }
        ContainerStatus live = null;
        try {
            live = source.fetch(c);
            return live;
        } finally {
            synchronized (s) {
                if (mine) {
                    s.fetching = false;
                    s.notifyAll();
                }
                if (live != null && !s.gone && s.version == version) {
                    settle(c.id(), s, live);
                }
            }
        }
    }

    /**
     * The status kept for the container without asking its backend, or null when none is (not yet read since a
     * change, or its backend reports no exits). A kept status other than RUNNING stays true until core changes the
     * container (a Start drops it); a kept RUNNING may be behind for a moment: the process may have exited and its
     * STOPPED event not arrived yet.
     */
    public ContainerStatus kept(String id) {
        Slot s = slots.get(id);
        if (s == null) {
            return null;
        }
        synchronized (s) {
            return s.status;
        }
    }

    /**
     * The ids that may be in {@code state}: the settled containers in it and every unsettled one (whose state
     * a read has to ask for). A caller checks each one's {@link #status}.
     */
    public Set<String> candidates(ContainerStatus.State state) {
        Set<String> ids = new HashSet<>(byState.get(state));
        ids.addAll(unsettled);
        return ids;
    }

    /**
     * Tells {@code listener} of each change {@link #refresh} finds (a container whose backend missed an event), so
     * that what counts containers by state (the metrics' gauge) follows it as it follows events.
     */
    public void onRefreshChange(java.util.function.BiConsumer<String, ContainerStatus> listener) {
        this.refreshed = listener;
    }

    /**
     * Asks the backend again for every settled container and keeps what it says now; returns how many had
     * changed (a backend that reports every exit gives 0).
     */
    public int refresh(java.util.function.Function<String, ContainerRecord> records) {
        int changed = 0;
        for (var e : slots.entrySet()) {
            Slot s = e.getValue();
            ContainerStatus before;
            long version;
            synchronized (s) {
                before = s.status;
                version = s.version;
            }
            ContainerRecord c = before == null ? null : records.apply(e.getKey());
            if (c == null) {
                continue;
            }
            ContainerStatus live = source.fetch(c);
            if (live.state() != before.state() || live.exitCode() != before.exitCode()
                    || !live.reason().equals(before.reason())) {
                changed++;
                boolean kept = false;
                synchronized (s) {
                    if (s.version == version && !s.gone) {
                        s.version++;
                        unsettle(e.getKey(), s);
                        settle(e.getKey(), s, live);
                        kept = true;
                    }
                }
                if (kept && live.state() != ContainerStatus.State.UNKNOWN) {
                    refreshed.accept(e.getKey(), live);
                }
            }
        }
        return changed;
    }

    /**
     * Asks the backend once for every unsettled container (each as a read would), so that the first relist after
     * a restart finds them settled; returns how many were asked. Run off the RPC path after the daemon serves: a
     * read meanwhile asks the backend itself, and an event meanwhile wins as for any read.
     */
    public int settleUnsettled(java.util.function.Function<String, ContainerRecord> records) {
        int asked = 0;
        for (String id : java.util.List.copyOf(unsettled)) {
            ContainerRecord c = records.apply(id);
            if (c != null && unsettled.contains(id) && source.evented(c)) {
                status(c);
                asked++;
            }
        }
        java.util.function.BiConsumer<String, ContainerStatus> listener = settledAfterStart;
        if (listener != null) {
            // Each container's status as a read gives it: a settled one from memory, without events from its backend.
            for (String id : java.util.List.copyOf(slots.keySet())) {
                ContainerRecord c = records.apply(id);
                if (c != null) {
                    listener.accept(id, status(c));
                }
            }
        }
        return asked;
    }

    /**
     * Tells {@code listener} every container's status once {@link #settleUnsettled} has run after the start (the
     * metrics' state gauge, for the containers from before it), so that nothing asks the backends before the daemon
     * serves, and each container's backend is asked once.
     */
    public void onSettledAfterStart(java.util.function.BiConsumer<String, ContainerStatus> listener) {
        this.settledAfterStart = listener;
    }

    /**
     * A number that grows whenever a kept status is kept or dropped: a list built from kept statuses alone is
     * still true while it, and the records', stay the same.
     */
    public long changes() {
        return changes.get();
    }

    /** How many containers are tracked (for tests: none is left behind by a removed one). */
    public int size() {
        return slots.size();
    }

    /** Whether a status is kept for the container. */
    public boolean settled(String id) {
        Slot s = slots.get(id);
        if (s == null) {
            return false;
        }
        synchronized (s) {
            return s.status != null;
        }
    }

    /** Under the slot's lock (two reads of one version may both keep their answers: the later one stays). */
    private void settle(String id, Slot s, ContainerStatus live) {
        if (live.state() != ContainerStatus.State.UNKNOWN) {
            if (s.status != null) {
                byState.get(s.status.state()).remove(id);
            }
            s.status = live;
            unsettled.remove(id);
            byState.get(live.state()).add(id);
            changes.incrementAndGet();
        }
    }

    /** Under the slot's lock. */
    private void unsettle(String id, Slot s) {
        if (s.status != null) {
            byState.get(s.status.state()).remove(id);
            s.status = null;
            changes.incrementAndGet();
        }
        if (!s.gone) {
            unsettled.add(id);
        }
    }
}
