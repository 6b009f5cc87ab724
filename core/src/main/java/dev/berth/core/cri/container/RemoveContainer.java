package dev.berth.core.cri.container;

import dev.berth.core.cri.Cleanup;
import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.cri.Validation;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.store.ContainerRecord;
import dev.berth.cri.v1.RemoveContainerRequest;
import dev.berth.cri.v1.RemoveContainerResponse;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.spi.BackendEvent;
import dev.berth.spi.BackendException;
import io.grpc.MethodDescriptor;
import java.util.Optional;

/**
 * RemoveContainer removes a container (stopping it first), its root file system and its record.
 * Idempotent: removing an unknown container succeeds. A container its backend does not know (berth was killed
 * while creating it) is removed too: the backend cleans up whatever the create left, and core drops the record.
 * If the backend cannot remove it, the record stays and the error says so; the next RemoveContainer retries.
 */
public final class RemoveContainer implements UnaryRpc<RemoveContainerRequest, RemoveContainerResponse> {
    private final CriRuntime cri;
    private final ContainerEnvironment environment;

    public RemoveContainer(CriRuntime cri, ContainerEnvironment environment) {
        this.cri = cri;
        this.environment = environment;
    }

    @Override
    public MethodDescriptor<RemoveContainerRequest, RemoveContainerResponse> method() {
        return RuntimeServiceGrpc.getRemoveContainerMethod();
    }

    @Override
    public RemoveContainerResponse call(RemoveContainerRequest req, RpcContext ctx) {
        Validation.id(req.getContainerId(), "container id");
        Optional<ContainerRecord> found = cri.containers().find(req.getContainerId());
        if (found.isEmpty()) {
            return RemoveContainerResponse.getDefaultInstance();
        }
        ContainerRecord c = found.get();
        ctx.container(c.id()).pod(c.sandboxId());
        Handler h = handler(c);
        ctx.handler(h);
        remove(c, h);
        return RemoveContainerResponse.getDefaultInstance();
    }

    /** The handler of the container's pod, or null if it has none that is reachable. */
    private Handler handler(ContainerRecord c) {
        return cri.sandboxes().get(c.sandboxId()).map(s -> cri.dispatcher().forSandboxOrNull(s)).orElse(null);
    }

    /**
     * Removes one container; shared with RemovePodSandbox. {@code h} is null when the pod's handler cannot be
     * reached: then nothing is removed and the error says why. The root file system is released only once the
     * backend removed the container, which may still use it.
     */
    public void remove(ContainerRecord c, Handler h) {
        Cleanup cleanup = new Cleanup("remove container \"" + c.id() + "\"");
        var lock = cri.lockFor(c.id());
        lock.lock();
        try {
            boolean backendDone;
            if (h == null) {
                cleanup.fail("remove it from its runtime handler", new BackendException(
                        BackendException.Kind.UNAVAILABLE, "its pod sandbox \"" + c.sandboxId() + "\" has no "
                        + "configured runtime handler"));
                backendDone = false;
            } else {
                backendDone = cleanup.run("remove it from runtime handler \"" + h.name() + "\"",
                        () -> h.backend().removeContainer(c.id()));
            }
            if (backendDone && cleanup.run("release its root file system", () -> environment.release(c.rootfsKey()))) {
                cri.containers().remove(c.id());
                cri.names().release(c.nameKey());
            }
        } finally {
            lock.unlock();
        }
        cleanup.throwIfFailed("The container stays listed until nothing of it is left on the node; "
                + "RemoveContainer retries.");
        cri.forgetLock(c.id());
        cri.events().publish(new BackendEvent(BackendEvent.Type.DELETED, c.id(), c.sandboxId(), null));
    }
}
