package dev.berth.core.cri.sandbox;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.cri.Validation;
import dev.berth.core.cri.container.RemoveContainer;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.store.SandboxRecord;
import dev.berth.cri.v1.RemovePodSandboxRequest;
import dev.berth.cri.v1.RemovePodSandboxResponse;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import io.grpc.MethodDescriptor;
import java.util.Optional;

/**
 * RemovePodSandbox stops the pod if needed, removes its containers, the sandbox and everything core prepared
 * for it. Idempotent: removing an unknown pod succeeds. If a step fails the record stays, so a retry finishes.
 */
public final class RemovePodSandbox implements UnaryRpc<RemovePodSandboxRequest, RemovePodSandboxResponse> {
    private final CriRuntime cri;
    private final SandboxEnvironment environment;
    private final RemoveContainer removeContainer;

    public RemovePodSandbox(CriRuntime cri, SandboxEnvironment environment, RemoveContainer removeContainer) {
        this.cri = cri;
        this.environment = environment;
        this.removeContainer = removeContainer;
    }

    @Override
    public MethodDescriptor<RemovePodSandboxRequest, RemovePodSandboxResponse> method() {
        return RuntimeServiceGrpc.getRemovePodSandboxMethod();
    }

    @Override
    public RemovePodSandboxResponse call(RemovePodSandboxRequest req, RpcContext ctx) {
        Validation.id(req.getPodSandboxId(), "pod sandbox id");
        Optional<SandboxRecord> found = cri.sandboxes().find(req.getPodSandboxId());
        if (found.isEmpty()) {
            return RemovePodSandboxResponse.getDefaultInstance();
        }
        SandboxRecord sandbox = found.get();
        StopPodSandbox.stop(cri, environment, sandbox, ctx);
        var lock = cri.lockFor(sandbox.id());
        lock.lock();
        try {
            Handler h = cri.dispatcher().forSandbox(sandbox);
            for (var c : cri.containers().all()) {
                if (c.sandboxId().equals(sandbox.id())) {
                    removeContainer.remove(c, h);
                }
            }
            h.backend().removeSandbox(sandbox.id());
            environment.release(sandbox.id());
            cri.sandboxes().remove(sandbox.id());
            cri.names().release(sandbox.nameKey());
            cri.dispatcher().unbind(sandbox.id());
        } finally {
            lock.unlock();
        }
        cri.forgetLock(sandbox.id());
        return RemovePodSandboxResponse.getDefaultInstance();
    }
}
