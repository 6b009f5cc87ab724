package dev.berth.core.cri;

import dev.berth.core.dispatch.Handler;
import dev.berth.core.store.ContainerRecord;
import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerStatus;
import java.util.List;

/**
 * What ExecSync, Exec and Attach (runtime.v1, and v1alpha2 and the proto2 runtime through the same classes) check
 * before a backend runs anything, so that every backend sees only well-formed calls on running containers and
 * the client gets the same status whatever the handler: an empty command is INVALID_ARGUMENT, a container that
 * is not running FAILED_PRECONDITION naming its state.
 */
public final class ExecPreconditions {
    private ExecPreconditions() {}

    /** INVALID_ARGUMENT when {@code cmd} is empty. */
    public static void requireCommand(List<String> cmd) {
        if (cmd.isEmpty()) {
            throw BackendException.invalid("cmd must not be empty");
        }
    }

    /**
     * Asks the container's backend for its state; FAILED_PRECONDITION unless it is running (a container the backend
     * does not have is FAILED_PRECONDITION too, as {@link CriRuntime#onContainer} words it).
     *
     * @param action what the RPC would do, as in "exec in" or "attach to"
     */
    public static void requireRunning(CriRuntime cri, ContainerRecord c, Handler h, String action) {
        ContainerStatus s = cri.onContainer(c, h, action, () -> h.backend().containerStatus(c.id()));
        if (s == null || s.state() != ContainerStatus.State.RUNNING) {
            String state = s == null ? "unknown" : "CONTAINER_" + s.state();
            throw new BackendException(BackendException.Kind.FAILED_PRECONDITION, "cannot " + action
                    + " container \"" + c.id() + "\": it is " + state + ", not running");
        }
    }
}
