package dev.berth.core.cri.container;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.mapping.SpiMapper;
import dev.berth.core.store.ContainerRecord;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.UpdateContainerResourcesRequest;
import dev.berth.cri.v1.UpdateContainerResourcesResponse;
import dev.berth.spi.BackendException;
import io.grpc.MethodDescriptor;

/** UpdateContainerResources applies new Linux resource limits through the container's backend. */
public final class UpdateContainerResources
        implements UnaryRpc<UpdateContainerResourcesRequest, UpdateContainerResourcesResponse> {
    private final CriRuntime cri;

    public UpdateContainerResources(CriRuntime cri) {
        this.cri = cri;
    }

    @Override
    public MethodDescriptor<UpdateContainerResourcesRequest, UpdateContainerResourcesResponse> method() {
        return RuntimeServiceGrpc.getUpdateContainerResourcesMethod();
    }

    @Override
    public UpdateContainerResourcesResponse call(UpdateContainerResourcesRequest req, RpcContext ctx) {
        ContainerRecord c = cri.container(req.getContainerId());
        ctx.container(c.id()).pod(c.sandboxId());
        if (!req.hasLinux()) {
            throw BackendException.invalid("linux resources are required (windows resources are not supported)");
        }
        Handler h = cri.handlerOf(c);
        ctx.handler(h);
        cri.onContainer(c, h, "update the resources of",
                () -> h.backend().updateContainer(c.id(), SpiMapper.resources(req.getLinux())));
        return UpdateContainerResourcesResponse.getDefaultInstance();
    }
}
