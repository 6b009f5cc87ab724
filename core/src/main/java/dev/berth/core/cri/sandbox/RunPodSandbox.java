package dev.berth.core.cri.sandbox;

import dev.berth.core.cri.AbandonedCreates;
import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.Errors;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.cri.Validation;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.mapping.SpiMapper;
import dev.berth.core.store.SandboxRecord;
import dev.berth.core.tracing.Tracing;
import dev.berth.cri.v1.NamespaceMode;
import dev.berth.cri.v1.PodSandboxConfig;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.cri.v1.RunPodSandboxResponse;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.spi.BackendException;
import dev.berth.spi.SandboxSpec;
import io.grpc.MethodDescriptor;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * RunPodSandbox creates and starts a pod sandbox on the handler named by {@code runtime_handler}.
 *
 * <p>Steps, each undone in reverse order if a later one fails: reserve the pod's name, persist the record as
 * CREATING, prepare the environment (sandbox root file system, network namespace), connect the pod network (CNI),
 * create the sandbox in the backend, start it. When the backend does not need the network before create, CNI
 * runs on a virtual thread while the backend creates and starts the sandbox, and is awaited before the sandbox
 * is reported READY. If an undo step itself fails, the record stays (NOTREADY) so that the kubelet's
 * RemovePodSandbox can retry the cleanup; it is never silently dropped.
 */
public final class RunPodSandbox implements UnaryRpc<RunPodSandboxRequest, RunPodSandboxResponse> {
    private static final System.Logger LOG = System.getLogger(RunPodSandbox.class.getName());

    private final CriRuntime cri;
    private final SandboxEnvironment environment;
    private final dev.berth.core.dispatch.HandlerHealth health;

