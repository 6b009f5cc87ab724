package dev.berth.core.cri.container;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.InlineRead;
import dev.berth.core.cri.Protos;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.RuntimeSpecs;
import dev.berth.core.cri.ProtoJson;
import dev.berth.core.cri.StoredConfigs;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.store.ContainerRecord;
import dev.berth.cri.v1.ContainerConfig;
import dev.berth.cri.v1.ContainerMetadata;
import dev.berth.cri.v1.ContainerResources;
import dev.berth.cri.v1.ContainerStatusRequest;
import dev.berth.cri.v1.ContainerStatusResponse;
import dev.berth.cri.v1.ImageSpec;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.spi.BackendException;
import io.grpc.MethodDescriptor;
import java.util.LinkedHashMap;
import java.util.Map;

/** ContainerStatus reports a container from its record and its backend's live status. */
public final class ContainerStatus implements InlineRead<ContainerStatusRequest, ContainerStatusResponse> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final CriRuntime cri;

    public ContainerStatus(CriRuntime cri) {
        this.cri = cri;
    }

    @Override
    public MethodDescriptor<ContainerStatusRequest, ContainerStatusResponse> method() {
        return RuntimeServiceGrpc.getContainerStatusMethod();
    }

    @Override
    public ContainerStatusResponse call(ContainerStatusRequest req, RpcContext ctx) {
        ContainerRecord c = cri.container(req.getContainerId());
        ctx.container(c.id()).pod(c.sandboxId());
        dev.berth.spi.ContainerStatus live = ContainerStates.live(cri, c);
        ContainerConfig config = config(c);
        var status = dev.berth.cri.v1.ContainerStatus.newBuilder()
                .setId(c.id())
                .setMetadata(ContainerMetadata.newBuilder().setName(c.name()).setAttempt(c.attempt()))
                .setState(ContainerStates.toCri(live.state()))
                .setCreatedAt(Protos.nanos(c.createdAt()))
                .setStartedAt(Protos.nanos(live.startedAt()))
                .setFinishedAt(Protos.nanos(live.finishedAt()))
                .setExitCode(live.exitCode())
                .setImage(ImageSpec.newBuilder().setImage(c.reportedImage()))
                .setImageRef(c.reportedImageRef())
                .setImageId(c.imageId())
                .setReason(live.reason())
                .setMessage(live.message())
                .putAllLabels(c.labels())
                .putAllAnnotations(c.annotations())
                .addAllMounts(config.getMountsList())
                .setLogPath(c.logPath());
        if (config.getLinux().hasResources()) {
            status.setResources(ContainerResources.newBuilder().setLinux(config.getLinux().getResources()));
        }
        var resp = ContainerStatusResponse.newBuilder().setStatus(status);
        if (req.getVerbose()) {
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("sandboxID", c.sandboxId());
            info.put("pid", live.pid());
            info.put("rootfsKey", c.rootfsKey());
            info.put("backend", live.info());
            Handler h;
            try {
                h = cri.handlerOf(c);
            } catch (BackendException e) { // its pod or handler gone: the status still answers
                h = null;
            }
            info.put("config", ProtoJson.of(config));
            RuntimeSpecs.ofContainer(h, c.id()).ifPresent(spec -> info.put("runtimeSpec", spec));
            try {
                resp.putInfo("info", JSON.writeValueAsString(info));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
        return resp.build();
    }

    static ContainerConfig config(ContainerRecord c) {
        return StoredConfigs.container(c.config());
    }
}
