package dev.berth.core.cri.sandbox;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.cri.Validation;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.store.SandboxRecord;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.StopPodSandboxRequest;
import dev.berth.cri.v1.StopPodSandboxResponse;
import io.grpc.MethodDescriptor;
import java.time.Duration;
import java.util.Optional;

/**
 * StopPodSandbox stops every process of the pod and releases its network. Idempotent, as CRI requires: the
 * kubelet calls it repeatedly, and stopping an unknown or already stopped pod succeeds.
 */
public final class StopPodSandbox implements UnaryRpc<StopPodSandboxRequest, StopPodSandboxResponse> {
    private final CriRuntime cri;
    private final SandboxEnvironment environment;

    public StopPodSandbox(CriRuntime cri, SandboxEnvironment environment) {
        this.cri = cri;
        this.environment = environment;
    }

    @Override
    public MethodDescriptor<StopPodSandboxRequest, StopPodSandboxResponse> method() {
        return RuntimeServiceGrpc.getStopPodSandboxMethod();
    }

    @Override
    public StopPodSandboxResponse call(StopPodSandboxRequest req, RpcContext ctx) {
        Validation.id(req.getPodSandboxId(), "pod sandbox id");
        Optional<SandboxRecord> found = cri.sandboxes().find(req.getPodSandboxId());
        if (found.isEmpty()) {
            return StopPodSandboxResponse.getDefaultInstance();
        }
        stop(cri, environment, found.get(), ctx);
        return StopPodSandboxResponse.getDefaultInstance();
    }

    /** Stops a pod; shared with RemovePodSandbox. */
    static void stop(CriRuntime cri, SandboxEnvironment environment, SandboxRecord sandbox, RpcContext ctx) {
        ctx.pod(sandbox.id());
        var lock = cri.lockFor(sandbox.id());
        lock.lock();
        try {
            Handler h = cri.dispatcher().forSandbox(sandbox);
            ctx.handler(h);
            for (var c : cri.containers().all()) {
                if (c.sandboxId().equals(sandbox.id())) {
                    h.backend().stopContainer(c.id(), Duration.ZERO);
                }
            }
            h.backend().stopSandbox(sandbox.id(), Duration.ZERO);
            environment.releaseNetwork(sandbox.id());
            SandboxRecord current = cri.sandboxes().get(sandbox.id()).orElse(sandbox);
            if (current.state() != SandboxRecord.State.NOTREADY) {
                cri.sandboxes().put(current.withState(SandboxRecord.State.NOTREADY));
            }
        } finally {
            lock.unlock();
        }
    }
}
