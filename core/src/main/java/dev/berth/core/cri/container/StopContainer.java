package dev.berth.core.cri.container;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.cri.Validation;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.store.ContainerRecord;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.StopContainerRequest;
import dev.berth.cri.v1.StopContainerResponse;
import dev.berth.spi.BackendEvent;
import io.grpc.MethodDescriptor;
import java.time.Duration;
import java.util.Optional;

/**
 * StopContainer stops a container with a grace period ({@code timeout} seconds, then SIGKILL). Idempotent:
 * stopping an exited or unknown container succeeds.
 */
public final class StopContainer implements UnaryRpc<StopContainerRequest, StopContainerResponse> {
    private final CriRuntime cri;

    public StopContainer(CriRuntime cri) {
        this.cri = cri;
    }

    @Override
    public MethodDescriptor<StopContainerRequest, StopContainerResponse> method() {
        return RuntimeServiceGrpc.getStopContainerMethod();
    }

    @Override
    public StopContainerResponse call(StopContainerRequest req, RpcContext ctx) {
        Validation.id(req.getContainerId(), "container id");
        if (req.getTimeout() < 0) {
            throw dev.berth.spi.BackendException.invalid("timeout must not be negative, got " + req.getTimeout());
        }
        Optional<ContainerRecord> found = cri.containers().find(req.getContainerId());
        if (found.isEmpty()) {
            return StopContainerResponse.getDefaultInstance();
        }
        ContainerRecord c = found.get();
        ctx.container(c.id()).pod(c.sandboxId());
        Handler h = cri.handlerOf(c);
        ctx.handler(h);
        // Not under the container's lock: a stop waits out the grace period, and meanwhile a stop with a shorter
        // timeout (the kubelet's, when a pod's deletion is forced) must be able to kill the container, and a remove
        // to go ahead. The backend orders what it must (RuntimeBackend#stopContainer).
        try {
            // A container its backend does not know has nothing to stop (Stop is idempotent); Remove cleans it up.
            h.backend().stopContainer(c.id(), Duration.ofSeconds(req.getTimeout()));
        } catch (dev.berth.spi.BackendException e) {
            if (e.kind() != dev.berth.spi.BackendException.Kind.NOT_FOUND) {
                throw e;
            }
        } finally {
            cri.containerStates().invalidate(c.id()); // also when it failed: its state may have moved
        }
        // STOPPED comes from the backend, which sees the process exit (once, however the exit came about).
        return StopContainerResponse.getDefaultInstance();
    }
}
