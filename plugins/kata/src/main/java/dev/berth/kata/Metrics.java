package dev.berth.kata;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.berth.spi.StatsProvider.Usage;
import java.time.Instant;

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
