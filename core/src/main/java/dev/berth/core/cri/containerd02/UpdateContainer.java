package dev.berth.core.cri.containerd02;

import dev.berth.containerd.v02.APIGrpc;
import dev.berth.containerd.v02.UpdateContainerRequest;
import dev.berth.containerd.v02.UpdateContainerResponse;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.spi.BackendException;
import dev.berth.spi.BundleRunning;

/**
 * UpdateContainer: {@code status} "paused" freezes the container, "running" thaws it (each published as a
 * {@code pause} or {@code resume} event); a non-zero {@code signal} goes to its main process.
 */
public final class UpdateContainer implements UnaryRpc<UpdateContainerRequest, UpdateContainerResponse> {
    private final ContainerdRuntime runtime;

    public UpdateContainer(ContainerdRuntime runtime) {
        this.runtime = runtime;
    }

    @Override
    public io.grpc.MethodDescriptor<UpdateContainerRequest, UpdateContainerResponse> method() {
        return APIGrpc.getUpdateContainerMethod();
    }

    @Override
    public UpdateContainerResponse call(UpdateContainerRequest request, RpcContext ctx) {
        BundleRecord rec = runtime.require(request.getId());
        ctx.container(rec.id());
        String status = request.getStatus();
        if (!status.isEmpty() && !status.equals("paused") && !status.equals("running")) {
            throw BackendException.invalid("status must be \"paused\" or \"running\", got \"" + status + "\"");
        }
        BundleRunning b = runtime.backend(rec);
        if (request.getSignal() != 0) {
            b.signal(rec.id(), 0, request.getSignal());
        }
        if (!status.isEmpty()) {
            boolean pause = status.equals("paused");
            b.pause(rec.id(), pause);
            runtime.publish(ContainerdRuntime.event(pause ? "pause" : "resume", rec).build());
        }
        return UpdateContainerResponse.getDefaultInstance();
    }
}
