package dev.berth.core.cri.containerd02;

import dev.berth.containerd.v02.APIGrpc;
import dev.berth.containerd.v02.Checkpoint;
import dev.berth.containerd.v02.ListCheckpointRequest;
import dev.berth.containerd.v02.ListCheckpointResponse;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;

/** ListCheckpoint lists a container's checkpoints by name. */
public final class ListCheckpoint implements UnaryRpc<ListCheckpointRequest, ListCheckpointResponse> {
    private final ContainerdRuntime runtime;

    public ListCheckpoint(ContainerdRuntime runtime) {
        this.runtime = runtime;
    }

    @Override
    public io.grpc.MethodDescriptor<ListCheckpointRequest, ListCheckpointResponse> method() {
        return APIGrpc.getListCheckpointMethod();
    }

    @Override
    public ListCheckpointResponse call(ListCheckpointRequest request, RpcContext ctx) {
        BundleRecord rec = runtime.require(request.getId());
        ctx.container(rec.id());
        var out = ListCheckpointResponse.newBuilder();
        for (String name : Checkpoints.list(rec)) {
            out.addCheckpoints(Checkpoint.newBuilder().setName(name));
        }
        return out.build();
    }
}
