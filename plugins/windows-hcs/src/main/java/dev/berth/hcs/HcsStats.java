package dev.berth.hcs;

import static dev.berth.hcs.Failures.backend;

import dev.berth.hcs.handle.ComputeSystem;
import dev.berth.hcs.handle.HcsException;
import dev.berth.hcs.schema.Schema;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.StatsProvider.ContainerUsage;
import dev.berth.spi.StatsProvider.SandboxUsage;
import dev.berth.spi.StatsProvider.Usage;
import java.time.Instant;

/** Usage from the Statistics property of running systems; a pod's is its holder's plus its running containers'. */
final class HcsStats {
    private final HcsEnv env;
    private final HcsRegistry registry;

    HcsStats(HcsEnv env, HcsRegistry registry) {
        this.env = env;
        this.registry = registry;
    }

    ContainerUsage container(String containerId) {
        Ctr c = registry.ctr(containerId);
        return new ContainerUsage(containerId, usage(c.state == ContainerStatus.State.RUNNING ? c.system : null));
    }

    SandboxUsage sandbox(String sandboxId) {
        Pod pod = registry.pod(sandboxId);
        Usage total = usage(pod.ready ? pod.system : null);
        for (Ctr c : registry.containers.values()) {
            if (c.rec.sandboxId().equals(sandboxId) && c.state == ContainerStatus.State.RUNNING) {
                total = add(total, usage(c.system));
            }
        }
        return new SandboxUsage(sandboxId, total, -1, -1);
    }

    /** The Statistics property of a running system: CPU in 100 ns units, memory as commit and working set. */
    Usage usage(ComputeSystem system) {
        Instant now = env.clock().instant();
        if (system == null) {
            return new Usage(now, -1, -1, -1, -1, -1, -1, -1);
        }
        Schema.Statistics s;
        try {
            s = system.properties(Schema.PropertyQuery.STATISTICS, env.options().operationTimeout()).statistics();
        } catch (HcsException e) {
            if (e.gone()) {
                return new Usage(now, -1, -1, -1, -1, -1, -1, -1);
            }
            throw backend("failed to read the statistics of \"" + system.id() + "\"", e);
        }
        if (s == null) {
            return new Usage(now, -1, -1, -1, -1, -1, -1, -1);
        }
        long cpu = s.processor() == null || s.processor().totalRuntime100ns() == null ? -1
                : s.processor().totalRuntime100ns() * 100;
        long ws = s.memory() == null || s.memory().memoryUsagePrivateWorkingSetBytes() == null ? -1
                : s.memory().memoryUsagePrivateWorkingSetBytes();
        long commit = s.memory() == null || s.memory().memoryUsageCommitBytes() == null ? -1
                : s.memory().memoryUsageCommitBytes();
        return new Usage(now, cpu, ws, commit, -1, -1, -1, -1);
    }

    private static Usage add(Usage a, Usage b) {
        return new Usage(a.at(), sum(a.cpuUsageCoreNanoSeconds(), b.cpuUsageCoreNanoSeconds()),
                sum(a.memoryWorkingSetBytes(), b.memoryWorkingSetBytes()),
                sum(a.memoryUsageBytes(), b.memoryUsageBytes()), -1, -1, -1, -1);
    }

    private static long sum(long a, long b) {
        return a < 0 ? b : b < 0 ? a : a + b;
    }
}
