package dev.berth.spi;

import java.util.List;

/**
 * Optional: the backend can take over sandboxes and containers it created before berth restarted.
 *
 * <p>Core persists its own records and, at startup, calls {@link #recover} once per handler generation with the
 * ids it knows for that generation, before serving any RPC. The backend rebuilds its in-memory state from what
 * it finds on the host (runtime state, exit files, shim sockets) and reports what it found. Containers that
 * exited while berth was down must then report their real exit code and finish time through
 * {@code containerStatus}.
 */
public interface Recoverable {

    /**
     * Reconciles with the host. No other method of the backend runs meanwhile. Repeatable: a second call finds
     * the same state. It never stops or removes a sandbox or container whose id core passed. Must not fail as a whole
     * because one pod is broken: such a pod is reported in {@link Report#lost()}, core shows it in an unknown
     * state, and the kubelet's removal of it must then succeed (removes are idempotent). Throws only when it can
     * recover nothing at all; core then logs the reason and serves the handler's pods as they are.
     */
    Report recover(List<String> sandboxIds, List<String> containerIds);

    /** Ids the backend could not find or take over. */
    record Report(List<String> lost) {
        public Report {
            lost = Checks.list(lost);
        }
    }
}
