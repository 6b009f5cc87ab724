package dev.berth.core.cri.containerd02;

import dev.berth.containerd.v02.APIGrpc;
import dev.berth.containerd.v02.SignalRequest;
import dev.berth.containerd.v02.SignalResponse;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.spi.BackendException;

/** Signal sends a signal to one process of a container by its pid (0: the main process). */
public final class Signal implements UnaryRpc<SignalRequest, SignalResponse> {
    private final ContainerdRuntime runtime;

    public Signal(ContainerdRuntime runtime) {
        this.runtime = runtime;
    }

    @Override
    public io.grpc.MethodDescriptor<SignalRequest, SignalResponse> method() {
        return APIGrpc.getSignalMethod();
    }

    @Override
    public SignalResponse call(SignalRequest request, RpcContext ctx) {
        BundleRecord rec = runtime.require(request.getId());
        ctx.container(rec.id());
        if (request.getSignal() == 0 || request.getSignal() > 64) {
            throw BackendException.invalid("signal must be a signal number from 1 to 64, got "
                    + Integer.toUnsignedString(request.getSignal()));
        }
        runtime.backend(rec).signal(rec.id(), Integer.toUnsignedLong(request.getPid()), request.getSignal());
        return SignalResponse.getDefaultInstance();
    }
}
