package dev.berth.core.metrics;

import dev.berth.core.store.ContainerRecord;
import dev.berth.core.store.RecordStore;
import dev.berth.core.store.SandboxRecord;
import dev.berth.spi.BackendEvent;
import dev.berth.spi.ContainerStatus;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Pods and containers by handler and state, counted at scrape time from core's records; no backend is asked.
 *
 * <p>A pod's state is its record's. Containers have no state in their records (the backend knows it), so the
 * state here is the last one berth saw in its container events: {@code created}, {@code running} or
 * {@code exited}. The containers berth finds in its records when it starts get the state their backend gives
 * once the daemon serves and has settled their states in the background ({@link #recovered}; a scrape before that
 * counts them {@code unknown}); one whose backend cannot say (or whose handler is gone) is {@code unknown} until
 * its next event. A container whose pod has no record counts under handler "".
 */
public final class ObjectGauges implements Consumer<BackendEvent> {
    private final Map<String, String> containerStates = new ConcurrentHashMap<>();

    private ObjectGauges() {}

    /** Registers the gauges; returns the event listener that keeps container states, or null when disabled. */
    public static ObjectGauges register(Metrics metrics, RecordStore<SandboxRecord> sandboxes,
                                                  RecordStore<ContainerRecord> containers) {
        if (!metrics.enabled()) {
            return null;
        }
        ObjectGauges g = new ObjectGauges();
        metrics.gauge("berth_pods", "Pod sandboxes berth has records of, by handler and state "
                + "(creating, ready, notready).", cb -> {
                    Map<String, Map<String, Integer>> counts = new HashMap<>();
                    for (SandboxRecord s : sandboxes.all()) {
                        counts.computeIfAbsent(s.handler(), k -> new HashMap<>())
                                .merge(s.state().name().toLowerCase(), 1, Integer::sum);
                    }
                    counts.forEach((h, byState) -> byState.forEach((state, n) -> cb.call(n, h, state)));
                }, "handler", "state");
        metrics.gauge("berth_containers", "Containers berth has records of, by their pod's handler and the last "
                + "state berth saw (created, running, exited; unknown while its backend cannot say).",
                cb -> {
                    Map<String, String> handlerOf = new HashMap<>();
                    for (SandboxRecord s : sandboxes.all()) {
                        handlerOf.put(s.id(), s.handler());
                    }
                    Map<String, Map<String, Integer>> counts = new HashMap<>();
                    for (ContainerRecord c : containers.all()) {
                        counts.computeIfAbsent(handlerOf.getOrDefault(c.sandboxId(), ""), k -> new HashMap<>())
                                .merge(g.containerStates.getOrDefault(c.id(), "unknown"), 1, Integer::sum);
                    }
                    counts.forEach((h, byState) -> byState.forEach((state, n) -> cb.call(n, h, state)));
                }, "handler", "state");
        return g;
    }

    /**
     * The state a container's backend gave for it after berth started and recovered (the containers of its
     * records, which no event has described yet). An event that came first wins: it is newer. UNKNOWN is not kept.
     */
    public void recovered(String containerId, ContainerStatus.State state) {
        String name = switch (state) {
            case CREATED -> "created";
            case RUNNING -> "running";
            case EXITED -> "exited";
            case UNKNOWN -> null;
        };
        if (name != null) {
            containerStates.putIfAbsent(containerId, name);
        }
    }

    /**
     * A state berth found by asking the backend again, not from an event (the state refresh's safety net against an
     * exit the backend did not report): it is newer than what the gauge has, so it replaces it.
     */
    public void observed(String containerId, ContainerStatus.State state) {
        switch (state) {
            case CREATED -> containerStates.put(containerId, "created");
            case RUNNING -> containerStates.put(containerId, "running");
            case EXITED -> containerStates.put(containerId, "exited");
            case UNKNOWN -> { }
        }
    }

    @Override
    public void accept(BackendEvent e) {
        if (dev.berth.core.cri.SandboxStateCache.sandboxEnded(e)) {
            return; // a sandbox's own process: not a container
        }
        switch (e.type()) {
            case CREATED -> containerStates.putIfAbsent(e.containerId(), "created");
            // A container that exited at once may report its exit before StartContainer publishes STARTED.
            case STARTED -> containerStates.computeIfPresent(e.containerId(),
                    (id, s) -> s.equals("exited") ? s : "running");
            case STOPPED -> containerStates.put(e.containerId(), "exited");
            case DELETED -> containerStates.remove(e.containerId());
        }
    }
}
