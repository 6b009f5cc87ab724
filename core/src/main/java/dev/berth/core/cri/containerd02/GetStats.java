package dev.berth.core.cri.containerd02;

import dev.berth.containerd.v02.APIGrpc;
import dev.berth.containerd.v02.CgroupStats;
import dev.berth.containerd.v02.CpuStats;
import dev.berth.containerd.v02.CpuUsage;
import dev.berth.containerd.v02.MemoryData;
import dev.berth.containerd.v02.MemoryStats;
import dev.berth.containerd.v02.Stats;
import dev.berth.containerd.v02.StatsRequest;
import dev.berth.containerd.v02.ThrottlingData;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.StreamingRpc;
import dev.berth.spi.BackendException;
import dev.berth.spi.BundleRunning;
import io.grpc.stub.ServerCallStreamObserver;
import java.time.Duration;

/**
 * GetStats streams the container's cgroup usage once a second until the client cancels or the container is gone
 * (then the stream ends normally). Values the backend cannot read are 0.
 */
public final class GetStats implements StreamingRpc<StatsRequest, Stats> {
    static final Duration INTERVAL = Duration.ofSeconds(1);
    private final ContainerdRuntime runtime;

    public GetStats(ContainerdRuntime runtime) {
        this.runtime = runtime;
    }

    @Override
    public io.grpc.MethodDescriptor<StatsRequest, Stats> method() {
        return APIGrpc.getGetStatsMethod();
    }

    @Override
    public void call(StatsRequest request, ServerCallStreamObserver<Stats> out, RpcContext ctx) {
        BundleRecord rec = runtime.require(request.getId());
        ctx.container(rec.id());
        BundleRunning b = runtime.backend(rec);
        boolean first = true;
        while (!out.isCancelled()) {
            BundleRunning.BundleStats s;
            try {
                s = b.bundleStats(rec.id());
            } catch (BackendException e) {
                if (!first && e.kind() == BackendException.Kind.NOT_FOUND) {
                    out.onCompleted();
                    return;
                }
                throw e;
            }
            first = false;
            out.onNext(toProto(s));
            try {
                Thread.sleep(INTERVAL);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    static Stats toProto(BundleRunning.BundleStats s) {
        var mem = MemoryStats.newBuilder().setCache(u(s.memoryCache()))
                .setUsage(MemoryData.newBuilder().setUsage(u(s.memoryUsage())).setMaxUsage(u(s.memoryMaxUsage()))
                        .setFailcnt(u(s.memoryFailCount())));
        s.memoryStats().forEach((k, v) -> mem.putStats(k, u(v)));
        var cpu = CpuUsage.newBuilder().setTotalUsage(u(s.cpuTotalNanos()))
                .setUsageInKernelmode(u(s.cpuKernelNanos())).setUsageInUsermode(u(s.cpuUserNanos()));
        s.perCpuNanos().forEach(v -> cpu.addPercpuUsage(u(v)));
        return Stats.newBuilder()
                .setCgroupStats(CgroupStats.newBuilder()
                        .setCpuStats(CpuStats.newBuilder().setCpuUsage(cpu)
                                .setThrottlingData(ThrottlingData.newBuilder().setPeriods(u(s.throttlePeriods()))
                                        .setThrottledPeriods(u(s.throttledPeriods()))
                                        .setThrottledTime(u(s.throttledNanos()))))
                        .setMemoryStats(mem))
                .setTimestamp(s.at().getEpochSecond() * 1_000_000_000L + s.at().getNano())
                .build();
    }

    private static long u(long v) {
        return Math.max(0, v);
    }
}
