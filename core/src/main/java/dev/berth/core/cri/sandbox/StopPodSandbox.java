package dev.berth.core.cri.sandbox;

import dev.berth.core.cri.Cleanup;
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
 *
 * <p>It always makes progress: the pod is marked NOTREADY first, and every step (stop each container, stop the
 * sandbox, release the network) runs even when one before it failed. A failed step is logged and reported in
 * one error naming every step that failed; the next StopPodSandbox or RemovePodSandbox retries it.
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
        stop(cri, environment, found.get(), ctx).throwIfFailed("The pod is NOTREADY; StopPodSandbox or "
                + "RemovePodSandbox retries the steps that failed.");
        return StopPodSandboxResponse.getDefaultInstance();
    }

    /** Stops a pod, every step even if one fails; returns what failed. Shared with RemovePodSandbox. */
    static Cleanup stop(CriRuntime cri, SandboxEnvironment environment, SandboxRecord sandbox, RpcContext ctx) {
        ctx.pod(sandbox.id());
        Cleanup cleanup = new Cleanup("stop pod sandbox \"" + sandbox.id() + "\"");
        var lock = cri.lockFor(sandbox.id());
        lock.lock();
        try {
            SandboxRecord current = cri.sandboxes().get(sandbox.id()).orElse(sandbox);
            if (current.state() != SandboxRecord.State.NOTREADY) {
                cri.sandboxes().put(current.withState(SandboxRecord.State.NOTREADY));
            }
            Handler h = cri.handlerFor(sandbox, cleanup, "stop its containers and sandbox");
            ctx.handler(h);
            if (h != null) {
                for (String id : cri.containerIdsOf(sandbox.id())) {
                    cri.containers().get(id).ifPresent(c -> cleanup.run("stop container \"" + c.id() + "\"",
                            () -> h.backend().stopContainer(c.id(), Duration.ZERO)));
                }
                cleanup.run("stop the sandbox in runtime handler \"" + h.name() + "\"",
                        () -> h.backend().stopSandbox(sandbox.id(), Duration.ZERO));
                // Their exits come as events; a container that never ran may have changed without one.
                cri.containerIdsOf(sandbox.id()).forEach(cri.containerStates()::invalidate);
                cri.sandboxStates().invalidate(sandbox.id());
            }
            cleanup.run("release the pod network", () -> environment.releaseNetwork(sandbox.id()));
        } finally {
            lock.unlock();
        }
        return cleanup;
    }
}
