package dev.berth.core.cri.container;

import dev.berth.core.cdi.CdiEdits;
import dev.berth.core.cdi.CdiRegistry;
import dev.berth.core.cri.AbandonedCreates;
import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.Errors;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.cri.Validation;
import dev.berth.core.cri.sandbox.PodHostname;
import dev.berth.core.cri.sandbox.RunPodSandbox;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.mapping.SpiMapper;
import dev.berth.core.store.ContainerRecord;
import dev.berth.core.store.SandboxRecord;
import dev.berth.cri.v1.ContainerConfig;
import dev.berth.cri.v1.CreateContainerRequest;
import dev.berth.cri.v1.CreateContainerResponse;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.spi.BackendEvent;
import dev.berth.spi.BackendException;
import io.grpc.MethodDescriptor;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * CreateContainer creates a container in a ready pod, on the pod's handler. Rolls back in reverse order:
 * name reservation, root file system, record, backend container.
 */
public final class CreateContainer implements UnaryRpc<CreateContainerRequest, CreateContainerResponse> {
    private static final System.Logger LOG = System.getLogger(CreateContainer.class.getName());

    private final CriRuntime cri;
    private final ContainerEnvironment environment;
    private final CdiRegistry cdi;

    public CreateContainer(CriRuntime cri, ContainerEnvironment environment, CdiRegistry cdi) {
        this.cri = cri;
        this.environment = environment;
        this.cdi = cdi;
    }

    @Override
    public MethodDescriptor<CreateContainerRequest, CreateContainerResponse> method() {
        return RuntimeServiceGrpc.getCreateContainerMethod();
    }

    @Override
    public CreateContainerResponse call(CreateContainerRequest req, RpcContext ctx) {
        SandboxRecord sandbox = cri.sandbox(req.getPodSandboxId());
        ctx.pod(sandbox.id());
        ContainerConfig config = req.getConfig();
        if (!req.hasConfig() || !config.hasMetadata()) {
            throw BackendException.invalid("container config with metadata is required");
        }
        Validation.containerMetadata(config.getMetadata());
        Validation.labels(config.getLabelsMap(), "container labels");
        Validation.annotations(config.getAnnotationsMap(), "container annotations");
        Errors.require(config.getImage().getImage(), "container image");
        Validation.ids(config.getLinux().getSecurityContext(), "linux.security_context");
        Validation.namespaceOptions(config.getLinux().getSecurityContext().getNamespaceOptions(),
                "linux.security_context.namespace_options");
        Errors.checkMetadataSize(config.getLabelsMap(), config.getAnnotationsMap(), "container");
        if (sandbox.state() != SandboxRecord.State.READY) {
            throw new BackendException(BackendException.Kind.FAILED_PRECONDITION, "pod sandbox \"" + sandbox.id()
                    + "\" is not ready");
        }
        requirePrivilegedPod(config, sandbox);
        CdiEdits.Prepared cdiEdits = cdiEdits(config);
        Handler handler = cri.dispatcher().forSandbox(sandbox);
        ctx.handler(handler);
        String id = CriRuntime.newId();
        ctx.container(id);
        String nameKey = String.join("_", config.getMetadata().getName(), sandbox.name(), sandbox.namespace(),
                sandbox.uid(), Integer.toString(config.getMetadata().getAttempt()));
        var reservation = cri.abandonedCreates().reserve(nameKey, id, req, ctx, "container");
        if (reservation instanceof AbandonedCreates.HandedOver(String made)) {
            // the kubelet's retry of a CreateContainer it gave up on gets the container that one made
            ctx.container(made);
            return CreateContainerResponse.newBuilder().setContainerId(made).build();
        }
        AbandonedCreates.Attempt attempt = ((AbandonedCreates.Reserved) reservation).attempt();
        Deque<RunPodSandbox.Undo> undo = new ArrayDeque<>();
        undo.push(new RunPodSandbox.Undo("release the name", () -> cri.names().release(nameKey)));
        try {
            ContainerEnvironment.Prepared p = environment.prepare(id, config, sandbox, handler, undo);
            String logPath = logPath(sandbox, config);
            ContainerRecord record = new ContainerRecord(id, sandbox.id(), nameKey, config.getMetadata().getName(),
                    config.getMetadata().getAttempt(), config.getImage().getImage(), p.imageId(),
                    config.getLabelsMap(), config.getAnnotationsMap(), Instant.now(), logPath,
                    config.toByteArray(), p.rootfsKey(), p.imageName(), p.imageRef());
            cri.containers().put(record);
            undo.push(new RunPodSandbox.Undo("delete the record", () -> cri.containers().remove(id)));
            handler.backend().createContainer(cdiEdits.applyTo(SpiMapper.container(id, sandbox.id(), config,
                    p.image(), p.rootfs(), logPath, PodHostname.of(PodConfigs.of(sandbox), sandbox.hostNetwork()))));
            cri.events().publish(new BackendEvent(BackendEvent.Type.CREATED, id, sandbox.id(), null));
            cri.abandonedCreates().made(attempt, id, ctx.callerGone());
            return CreateContainerResponse.newBuilder().setContainerId(id).build();
        } catch (RuntimeException | Error e) {
            while (!undo.isEmpty()) {
                var u = undo.pop();
                try {
                    u.action().run();
                } catch (RuntimeException ue) {
                    LOG.log(System.Logger.Level.ERROR, "rollback of container {0} failed to {1}: {2}", id, u.what(),
                            ue.getMessage());
                }
            }
            cri.abandonedCreates().failed(attempt);
            throw e;
        }
    }

