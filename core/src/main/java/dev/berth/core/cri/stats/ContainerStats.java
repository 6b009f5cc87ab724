package dev.berth.core.cri.stats;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.cri.container.ContainerEnvironment;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.store.ContainerRecord;
import dev.berth.cri.v1.ContainerStatsRequest;
import dev.berth.cri.v1.ContainerStatsResponse;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.spi.StatsProvider;
import io.grpc.MethodDescriptor;

/**
 * ContainerStats reports one container's CPU and memory usage from its backend, and the disk use of its
 * writable layer from core, which prepared its root file system.
 */
public final class ContainerStats implements UnaryRpc<ContainerStatsRequest, ContainerStatsResponse> {
    private final CriRuntime cri;
    private final ContainerEnvironment environment;

    public ContainerStats(CriRuntime cri, ContainerEnvironment environment) {
        this.cri = cri;
        this.environment = environment;
    }

    @Override
    public MethodDescriptor<ContainerStatsRequest, ContainerStatsResponse> method() {
        return RuntimeServiceGrpc.getContainerStatsMethod();
    }

    @Override
    public ContainerStatsResponse call(ContainerStatsRequest req, RpcContext ctx) {
        ContainerRecord c = cri.container(req.getContainerId());
        ctx.container(c.id()).pod(c.sandboxId());
        Handler h = cri.handlerOf(c);
        ctx.handler(h);
        StatsProvider stats = h.require(StatsProvider.class, "container stats");
        var usage = cri.onContainer(c, h, "read the stats of", () -> stats.containerStats(c.id()));
        return ContainerStatsResponse.newBuilder().setStats(StatsMapper.container(c, usage.usage(),
                environment.writableLayer(c.rootfsKey()))).build();
    }
}
