package dev.berth.core.cri.container;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.store.ContainerRecord;
import dev.berth.cri.v1.ReopenContainerLogRequest;
import dev.berth.cri.v1.ReopenContainerLogResponse;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.spi.LogReopening;
import io.grpc.MethodDescriptor;

/** ReopenContainerLog asks the container's log writer to reopen its file after the kubelet rotated it. */
public final class ReopenContainerLog implements UnaryRpc<ReopenContainerLogRequest, ReopenContainerLogResponse> {
    private final CriRuntime cri;

    public ReopenContainerLog(CriRuntime cri) {
        this.cri = cri;
    }

    @Override
    public MethodDescriptor<ReopenContainerLogRequest, ReopenContainerLogResponse> method() {
        return RuntimeServiceGrpc.getReopenContainerLogMethod();
    }

    @Override
    public ReopenContainerLogResponse call(ReopenContainerLogRequest req, RpcContext ctx) {
        ContainerRecord c = cri.container(req.getContainerId());
        ctx.container(c.id()).pod(c.sandboxId());
        Handler h = cri.handlerOf(c);
        ctx.handler(h);
        LogReopening reopening = h.require(LogReopening.class, "reopening container logs");
        cri.onContainer(c, h, "reopen the log of", () -> reopening.reopenLog(c.id()));
        return ReopenContainerLogResponse.getDefaultInstance();
    }
}