    /**
     * A privileged container runs only in a pod created privileged, as in containerd and CRI-O: the kubelet makes a
     * pod's sandbox privileged when one of its containers is, so a pod admitted without it cannot gain it later.
     */
    static void requirePrivilegedPod(ContainerConfig config, SandboxRecord sandbox) {
        if (config.getLinux().getSecurityContext().getPrivileged()
                && !PodConfigs.of(sandbox).getLinux().getSecurityContext().getPrivileged()) {
            throw new BackendException(BackendException.Kind.FAILED_PRECONDITION, "container \""
                    + config.getMetadata().getName() + "\" is privileged, but pod sandbox \"" + sandbox.id()
                    + "\" was not created privileged (linux.security_context.privileged)");
        }
    }

    /**
     * The CDI devices the container asks for (the {@code CDI_devices} field, which Kubernetes' dynamic resource
     * allocation fills, and the {@code cdi.k8s.io/} annotations of device plugins), resolved from this node's CDI
     * specs and checked, before anything is reserved: a container is refused, naming the device, rather than run
     * without what it was given.
     */
    private CdiEdits.Prepared cdiEdits(ContainerConfig config) {
        List<String> asked = CdiRegistry.requested(config.getCDIDevicesList().stream()
                .map(dev.berth.cri.v1.CDIDevice::getName).toList(), config.getAnnotationsMap());
        if (asked.isEmpty()) {
            return CdiEdits.Prepared.NONE;
        }
        return CdiEdits.prepare(cdi.resolve(config.getMetadata().getName(), asked));
    }

    /**
     * The absolute log path: the pod's log directory joined with the container's relative log path. CRI defines
     * {@code log_path} relative to the pod's {@code log_directory}: with either empty the container has no log (as in
     * containerd and CRI-O), rather than a path relative to wherever the daemon runs.
     */
    static String logPath(SandboxRecord sandbox, ContainerConfig config) {
        String rel = config.getLogPath();
        if (rel.isEmpty()) {
            return "";
        }
        String dir = PodConfigs.logDirectory(sandbox);
        if (dir.isEmpty()) {
            return "";
        }
        if (!Path.of(dir).isAbsolute()) {
            throw BackendException.invalid("the pod's log_directory \"" + dir + "\" is not an absolute path");
        }
        Path normal = Path.of(dir).resolve(rel).normalize();
        if (!normal.startsWith(Path.of(dir).normalize())) {
            throw BackendException.invalid("container log_path \"" + rel + "\" escapes the pod's log directory");
        }
        return normal.toString();
    }
}
