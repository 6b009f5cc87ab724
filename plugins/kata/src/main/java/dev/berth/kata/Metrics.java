package dev.berth.kata;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.berth.spi.PodMetricsSource.ContainerMetrics;
import dev.berth.spi.PodMetricsSource.InterfaceMetrics;
import dev.berth.spi.StatsProvider.Usage;
import java.time.Instant;
import java.util.List;

/** Decodes the {@code Any} a shim's Stats call returns: cgroup v1 or v2 metrics. */
final class Metrics {
    static final String V1 = "io.containerd.cgroups.v1.Metrics";
    static final String V2 = "io.containerd.cgroups.v2.Metrics";

    private Metrics() {}

    static Usage decode(Any any, Instant at) throws InvalidProtocolBufferException {
        String type = any.getTypeUrl().substring(any.getTypeUrl().lastIndexOf('/') + 1);
        if (type.equals(V1)) {
            var m = dev.berth.kata.proto.cgroups.v1.Metrics.parseFrom(any.getValue());
            var mem = m.getMemory();
            long usage = mem.hasUsage() ? mem.getUsage().getUsage() : -1;
            long inactive = mem.getTotalInactiveFile();
            long workingSet = usage < 0 ? -1 : Math.max(0, usage - inactive);
            return new Usage(at, m.hasCpu() ? m.getCpu().getUsage().getTotal() : -1, workingSet, usage,
                    m.hasMemory() ? mem.getTotalRss() : -1, m.hasMemory() ? mem.getTotalPgFault() : -1,
                    m.hasMemory() ? mem.getTotalPgMajFault() : -1, m.hasPids() ? m.getPids().getCurrent() : -1);
        }
        if (type.equals(V2)) {
            var m = dev.berth.kata.proto.cgroups.v2.Metrics.parseFrom(any.getValue());
            var mem = m.getMemory();
            long usage = m.hasMemory() ? mem.getUsage() : -1;
            long workingSet = usage < 0 ? -1 : Math.max(0, usage - mem.getInactiveFile());
            return new Usage(at, m.hasCpu() ? m.getCpu().getUsageUsec() * 1000 : -1, workingSet, usage,
                    m.hasMemory() ? mem.getAnon() : -1, m.hasMemory() ? mem.getPgfault() : -1,
                    m.hasMemory() ? mem.getPgmajfault() : -1, m.hasPids() ? m.getPids().getCurrent() : -1);
        }
        throw new InvalidProtocolBufferException("unknown metrics type " + any.getTypeUrl());
    }

    /**
     * A container's readings for pod metrics: {@link #decode} plus user and system CPU, page cache (v1
     * {@code total_cache}, v2 {@code file}) and the task count as threads. The shim reports no process count apart
     * from tasks, so processes are unknown.
     */
    static ContainerMetrics containerMetrics(String id, Any any, Instant at) throws InvalidProtocolBufferException {
        Usage u = decode(any, at);
        Usage noProcesses = new Usage(u.at(), u.cpuUsageCoreNanoSeconds(), u.memoryWorkingSetBytes(),
                u.memoryUsageBytes(), u.memoryRssBytes(), u.pageFaults(), u.majorPageFaults(), -1);
        if (type(any).equals(V1)) {
            var m = dev.berth.kata.proto.cgroups.v1.Metrics.parseFrom(any.getValue());
            var cpu = m.getCpu().getUsage();
            return new ContainerMetrics(id, noProcesses, m.hasCpu() ? cpu.getUser() : -1,
                    m.hasCpu() ? cpu.getKernel() : -1, m.hasMemory() ? m.getMemory().getTotalCache() : -1,
                    u.processCount());
        }
        var m = dev.berth.kata.proto.cgroups.v2.Metrics.parseFrom(any.getValue());
        return new ContainerMetrics(id, noProcesses, m.hasCpu() ? m.getCpu().getUserUsec() * 1000 : -1,
                m.hasCpu() ? m.getCpu().getSystemUsec() * 1000 : -1, m.hasMemory() ? m.getMemory().getFile() : -1,
                u.processCount());
    }

    /** The interfaces a v1 reply carries (Kata's guest view); empty for v2 replies and shims that send none. */
    static List<InterfaceMetrics> interfaces(Any any) throws InvalidProtocolBufferException {
        if (!type(any).equals(V1)) {
            return List.of();
        }
        return dev.berth.kata.proto.cgroups.v1.Metrics.parseFrom(any.getValue()).getNetworkList().stream()
                .filter(n -> !n.getName().isEmpty())
                .map(n -> new InterfaceMetrics(n.getName(), n.getRxBytes(), n.getRxPackets(), n.getRxErrors(),
                        n.getRxDropped(), n.getTxBytes(), n.getTxPackets(), n.getTxErrors(), n.getTxDropped()))
                .toList();
    }

    private static String type(Any any) {
        return any.getTypeUrl().substring(any.getTypeUrl().lastIndexOf('/') + 1);
    }

    /** Field-wise sum, where -1 (unknown) in either stays unknown only if both are. */
    static Usage add(Usage a, Usage b) {
        return new Usage(a.at(), sum(a.cpuUsageCoreNanoSeconds(), b.cpuUsageCoreNanoSeconds()),
                sum(a.memoryWorkingSetBytes(), b.memoryWorkingSetBytes()), sum(a.memoryUsageBytes(), b.memoryUsageBytes()),
                sum(a.memoryRssBytes(), b.memoryRssBytes()), sum(a.pageFaults(), b.pageFaults()),
                sum(a.majorPageFaults(), b.majorPageFaults()), sum(a.processCount(), b.processCount()));
    }

    private static long sum(long x, long y) {
        if (x < 0) {
            return y;
        }
        return y < 0 ? x : x + y;
    }
}
