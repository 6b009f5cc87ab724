package dev.berth.core.cri.stats;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.Protos;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.cri.container.ContainerEnvironment;
import dev.berth.core.dispatch.Handler;
import dev.berth.cri.v1.ListPodSandboxStatsRequest;
import dev.berth.cri.v1.ListPodSandboxStatsResponse;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.spi.BackendException;
import dev.berth.spi.StatsProvider;
import io.grpc.MethodDescriptor;

/** ListPodSandboxStats reports usage for every matching ready pod whose backend provides stats. */
public final class ListPodSandboxStats implements UnaryRpc<ListPodSandboxStatsRequest, ListPodSandboxStatsResponse> {
    private final CriRuntime cri;
    private final ContainerEnvironment environment;

    public ListPodSandboxStats(CriRuntime cri, ContainerEnvironment environment) {
        this.cri = cri;
        this.environment = environment;
    }

    @Override
    public MethodDescriptor<ListPodSandboxStatsRequest, ListPodSandboxStatsResponse> method() {
        return RuntimeServiceGrpc.getListPodSandboxStatsMethod();
    }

    @Override
    public ListPodSandboxStatsResponse call(ListPodSandboxStatsRequest req, RpcContext ctx) {
        var f = req.getFilter();
        var resp = ListPodSandboxStatsResponse.newBuilder();
        for (var s : cri.sandboxes().all()) {
            if (!f.getId().isEmpty() && !s.id().startsWith(f.getId())
                    || !Protos.matches(f.getLabelSelectorMap(), s.labels())) {
                continue;
            }
            try {
                Handler h = cri.dispatcher().forSandbox(s);
                if (h.backend() instanceof StatsProvider sp) {
                    resp.addStats(PodSandboxStats.stats(cri, environment, s, sp));
                }
            } catch (BackendException e) {
                // A stopped or unreachable pod has no usage to report.
            }
        }
        return resp.build();
    }
}
