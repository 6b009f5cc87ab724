package dev.berth.core.cri.sandbox;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.mapping.SpiMapper;
import dev.berth.core.store.SandboxRecord;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.UpdatePodSandboxResourcesRequest;
import dev.berth.cri.v1.UpdatePodSandboxResourcesResponse;
import dev.berth.spi.LinuxResources;
import dev.berth.spi.SandboxResizing;
import io.grpc.MethodDescriptor;

/**
 * UpdatePodSandboxResources applies a resized pod's sandbox-level limits (its overhead and the sum of its
 * containers' resources) through the pod's backend, for the kubelet's in-place pod resize. A field left unset
 * keeps its limit, as for UpdateContainerResources. A backend without {@link SandboxResizing} answers
 * UNIMPLEMENTED naming the handler.
 */
public final class UpdatePodSandboxResources
        implements UnaryRpc<UpdatePodSandboxResourcesRequest, UpdatePodSandboxResourcesResponse> {
    private final CriRuntime cri;

    public UpdatePodSandboxResources(CriRuntime cri) {
        this.cri = cri;
    }

    @Override
    public MethodDescriptor<UpdatePodSandboxResourcesRequest, UpdatePodSandboxResourcesResponse> method() {
        return RuntimeServiceGrpc.getUpdatePodSandboxResourcesMethod();
    }

    @Override
    public UpdatePodSandboxResourcesResponse call(UpdatePodSandboxResourcesRequest req, RpcContext ctx) {
        SandboxRecord s = cri.sandbox(req.getPodSandboxId());
        ctx.pod(s.id());
        LinuxResources overhead = req.hasOverhead() ? SpiMapper.resources(req.getOverhead(), "overhead")
                : LinuxResources.NONE;
        LinuxResources resources = req.hasResources() ? SpiMapper.resources(req.getResources(), "resources")
                : LinuxResources.NONE;
        Handler h = cri.dispatcher().forSandbox(s);
        ctx.handler(h);
        SandboxResizing resizing = h.require(SandboxResizing.class, "resizing pod sandboxes");
        var lock = cri.lockFor(s.id());
        lock.lock();
        try {
            cri.onSandbox(s, h, "update the resources of", () -> {
                resizing.updateSandboxResources(s.id(), overhead, resources);
                return null;
            });
        } finally {
            lock.unlock();
        }
        return UpdatePodSandboxResourcesResponse.getDefaultInstance();
    }
}
