package dev.berth.core.cri.stats;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.Protos;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.cri.container.ContainerEnvironment;
import dev.berth.core.dispatch.Handler;
import dev.berth.cri.v1.ListContainerStatsRequest;
import dev.berth.cri.v1.ListContainerStatsResponse;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.spi.BackendException;
import dev.berth.spi.StatsProvider;
import io.grpc.MethodDescriptor;

/**
 * ListContainerStats reports usage for every matching container whose backend provides stats. Containers
 * whose backend cannot report (no capability, exited, unreachable) are left out, as the kubelet expects.
 * Writable layers come from cached readings, so the call walks no directories.
 */
public final class ListContainerStats implements UnaryRpc<ListContainerStatsRequest, ListContainerStatsResponse> {
    private final CriRuntime cri;
    private final ContainerEnvironment environment;

    public ListContainerStats(CriRuntime cri, ContainerEnvironment environment) {
        this.cri = cri;
        this.environment = environment;
    }

    @Override
    public MethodDescriptor<ListContainerStatsRequest, ListContainerStatsResponse> method() {
        return RuntimeServiceGrpc.getListContainerStatsMethod();
    }

    @Override
    public ListContainerStatsResponse call(ListContainerStatsRequest req, RpcContext ctx) {
        var f = req.getFilter();
        var resp = ListContainerStatsResponse.newBuilder();
        for (var c : cri.containers().all()) {
            if (!f.getId().isEmpty() && !c.id().startsWith(f.getId())
                    || !f.getPodSandboxId().isEmpty() && !c.sandboxId().startsWith(f.getPodSandboxId())
                    || !Protos.matches(f.getLabelSelectorMap(), c.labels())) {
                continue;
            }
            try {
                Handler h = cri.handlerOf(c);
                if (h.backend() instanceof StatsProvider sp) {
                    resp.addStats(StatsMapper.container(c, sp.containerStats(c.id()).usage(),
                            environment.writableLayer(c.rootfsKey())));
                }
            } catch (BackendException e) {
                // Not measurable now (exited or gone): leave it out.
            }
        }
        return resp.build();
    }
}
