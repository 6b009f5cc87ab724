package dev.berth.core.cri.containerd02;

import dev.berth.containerd.v02.APIGrpc;
import dev.berth.containerd.v02.DeleteCheckpointRequest;
import dev.berth.containerd.v02.DeleteCheckpointResponse;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.spi.BackendException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;

/** DeleteCheckpoint removes one of a container's checkpoints; NOT_FOUND if it has none of that name. */
public final class DeleteCheckpoint implements UnaryRpc<DeleteCheckpointRequest, DeleteCheckpointResponse> {
    private final ContainerdRuntime runtime;

    public DeleteCheckpoint(ContainerdRuntime runtime) {
        this.runtime = runtime;
    }

    @Override
    public io.grpc.MethodDescriptor<DeleteCheckpointRequest, DeleteCheckpointResponse> method() {
        return APIGrpc.getDeleteCheckpointMethod();
    }

    @Override
    public DeleteCheckpointResponse call(DeleteCheckpointRequest request, RpcContext ctx) {
        BundleRecord rec = runtime.require(request.getId());
        ctx.container(rec.id());
        String name = Checkpoints.name(request.getName());
        if (!Checkpoints.list(rec).contains(name)) {
            throw BackendException.notFound("checkpoint \"" + name + "\" of container", rec.id());
        }
        Path dir = Checkpoints.dir(rec).resolve(name);
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new BackendException(BackendException.Kind.INTERNAL, "cannot delete checkpoint \"" + name
                    + "\" of container \"" + rec.id() + "\": " + e.getMessage());
        }
        return DeleteCheckpointResponse.getDefaultInstance();
    }
}
