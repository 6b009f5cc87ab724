package dev.berth.core.cri.container;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.mapping.SpiMapper;
import dev.berth.core.store.ContainerRecord;
import dev.berth.cri.v1.ContainerConfig;
import dev.berth.cri.v1.LinuxContainerResources;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.UpdateContainerResourcesRequest;
import dev.berth.cri.v1.UpdateContainerResourcesResponse;
import dev.berth.spi.BackendException;
import io.grpc.MethodDescriptor;

/**
 * UpdateContainerResources applies new Linux resource limits through the container's backend, then records
 * them in the container's stored config, so that ContainerStatus reports what is in force (the kubelet's
 * in-place pod resize reads it back). A field the request leaves at zero keeps its value, as the backends
 * leave it unchanged too.
 */
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
        var resources = SpiMapper.resources(req.getLinux(), "linux");
        Handler h = cri.handlerOf(c);
        ctx.handler(h);
        var lock = cri.lockFor(c.id());
        lock.lock();
        try {
            cri.onContainer(c, h, "update the resources of",
                    () -> h.backend().updateContainer(c.id(), resources));
            ContainerRecord now = cri.containers().get(c.id()).orElse(null);
            if (now != null) {
                cri.containers().put(now.withConfig(inForce(ContainerStatus.config(now), req.getLinux())
                        .toByteArray()));
            }
        } finally {
            lock.unlock();
        }
        return UpdateContainerResourcesResponse.getDefaultInstance();
    }

    /** The container's config with the update's non-zero fields over its resources. */
    static ContainerConfig inForce(ContainerConfig config, LinuxContainerResources update) {
        var resources = config.getLinux().getResources().toBuilder();
        if (update.getHugepageLimitsCount() > 0) {
            resources.clearHugepageLimits();
        }
        resources.mergeFrom(update);
        var linux = config.getLinux().toBuilder().setResources(resources);
        return config.toBuilder().setLinux(linux).build();
    }
}
