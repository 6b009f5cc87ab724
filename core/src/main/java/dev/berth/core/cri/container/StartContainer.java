package dev.berth.core.cri.container;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.store.ContainerRecord;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.StartContainerRequest;
import dev.berth.cri.v1.StartContainerResponse;
import dev.berth.spi.BackendEvent;
import io.grpc.MethodDescriptor;

/** StartContainer starts a created container on its pod's handler. */
public final class StartContainer implements UnaryRpc<StartContainerRequest, StartContainerResponse> {
    private final CriRuntime cri;

    public StartContainer(CriRuntime cri) {
        this.cri = cri;
    }

    @Override
    public MethodDescriptor<StartContainerRequest, StartContainerResponse> method() {
        return RuntimeServiceGrpc.getStartContainerMethod();
    }

    @Override
    public StartContainerResponse call(StartContainerRequest req, RpcContext ctx) {
        ContainerRecord c = cri.container(req.getContainerId());
        ctx.container(c.id()).pod(c.sandboxId());
        Handler h = cri.handlerOf(c);
        ctx.handler(h);
        var lock = cri.lockFor(c.id());
        lock.lock();
        try {
            cri.onContainer(c, h, "start", () -> h.backend().startContainer(c.id()));
        } finally {
            cri.containerStates().invalidate(c.id()); // also when it failed: its state may have moved
            lock.unlock();
        }
        cri.events().publish(new BackendEvent(BackendEvent.Type.STARTED, c.id(), c.sandboxId(), null));
        return StartContainerResponse.getDefaultInstance();
    }
}
