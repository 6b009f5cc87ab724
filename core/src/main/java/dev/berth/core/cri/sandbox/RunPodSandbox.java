package dev.berth.core.cri.sandbox;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.Errors;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.mapping.SpiMapper;
import dev.berth.core.store.SandboxRecord;
import dev.berth.cri.v1.NamespaceMode;
import dev.berth.cri.v1.PodSandboxConfig;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.cri.v1.RunPodSandboxResponse;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.spi.BackendException;
import io.grpc.MethodDescriptor;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * RunPodSandbox creates and starts a pod sandbox on the handler named by {@code runtime_handler}.
 *
 * <p>Steps, each undone in reverse order if a later one fails: reserve the pod's name, persist the record as
 * CREATING, prepare the environment (network namespace, sandbox root file system), create the sandbox in the
 * backend, start it. If an undo step itself fails, the record stays (NOTREADY) so that the kubelet's
 * RemovePodSandbox can retry the cleanup; it is never silently dropped.
 */
public final class RunPodSandbox implements UnaryRpc<RunPodSandboxRequest, RunPodSandboxResponse> {
    private static final System.Logger LOG = System.getLogger(RunPodSandbox.class.getName());

    private final CriRuntime cri;
    private final SandboxEnvironment environment;

    public RunPodSandbox(CriRuntime cri, SandboxEnvironment environment) {
        this.cri = cri;
        this.environment = environment;
    }

    @Override
    public MethodDescriptor<RunPodSandboxRequest, RunPodSandboxResponse> method() {
        return RuntimeServiceGrpc.getRunPodSandboxMethod();
    }

    @Override
    public RunPodSandboxResponse call(RunPodSandboxRequest req, RpcContext ctx) {
        PodSandboxConfig config = req.getConfig();
        if (!req.hasConfig() || !config.hasMetadata()) {
            throw BackendException.invalid("pod sandbox config with metadata is required");
        }
        var md = config.getMetadata();
        Errors.require(md.getName(), "pod sandbox metadata.name");
        Errors.checkMetadataSize(config.getLabelsMap(), config.getAnnotationsMap(), "pod sandbox");
        Handler handler = cri.dispatcher().registry().resolve(req.getRuntimeHandler());
        ctx.handler(handler);

        String id = CriRuntime.newId();
        ctx.pod(id);
        String nameKey = String.join("_", md.getName(), md.getNamespace(), md.getUid(),
                Integer.toString(md.getAttempt()));
        String holder = cri.names().reserve(nameKey, id);
        if (holder != null) {
            throw new BackendException(BackendException.Kind.ALREADY_EXISTS, "pod sandbox name \"" + nameKey
                    + "\" is already used by pod sandbox \"" + holder + "\"");
        }
        boolean hostNetwork = config.getLinux().getSecurityContext().getNamespaceOptions().getNetwork()
                == NamespaceMode.NODE;
        SandboxRecord record = new SandboxRecord(id, nameKey, md.getName(), md.getUid(), md.getNamespace(),
                md.getAttempt(), handler.name(), handler.type(), handler.pluginId(), config.getLabelsMap(),
                config.getAnnotationsMap(), Instant.now(), config.toByteArray(), null, "", null, hostNetwork,
                SandboxRecord.State.CREATING);

        Deque<Undo> undo = new ArrayDeque<>();
        undo.push(new Undo("release the name", () -> cri.names().release(nameKey)));
        try {
            cri.sandboxes().put(record);
            undo.push(new Undo("delete the record", () -> cri.sandboxes().remove(id)));

            SpiMapper.Prepared prepared = environment.prepare(id, config, handler, undo);
            if (prepared.netnsPath() != null) {
                record = record.withNetwork(prepared.netnsPath().toString(), prepared.ip(), prepared.additionalIps());
                cri.sandboxes().put(record);
            }

            handler.backend().createSandbox(SpiMapper.sandbox(id, config, prepared));
            undo.push(new Undo("remove the sandbox from the backend", () -> handler.backend().removeSandbox(id)));
            cri.dispatcher().bind(id, handler);
            undo.push(new Undo("unbind the sandbox", () -> cri.dispatcher().unbind(id)));

            handler.backend().startSandbox(id);
            cri.sandboxes().put(record.withState(SandboxRecord.State.READY));
            return RunPodSandboxResponse.newBuilder().setPodSandboxId(id).build();
        } catch (RuntimeException | Error e) {
            rollback(id, undo, record);
            throw e;
        }
    }

    private void rollback(String id, Deque<Undo> undo, SandboxRecord record) {
        while (!undo.isEmpty()) {
            Undo u = undo.pop();
            try {
                u.action().run();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "rollback of pod sandbox {0} failed to {1}: {2}; the sandbox stays "
                        + "listed as NOTREADY so that RemovePodSandbox can finish the cleanup", id, u.what(),
                        e.getMessage());
                cri.sandboxes().put(record.withState(SandboxRecord.State.NOTREADY));
                return;
            }
        }
    }

    /** One step of rollback, described for the log. */
    public record Undo(String what, Runnable action) {}
}
