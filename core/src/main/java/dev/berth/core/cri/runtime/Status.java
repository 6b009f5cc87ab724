package dev.berth.core.cri.runtime;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.InlineRead;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.sandbox.SandboxEnvironment;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.dispatch.HandlerHealth;
import dev.berth.cri.v1.RuntimeCondition;
import dev.berth.cri.v1.RuntimeFeatures;
import dev.berth.cri.v1.RuntimeHandler;
import dev.berth.cri.v1.RuntimeHandlerFeatures;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.RuntimeStatus;
import dev.berth.cri.v1.StatusRequest;
import dev.berth.cri.v1.StatusResponse;
import dev.berth.spi.BackendFeatures;
import dev.berth.spi.BackendHealth;
import io.grpc.MethodDescriptor;

/**
 * Status reports RuntimeReady (the default handler's cached health, see {@link HandlerHealth}) and NetworkReady (the
 * pod network), and lists every handler with its backend's real features (kept by {@link HandlerHealth} too), plus
 * the {@code ""} entry for the default.
 */
public final class Status implements InlineRead<StatusRequest, StatusResponse> {
    private final CriRuntime cri;
    private final SandboxEnvironment environment;
    private final HandlerHealth health;

    public Status(CriRuntime cri, SandboxEnvironment environment, HandlerHealth health) {
        this.cri = cri;
        this.environment = environment;
        this.health = health;
    }

    @Override
    public MethodDescriptor<StatusRequest, StatusResponse> method() {
        return RuntimeServiceGrpc.getStatusMethod();
    }

    @Override
    public StatusResponse call(StatusRequest req, RpcContext ctx) {
        var registry = cri.dispatcher().registry();
        Handler dflt = registry.active().get(registry.defaultName());
        // The cached result of the timer's checks: a Status call never runs a check (a process start) itself.
        BackendHealth health = this.health.health(dflt).health();
        var runtimeReady = RuntimeCondition.newBuilder().setType("RuntimeReady").setStatus(health.ready());
        if (!health.ready()) {
            runtimeReady.setReason("RuntimeNotReady").setMessage("default handler \"" + dflt.name() + "\": "
                    + HandlerHealth.failures(health));
        }
        var net = environment.networkReadiness();
        var networkReady = RuntimeCondition.newBuilder().setType("NetworkReady").setStatus(net.ready());
        if (!net.ready()) {
            networkReady.setReason(net.reason()).setMessage(net.message());
        }
        var resp = StatusResponse.newBuilder().setStatus(RuntimeStatus.newBuilder()
                .addConditions(runtimeReady).addConditions(networkReady));
        resp.addRuntimeHandlers(handler("", this.health.features(dflt)));
        for (Handler h : registry.active().values()) {
            resp.addRuntimeHandlers(handler(h.name(), this.health.features(h)));
        }
        // Core computes every container's groups (ContainerSpec.processUser), Strict included.
        resp.setFeatures(RuntimeFeatures.newBuilder().setSupplementalGroupsPolicy(true));
        if (req.getVerbose()) {
            resp.putInfo("config", "{\"defaultRuntime\":\"" + registry.defaultName() + "\",\"podCIDR\":\""
                    + cri.podCidr() + "\"}");
        }
        return resp.build();
    }

    private static RuntimeHandler handler(String name, BackendFeatures f) {
        return RuntimeHandler.newBuilder().setName(name).setFeatures(RuntimeHandlerFeatures.newBuilder()
                .setRecursiveReadOnlyMounts(f.recursiveReadOnlyMounts()).setUserNamespaces(f.userNamespaces()))
                .build();
    }
}
