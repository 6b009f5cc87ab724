package dev.berth.core.cri.stats;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.cri.container.ContainerEnvironment;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.store.SandboxRecord;
import dev.berth.cri.v1.LinuxPodSandboxStats;
import dev.berth.cri.v1.PodSandboxStatsRequest;
import dev.berth.cri.v1.PodSandboxStatsResponse;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.spi.BackendException;
import dev.berth.spi.StatsProvider;
import io.grpc.MethodDescriptor;

/** PodSandboxStats reports a pod's usage (its cgroup) and its containers' usage, writable layers included. */
public final class PodSandboxStats implements UnaryRpc<PodSandboxStatsRequest, PodSandboxStatsResponse> {
    private final CriRuntime cri;
    private final ContainerEnvironment environment;

    public PodSandboxStats(CriRuntime cri, ContainerEnvironment environment) {
        this.cri = cri;
        this.environment = environment;
    }

    @Override
    public MethodDescriptor<PodSandboxStatsRequest, PodSandboxStatsResponse> method() {
        return RuntimeServiceGrpc.getPodSandboxStatsMethod();
    }

    @Override
    public PodSandboxStatsResponse call(PodSandboxStatsRequest req, RpcContext ctx) {
        SandboxRecord s = cri.sandbox(req.getPodSandboxId());
        ctx.pod(s.id());
        Handler h = cri.dispatcher().forSandbox(s);
        ctx.handler(h);
        StatsProvider sp = h.require(StatsProvider.class, "pod sandbox stats");
        return PodSandboxStatsResponse.newBuilder()
                .setStats(cri.onSandbox(s, h, "read the stats of", () -> stats(cri, environment, s, sp))).build();
    }

    static dev.berth.cri.v1.PodSandboxStats stats(CriRuntime cri, ContainerEnvironment environment, SandboxRecord s,
                                                  StatsProvider sp) {
        var usage = sp.sandboxStats(s.id()).usage();
        var linux = LinuxPodSandboxStats.newBuilder().setCpu(StatsMapper.cpu(usage))
                .setMemory(StatsMapper.memory(usage)).setProcess(StatsMapper.process(usage));
        for (String id : cri.containerIdsOf(s.id())) {
            var c = cri.containers().get(id).orElse(null);
            if (c == null) {
                continue;
            }
            try {
                linux.addContainers(StatsMapper.container(c, sp.containerStats(c.id()).usage(),
                        environment.writableLayer(c.rootfsKey())));
            } catch (BackendException e) {
                // An exited container has no usage to report.
            }
        }
        return dev.berth.cri.v1.PodSandboxStats.newBuilder().setAttributes(StatsMapper.attributes(s))
                .setLinux(linux).build();
    }
}
