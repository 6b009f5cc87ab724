package dev.berth.core.cri.runtime;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.core.config.EffectiveConfig;
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
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Status reports RuntimeReady (the default handler's cached health, see {@link HandlerHealth}) and NetworkReady (the
 * pod network), and lists every handler with its backend's real features (kept by {@link HandlerHealth} too), plus
 * the {@code ""} entry for the default. Verbose, it adds the effective config ({@link #config}).
 */
public final class Status implements InlineRead<StatusRequest, StatusResponse> {
    private static final ObjectMapper JSON = new ObjectMapper();
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
            resp.putInfo("config", config(registry.defaultName(), registry.active().values()));
        }
        return resp.build();
    }

    /**
     * The verbose answer's {@code config} ({@code crictl info}): the effective config under the TOML file's names,
     * as {@code berth config} prints it, with what a reload changed since the start (the handlers and the default)
     * and what the kubelet set (the pod CIDR). Each handler adds its generation, its plugin and its cached health.
     */
    private String config(String defaultName, Collection<Handler> handlers) {
        Map<String, Object> config = EffectiveConfig.toMap(cri.config());
        config.put("default_runtime", defaultName);
        Map<String, Object> runtimes = new LinkedHashMap<>();
        for (Handler h : handlers) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("type", h.type());
            m.put("options", h.options());
            m.put("generation", h.generation());
            String version = h.pluginVersion() == null ? "" : h.pluginVersion();
            m.put("plugin", version.isEmpty() ? h.pluginId() : h.pluginId() + "@" + version);
            HandlerHealth.Result r = this.health.health(h);
            m.put("ready", r.health().ready());
            if (!r.health().ready()) {
                m.put("not_ready", HandlerHealth.failures(r.health()));
            }
            m.put("checked_at", r.checkedAt().toString());
            runtimes.put(h.name(), m);
        }
        config.put("runtimes", runtimes);
        config.put("pod_cidr", cri.podCidr());
        try {
            return JSON.writeValueAsString(config);
        } catch (JsonProcessingException e) {
            // maps of strings, numbers and booleans, and a plugin's options as its TOML table gave them
            throw new IllegalStateException("cannot write the config as JSON", e);
        }
    }

    private static RuntimeHandler handler(String name, BackendFeatures f) {
        return RuntimeHandler.newBuilder().setName(name).setFeatures(RuntimeHandlerFeatures.newBuilder()
                .setRecursiveReadOnlyMounts(f.recursiveReadOnlyMounts()).setUserNamespaces(f.userNamespaces()))
                .build();
    }
}
