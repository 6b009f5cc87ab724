package dev.berth.core.cri.container;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.store.ContainerRecord;
import dev.berth.cri.v1.ContainerState;
import dev.berth.spi.ContainerStatus;
import java.time.Instant;

/**
 * A container's status: the one kept in memory while its backend's events say nothing changed, else its
 * backend's ({@link dev.berth.core.cri.ContainerStateCache}); UNKNOWN when the backend cannot say.
 */
final class ContainerStates {
    private ContainerStates() {}

    static ContainerStatus live(CriRuntime cri, ContainerRecord c) {
        return cri.containerStates().status(c);
    }

    static ContainerState toCri(ContainerStatus.State s) {
        return switch (s) {
            case CREATED -> ContainerState.CONTAINER_CREATED;
            case RUNNING -> ContainerState.CONTAINER_RUNNING;
            case EXITED -> ContainerState.CONTAINER_EXITED;
            case UNKNOWN -> ContainerState.CONTAINER_UNKNOWN;
        };
    }

    /** The SPI state of a CRI state filter. */
    static ContainerStatus.State fromCri(ContainerState s) {
        return switch (s) {
            case CONTAINER_CREATED -> ContainerStatus.State.CREATED;
            case CONTAINER_RUNNING -> ContainerStatus.State.RUNNING;
            case CONTAINER_EXITED -> ContainerStatus.State.EXITED;
            default -> ContainerStatus.State.UNKNOWN;
        };
    }

    static Instant created(ContainerRecord c) {
        return c.createdAt();
    }
}
