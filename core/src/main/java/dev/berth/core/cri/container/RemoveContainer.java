package dev.berth.core.cri.container;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.cri.Validation;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.store.ContainerRecord;
import dev.berth.cri.v1.RemoveContainerRequest;
import dev.berth.cri.v1.RemoveContainerResponse;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.spi.BackendEvent;
import io.grpc.MethodDescriptor;
import java.util.Optional;

/**
 * RemoveContainer removes a container (stopping it first), its root file system and its record.
 * Idempotent: removing an unknown container succeeds.
 */
public final class RemoveContainer implements UnaryRpc<RemoveContainerRequest, RemoveContainerResponse> {
    private final CriRuntime cri;
    private final ContainerEnvironment environment;

    public RemoveContainer(CriRuntime cri, ContainerEnvironment environment) {
        this.cri = cri;
        this.environment = environment;
    }

    @Override
    public MethodDescriptor<RemoveContainerRequest, RemoveContainerResponse> method() {
        return RuntimeServiceGrpc.getRemoveContainerMethod();
    }

    @Override
    public RemoveContainerResponse call(RemoveContainerRequest req, RpcContext ctx) {
        Validation.id(req.getContainerId(), "container id");
        Optional<ContainerRecord> found = cri.containers().find(req.getContainerId());
        if (found.isEmpty()) {
            return RemoveContainerResponse.getDefaultInstance();
        }
        ContainerRecord c = found.get();
        ctx.container(c.id()).pod(c.sandboxId());
        Handler h = cri.handlerOf(c);
        ctx.handler(h);
        remove(c, h);
        return RemoveContainerResponse.getDefaultInstance();
    }

    /** Removes one container; shared with RemovePodSandbox. */
    public void remove(ContainerRecord c, Handler h) {
        var lock = cri.lockFor(c.id());
        lock.lock();
        try {
            h.backend().removeContainer(c.id());
            environment.release(c.rootfsKey());
            cri.containers().remove(c.id());
            cri.names().release(c.nameKey());
        } finally {
            lock.unlock();
        }
        cri.forgetLock(c.id());
        cri.events().publish(new BackendEvent(BackendEvent.Type.DELETED, c.id(), c.sandboxId(), null));
    }
}
