package dev.berth.core.cri.sandbox;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.InlineRead;
import dev.berth.core.cri.ProtoJson;
import dev.berth.core.cri.Protos;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.RuntimeSpecs;
import dev.berth.core.cri.StoredConfigs;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.store.SandboxRecord;
import dev.berth.cri.v1.LinuxPodSandboxStatus;
import dev.berth.cri.v1.Namespace;
import dev.berth.cri.v1.PodIP;
import dev.berth.cri.v1.PodSandboxConfig;
import dev.berth.cri.v1.PodSandboxMetadata;
import dev.berth.cri.v1.PodSandboxNetworkStatus;
import dev.berth.cri.v1.PodSandboxState;
import dev.berth.cri.v1.PodSandboxStatusRequest;
import dev.berth.cri.v1.PodSandboxStatusResponse;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.spi.BackendException;
import dev.berth.spi.SandboxStatus;
import io.grpc.MethodDescriptor;

/**
 * PodSandboxStatus reports a pod from core's record and its backend's live state: the state kept in memory for a
 * backend that reports its sandboxes' ends ({@link dev.berth.core.cri.SandboxStateCache}), so that the call runs on
 * the transport's thread ({@link InlineRead}), else the backend's answer. A pod whose backend is unreachable (handler
 * no longer configured, plugin missing) is reported NOTREADY with the reason in verbose info, never dropped.
 */
public final class PodSandboxStatus implements InlineRead<PodSandboxStatusRequest, PodSandboxStatusResponse> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final CriRuntime cri;

    public PodSandboxStatus(CriRuntime cri) {
        this.cri = cri;
    }

    @Override
    public MethodDescriptor<PodSandboxStatusRequest, PodSandboxStatusResponse> method() {
        return RuntimeServiceGrpc.getPodSandboxStatusMethod();
    }

    @Override
    public PodSandboxStatusResponse call(PodSandboxStatusRequest req, RpcContext ctx) {
        SandboxRecord r = cri.sandbox(req.getPodSandboxId());
        ctx.pod(r.id());
        Handler h = cri.dispatcher().forSandboxOrNull(r);
        ctx.handler(h);
        PodSandboxState state = r.state() == SandboxRecord.State.READY ? PodSandboxState.SANDBOX_READY
                : PodSandboxState.SANDBOX_NOTREADY;
        String problem = "";
        SandboxStatus live = null;
        if (h == null) {
            state = PodSandboxState.SANDBOX_NOTREADY;
            problem = "runtime handler \"" + r.handler() + "\" is not configured";
        } else {
            try {
                live = cri.sandboxStates().status(r);
                if (live.state() != SandboxStatus.State.READY) {
                    state = PodSandboxState.SANDBOX_NOTREADY;
                }
            } catch (BackendException e) {
                state = PodSandboxState.SANDBOX_NOTREADY;
                problem = e.getMessage();
            }
        }
        PodSandboxConfig config = parse(r);
        var status = of(r, state)
                .setLinux(LinuxPodSandboxStatus.newBuilder().setNamespaces(Namespace.newBuilder()
                        .setOptions(config.getLinux().getSecurityContext().getNamespaceOptions())));
        if (!r.hostNetwork()) {
            var net = PodSandboxNetworkStatus.newBuilder().setIp(r.ip() == null ? "" : r.ip());
            r.additionalIps().forEach(ip -> net.addAdditionalIps(PodIP.newBuilder().setIp(ip)));
            status.setNetwork(net);
        }
        var resp = PodSandboxStatusResponse.newBuilder().setStatus(status)
                .setTimestamp(Protos.nanos(java.time.Instant.now()));
        if (req.getVerbose()) {
            ObjectNode info = JSON.createObjectNode();
            info.put("handler", r.handler());
            info.put("backendType", r.backendType());
            info.put("pluginId", h == null ? r.pluginId() : h.pluginId());
            info.put("pluginVersion", h == null ? "" : h.pluginVersion());
            info.put("netns", r.netnsPath() == null ? "" : r.netnsPath());
            if (live != null) {
                info.put("pid", live.pid());
                info.set("backend", JSON.valueToTree(live.info()));
            }
            if (!problem.isEmpty()) {
                info.put("problem", problem);
            }
            info.set("config", ProtoJson.of(config));
            RuntimeSpecs.ofSandbox(h, r.id()).ifPresent(spec -> info.set("runtimeSpec", spec));
            resp.putInfo("info", info.toString());
        }
        return resp.build();
    }

    /**
     * What a pod's status takes from its record alone: its id, metadata, creation time, labels, annotations and
     * handler, in {@code state}. Also the status of a pod whose record is gone, from its last record.
     */
    public static dev.berth.cri.v1.PodSandboxStatus.Builder of(SandboxRecord r, PodSandboxState state) {
        return dev.berth.cri.v1.PodSandboxStatus.newBuilder()
                .setId(r.id())
                .setMetadata(PodSandboxMetadata.newBuilder().setName(r.name()).setUid(r.uid())
                        .setNamespace(r.namespace()).setAttempt(r.attempt()))
                .setState(state)
                .setCreatedAt(Protos.nanos(r.createdAt()))
                .putAllLabels(r.labels())
                .putAllAnnotations(r.annotations())
                .setRuntimeHandler(r.handler());
    }

    static PodSandboxConfig parse(SandboxRecord r) {
        return StoredConfigs.sandbox(r.config());
    }
}
