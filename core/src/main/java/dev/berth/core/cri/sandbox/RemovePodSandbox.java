package dev.berth.core.cri.sandbox;

import dev.berth.core.cri.Cleanup;
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
 * for it. Idempotent: removing an unknown pod succeeds.
 *
 * <p>It always makes progress: every step runs even when one before it failed (see {@link Cleanup}), and the
 * record is dropped once nothing of the pod is left on the node. A step that fails leaves the record (NOTREADY)
 * and answers an error naming what is left; the next RemovePodSandbox retries just that. The pod's root file
 * system and files are released only once the backend removed the sandbox, which may still use them.
 */
public final class RemovePodSandbox implements UnaryRpc<RemovePodSandboxRequest, RemovePodSandboxResponse> {
    private static final System.Logger LOG = System.getLogger(RemovePodSandbox.class.getName());

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
        Cleanup stopped = StopPodSandbox.stop(cri, environment, sandbox, ctx);
        if (!stopped.ok()) {
            // The removal below kills and removes what the stop could not stop, and retries the network.
            LOG.log(System.Logger.Level.INFO, "pod sandbox {0}: the stop before removal was incomplete; removing "
                    + "anyway", sandbox.id());
        }
        Cleanup cleanup = new Cleanup("remove pod sandbox \"" + sandbox.id() + "\"");
        var lock = cri.lockFor(sandbox.id());
        lock.lock();
        try {
            Handler h = cri.handlerFor(sandbox, cleanup, "remove its containers and sandbox");
            for (String id : cri.containerIdsOf(sandbox.id())) {
                cri.containers().get(id).ifPresent(c -> cleanup.run("remove container \"" + c.id() + "\"",
                        () -> removeContainer.remove(c, h)));
            }
            boolean backendDone = h != null && cleanup.run("remove the sandbox from runtime handler \""
                    + h.name() + "\"", () -> h.backend().removeSandbox(sandbox.id()));
            if (backendDone) {
                cleanup.run("release the pod's network, root file system and files",
                        () -> environment.release(sandbox.id()));
            } else {
                cleanup.run("release the pod network", () -> environment.releaseNetwork(sandbox.id()));
            }
            if (cleanup.ok()) {
                cri.sandboxes().remove(sandbox.id());
                cri.names().release(sandbox.nameKey());
                cri.dispatcher().unbind(sandbox.id());
            }
        } finally {
            lock.unlock();
        }
        cleanup.throwIfFailed("The pod stays listed (NOTREADY) until nothing of it is left on the node; "
                + "RemovePodSandbox retries the steps that failed.");
        cri.forgetLock(sandbox.id());
        return RemovePodSandboxResponse.getDefaultInstance();
    }
}