    public RunPodSandbox(CriRuntime cri, SandboxEnvironment environment, dev.berth.core.dispatch.HandlerHealth health) {
        this.cri = cri;
        this.environment = environment;
        this.health = health;
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
        Validation.podMetadata(md);
        Validation.labels(config.getLabelsMap(), "pod sandbox labels");
        Validation.annotations(config.getAnnotationsMap(), "pod sandbox annotations");
        Validation.hostname(config.getHostname());
        Validation.portMappings(config.getPortMappingsList());
        Validation.ids(config.getLinux().getSecurityContext(), "linux.security_context");
        Validation.namespaceOptions(config.getLinux().getSecurityContext().getNamespaceOptions(),
                "linux.security_context.namespace_options");
        Validation.dnsConfig(config.getDnsConfig());
        Validation.cgroupParent(config.getLinux().getCgroupParent());
        Errors.checkMetadataSize(config.getLabelsMap(), config.getAnnotationsMap(), "pod sandbox");
        String id = CriRuntime.newId();
        // Bound to the handler's newest generation from here on, so a reload cannot close it under this call.
        Handler handler = cri.dispatcher().claim(id, req.getRuntimeHandler());
        ctx.handler(handler);
        ctx.pod(id);
        // A handler that says it cannot run pods (a missing runtime binary, a host without what the backend needs)
        // is refused here, with its reasons, before a name, a network namespace or a network is set up.
        var handlerHealth = health.healthBeforeWork(handler).health();
        if (!handlerHealth.ready()) {
            cri.dispatcher().unbind(id);
            throw new BackendException(BackendException.Kind.UNAVAILABLE, "handler \"" + handler.name() + "\" ("
                    + handler.type() + ") cannot run pods: " + dev.berth.core.dispatch.HandlerHealth.failures(
                    handlerHealth));
        }
        String nameKey = String.join("_", md.getName(), md.getNamespace(), md.getUid(),
                Integer.toString(md.getAttempt()));
        AbandonedCreates.Reservation reservation;
        try {
            reservation = cri.abandonedCreates().reserve(nameKey, id, req, ctx, "pod sandbox");
        } catch (RuntimeException e) {
            cri.dispatcher().unbind(id);
            throw e;
        }
        if (reservation instanceof AbandonedCreates.HandedOver(String made)) {
            // the kubelet's retry of a RunPodSandbox it gave up on gets the pod that one made
            cri.dispatcher().unbind(id);
            ctx.pod(made);
            return RunPodSandboxResponse.newBuilder().setPodSandboxId(made).build();
        }
        AbandonedCreates.Attempt attempt = ((AbandonedCreates.Reserved) reservation).attempt();
        boolean hostNetwork = config.getLinux().getSecurityContext().getNamespaceOptions().getNetwork()
                == NamespaceMode.NODE;
        SandboxRecord record = new SandboxRecord(id, nameKey, md.getName(), md.getUid(), md.getNamespace(),
                md.getAttempt(), handler.name(), handler.type(), handler.pluginId(), config.getLabelsMap(),
                config.getAnnotationsMap(), Instant.now(), config.toByteArray(), null, "", null, hostNetwork,
                SandboxRecord.State.CREATING, handler.generation());

        Deque<Undo> undo = new ArrayDeque<>();
        undo.push(new Undo("unbind the sandbox", () -> cri.dispatcher().unbind(id)));
        undo.push(new Undo("release the name", () -> cri.names().release(nameKey)));
        try {
            cri.sandboxes().put(record);
            undo.push(new Undo("delete the record", () -> cri.sandboxes().remove(id)));

            SpiMapper.Prepared prepared = environment.prepare(id, config, handler, undo);
            // The spec carries no addresses, so it is the same before and after CNI.
            SandboxSpec spec = SpiMapper.sandbox(id, config, prepared);
            // CNI takes tens of milliseconds, as long as the backend's create: overlap them where the backend can.
            FutureTask<SpiMapper.Prepared> network = null;
            if (prepared.netnsPath() == null || handler.backend().podFeatures(spec).networkBeforeCreate()) {
                prepared = environment.connect(id, config, prepared);
            } else {
                SpiMapper.Prepared unconnected = prepared;
                network = new FutureTask<>(() -> environment.connect(id, config, unconnected));
                Thread.ofVirtual().name("cni-add-" + id.substring(0, 12)).start(Tracing.wrap(network));
            }
            try {
                handler.backend().createSandbox(spec);
                undo.push(new Undo("remove the sandbox from the backend", () -> handler.backend().removeSandbox(id)));
                handler.backend().startSandbox(id);
            } catch (RuntimeException | Error e) {
                // The network's undo must not race its setup. If the network failed too, its rollback took the
                // namespace from under the backend, so its failure is the cause to name first.
                RuntimeException networkFailure = network == null ? null : failureOf(network);
                if (networkFailure != null && e instanceof RuntimeException created) {
                    throw bothFailed(networkFailure, created);
                }
                throw e;
            }
            if (network != null) {
                prepared = await(network);
            }
            if (prepared.netnsPath() != null) {
                record = record.withNetwork(prepared.netnsPath().toString(), prepared.ip(), prepared.additionalIps());
            }
            SandboxRecord ready = record.withState(SandboxRecord.State.READY);
            cri.sandboxes().put(ready);
            keepStatus(ready);
            cri.abandonedCreates().made(attempt, id, ctx.callerGone());
            return RunPodSandboxResponse.newBuilder().setPodSandboxId(id).build();
        } catch (RuntimeException | Error e) {
            rollback(id, undo, record);
            cri.abandonedCreates().failed(attempt);
            throw e;
        }
    }

    /**
     * Asks the backend once for the started sandbox's status and keeps it, where the backend reports the sandbox's
     * end, so that the kubelet's first PodSandboxStatus answers from memory. Failing here fails nothing: the
     * status is then asked for when it is read.
     */
    private void keepStatus(SandboxRecord ready) {
        try {
            cri.sandboxStates().settle(ready);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "status of sandbox " + ready.id() + " not kept: " + e.getMessage());
        }
    }

    private static SpiMapper.Prepared await(FutureTask<SpiMapper.Prepared> task) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return task.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof RuntimeException r) {
                        throw r;
                    }
                    if (e.getCause() instanceof Error err) {
                        throw err;
                    }
                    throw new IllegalStateException(e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Waits for the network task; returns its failure (already rolled back), or null. */
    private static RuntimeException failureOf(FutureTask<SpiMapper.Prepared> task) {
        try {
            await(task);
            return null;
        } catch (RuntimeException e) {
            return e;
        } catch (Error e) {
            return new IllegalStateException(e);
        }
    }

    /** One error naming the network's failure and the backend's, with the network's code. */
    private static BackendException bothFailed(RuntimeException network, RuntimeException created) {
        BackendException.Kind kind = network instanceof BackendException b ? b.kind()
                : BackendException.Kind.INTERNAL;
        BackendException both = new BackendException(kind, network.getMessage()
                + "; creating the sandbox meanwhile failed too: " + created.getMessage(), network);
        both.addSuppressed(created);
        return both;
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
