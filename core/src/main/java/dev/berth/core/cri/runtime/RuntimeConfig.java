package dev.berth.core.cri.runtime;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.dispatch.Handler;
import dev.berth.cri.v1.CgroupDriver;
import dev.berth.cri.v1.LinuxRuntimeConfiguration;
import dev.berth.cri.v1.RuntimeConfigRequest;
import dev.berth.cri.v1.RuntimeConfigResponse;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.spi.BackendFeatures;
import io.grpc.MethodDescriptor;

/** RuntimeConfig tells the kubelet which cgroup driver the default handler uses. */
public final class RuntimeConfig implements UnaryRpc<RuntimeConfigRequest, RuntimeConfigResponse> {
    private final CriRuntime cri;

    public RuntimeConfig(CriRuntime cri) {
        this.cri = cri;
    }

    @Override
    public MethodDescriptor<RuntimeConfigRequest, RuntimeConfigResponse> method() {
        return RuntimeServiceGrpc.getRuntimeConfigMethod();
    }

    @Override
    public RuntimeConfigResponse call(RuntimeConfigRequest req, RpcContext ctx) {
        var registry = cri.dispatcher().registry();
        Handler h = registry.active().get(registry.defaultName());
        ctx.handler(h);
        CgroupDriver driver = h.backend().features().cgroupDriver() == BackendFeatures.CgroupDriver.SYSTEMD
                ? CgroupDriver.SYSTEMD : CgroupDriver.CGROUPFS;
        return RuntimeConfigResponse.newBuilder()
                .setLinux(LinuxRuntimeConfiguration.newBuilder().setCgroupDriver(driver)).build();
    }
}
