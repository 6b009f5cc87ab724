package dev.berth.spi;

import java.time.Instant;

/**
 * Optional: resource usage of containers and sandboxes, for CRI's stats RPCs. The common rules of
 * {@link RuntimeBackend} (threading, errors) apply. Both methods are read-only and cheap enough to be called for
 * every container on every stats request, concurrently.
 */
public interface StatsProvider {

    /**
     * Current usage of one container; what it cannot measure (e.g. for an exited container) is -1.
     *
     * @throws BackendException {@code NOT_FOUND} if the container is unknown
     */
    ContainerUsage containerStats(String containerId);

    /**
     * Current usage of a whole sandbox (its cgroup).
     *
     * @throws BackendException {@code NOT_FOUND} if the sandbox is unknown
     */
    SandboxUsage sandboxStats(String sandboxId);

    /** CPU and memory usage. A field the backend cannot measure is -1. */
    record Usage(Instant at, long cpuUsageCoreNanoSeconds, long memoryWorkingSetBytes, long memoryUsageBytes,
                 long memoryRssBytes, long pageFaults, long majorPageFaults, long processCount) {}

    record ContainerUsage(String containerId, Usage usage) {}

    /** Sandbox usage; network counters are -1 when unknown. */
    record SandboxUsage(String sandboxId, Usage usage, long rxBytes, long txBytes) {}
}
