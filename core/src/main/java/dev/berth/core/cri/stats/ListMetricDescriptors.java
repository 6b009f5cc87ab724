package dev.berth.core.cri.stats;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.cri.v1.ListMetricDescriptorsRequest;
import dev.berth.cri.v1.ListMetricDescriptorsResponse;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import io.grpc.MethodDescriptor;

/**
 * ListMetricDescriptors names every metric {@link ListPodSandboxMetrics} may answer, with its help and label keys
 * (the kubelet reads them once and drops any series it has no descriptor for). UNIMPLEMENTED when no handler's
 * backend can read pod metrics.
 */
public final class ListMetricDescriptors
        implements UnaryRpc<ListMetricDescriptorsRequest, ListMetricDescriptorsResponse> {
    private final CriRuntime cri;

    public ListMetricDescriptors(CriRuntime cri) {
        this.cri = cri;
    }

    @Override
    public MethodDescriptor<ListMetricDescriptorsRequest, ListMetricDescriptorsResponse> method() {
        return RuntimeServiceGrpc.getListMetricDescriptorsMethod();
    }

    @Override
    public ListMetricDescriptorsResponse call(ListMetricDescriptorsRequest req, RpcContext ctx) {
        ListPodSandboxMetrics.requireSomeHandler(cri);
        return ListMetricDescriptorsResponse.newBuilder().addAllDescriptors(CadvisorMetrics.descriptors()).build();
    }
}
