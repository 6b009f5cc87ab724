package dev.berth.core.cri.runtime;

import dev.berth.core.BerthVersion;
import dev.berth.core.cri.InlineRead;
import dev.berth.core.cri.RpcContext;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.VersionRequest;
import dev.berth.cri.v1.VersionResponse;
import io.grpc.MethodDescriptor;

/** Version names the runtime and the CRI version it speaks. */
public final class Version implements InlineRead<VersionRequest, VersionResponse> {
    @Override
    public MethodDescriptor<VersionRequest, VersionResponse> method() {
        return RuntimeServiceGrpc.getVersionMethod();
    }

    @Override
    public VersionResponse call(VersionRequest req, RpcContext ctx) {
        return VersionResponse.newBuilder()
                .setVersion("0.1.0")
                .setRuntimeName("berth")
                .setRuntimeVersion(BerthVersion.VERSION)
                .setRuntimeApiVersion("v1")
                .build();
    }
}
