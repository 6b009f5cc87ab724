package dev.berth.core.cri.containerd02;

import dev.berth.containerd.v02.APIGrpc;
import dev.berth.containerd.v02.CreateCheckpointRequest;
import dev.berth.containerd.v02.CreateCheckpointResponse;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.spi.BackendException;
import dev.berth.spi.BundleRunning;

/**
 * CreateCheckpoint checkpoints a container with CRIU into {@code <bundle>/checkpoints/<name>}; where CRIU does not
 * work on the host the backend answers FAILED_PRECONDITION with CRIU's own reason.
 */
public final class CreateCheckpoint implements UnaryRpc<CreateCheckpointRequest, CreateCheckpointResponse> {
    private final ContainerdRuntime runtime;

    public CreateCheckpoint(ContainerdRuntime runtime) {
        this.runtime = runtime;
    }

    @Override
    public io.grpc.MethodDescriptor<CreateCheckpointRequest, CreateCheckpointResponse> method() {
        return APIGrpc.getCreateCheckpointMethod();
    }

    @Override
    public CreateCheckpointResponse call(CreateCheckpointRequest request, RpcContext ctx) {
        BundleRecord rec = runtime.require(request.getId());
        ctx.container(rec.id());
        if (!request.hasCheckpoint()) {
            throw BackendException.invalid("checkpoint must be set");
        }
        var c = request.getCheckpoint();
        String name = Checkpoints.name(c.getName());
        if (Checkpoints.list(rec).contains(name)) {
            throw new BackendException(BackendException.Kind.ALREADY_EXISTS, "container \"" + rec.id()
                    + "\" already has a checkpoint \"" + name + "\"");
        }
        runtime.backend(rec).checkpointBundle(rec.id(), Checkpoints.dir(rec), new BundleRunning.CheckpointOptions(
                name, c.getExit(), c.getTcp(), c.getUnixSockets(), c.getShell()));
        return CreateCheckpointResponse.getDefaultInstance();
    }
}
