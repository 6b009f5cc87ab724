package dev.berth.core.cri.container;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.store.ContainerRecord;
import dev.berth.cri.v1.ContainerState;
import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerStatus;
import java.time.Instant;
import java.util.Map;

/** Reads a container's live status from its backend, or an UNKNOWN status when the backend cannot say. */
final class ContainerStates {
    private ContainerStates() {}

    static ContainerStatus live(CriRuntime cri, ContainerRecord c) {
        try {
            Handler h = cri.handlerOf(c);
            return h.backend().containerStatus(c.id());
        } catch (BackendException e) {
            return new ContainerStatus(c.id(), ContainerStatus.State.UNKNOWN, c.createdAt(), null, null, 0,
                    "Unknown", e.getMessage(), 0, Map.of());
        }
    }

    static ContainerState toCri(ContainerStatus.State s) {
        return switch (s) {
            case CREATED -> ContainerState.CONTAINER_CREATED;
            case RUNNING -> ContainerState.CONTAINER_RUNNING;
            case EXITED -> ContainerState.CONTAINER_EXITED;
            case UNKNOWN -> ContainerState.CONTAINER_UNKNOWN;
        };
    }

    static Instant created(ContainerRecord c) {
        return c.createdAt();
    }
}
