package dev.berth.core.cri.container;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.store.ContainerRecord;
import dev.berth.cri.v1.CheckpointContainerRequest;
import dev.berth.cri.v1.CheckpointContainerResponse;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.spi.BackendException;
import dev.berth.spi.Checkpointing;
import io.grpc.MethodDescriptor;
import java.nio.file.Path;

/**
 * CheckpointContainer has the container's backend write a checkpoint archive of it to {@code location}, an
 * absolute path on the node (the kubelet's checkpoint directory); the container keeps running. The request's
 * {@code timeout} is not passed on: the backend's own time limits apply.
 */
public final class CheckpointContainer implements UnaryRpc<CheckpointContainerRequest, CheckpointContainerResponse> {
    private final CriRuntime cri;

    public CheckpointContainer(CriRuntime cri) {
        this.cri = cri;
    }

    @Override
    public MethodDescriptor<CheckpointContainerRequest, CheckpointContainerResponse> method() {
        return RuntimeServiceGrpc.getCheckpointContainerMethod();
    }

    @Override
    public CheckpointContainerResponse call(CheckpointContainerRequest req, RpcContext ctx) {
        ContainerRecord c = cri.container(req.getContainerId());
        ctx.container(c.id()).pod(c.sandboxId());
        if (req.getLocation().isEmpty() || !Path.of(req.getLocation()).isAbsolute()) {
            throw BackendException.invalid("location must be an absolute path for the checkpoint archive, got \""
                    + req.getLocation() + "\"");
        }
        Path location = Path.of(req.getLocation()).normalize();
        Handler h = cri.handlerOf(c);
        ctx.handler(h);
        Checkpointing checkpointing = h.require(Checkpointing.class, "checkpointing containers");
        var lock = cri.lockFor(c.id());
        lock.lock();
        try {
            cri.onContainer(c, h, "checkpoint", () -> checkpointing.checkpoint(c.id(), location));
        } finally {
            lock.unlock();
        }
        return CheckpointContainerResponse.getDefaultInstance();
    }
}
