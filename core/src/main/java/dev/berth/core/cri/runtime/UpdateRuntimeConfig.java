package dev.berth.core.cri.runtime;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.cri.sandbox.SandboxEnvironment;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.UpdateRuntimeConfigRequest;
import dev.berth.cri.v1.UpdateRuntimeConfigResponse;
import io.grpc.MethodDescriptor;

/** UpdateRuntimeConfig takes the node's pod CIDR from the kubelet and hands it to pod networking. */
public final class UpdateRuntimeConfig implements UnaryRpc<UpdateRuntimeConfigRequest, UpdateRuntimeConfigResponse> {
    private final CriRuntime cri;
    private final SandboxEnvironment environment;

    public UpdateRuntimeConfig(CriRuntime cri, SandboxEnvironment environment) {
        this.cri = cri;
        this.environment = environment;
    }

    @Override
    public MethodDescriptor<UpdateRuntimeConfigRequest, UpdateRuntimeConfigResponse> method() {
        return RuntimeServiceGrpc.getUpdateRuntimeConfigMethod();
    }

    @Override
    public UpdateRuntimeConfigResponse call(UpdateRuntimeConfigRequest req, RpcContext ctx) {
        String cidr = req.getRuntimeConfig().getNetworkConfig().getPodCidr();
        if (!cidr.isEmpty()) {
            cri.podCidr(cidr);
            environment.updatePodCidr(cidr);
        }
        return UpdateRuntimeConfigResponse.getDefaultInstance();
    }
}
