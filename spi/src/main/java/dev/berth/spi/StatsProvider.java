package dev.berth.spi;

import java.time.Instant;

/** Optional: resource usage of containers and sandboxes, for CRI's stats RPCs. */
public interface StatsProvider {

    /** Current usage of one container. {@code NOT_FOUND} if unknown. */
    ContainerUsage containerStats(String containerId);

    /** Current usage of a whole sandbox (its cgroup). {@code NOT_FOUND} if unknown. */
    SandboxUsage sandboxStats(String sandboxId);

    /** CPU and memory usage. A field the backend cannot measure is -1. */
    record Usage(Instant at, long cpuUsageCoreNanoSeconds, long memoryWorkingSetBytes, long memoryUsageBytes,
                 long memoryRssBytes, long pageFaults, long majorPageFaults, long processCount) {}

    record ContainerUsage(String containerId, Usage usage) {}

    /** Sandbox usage; network counters are -1 when unknown. */
    record SandboxUsage(String sandboxId, Usage usage, long rxBytes, long txBytes) {}
}
