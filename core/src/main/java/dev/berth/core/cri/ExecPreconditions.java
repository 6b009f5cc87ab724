package dev.berth.core.cri;

import dev.berth.core.dispatch.Handler;
import dev.berth.core.store.ContainerRecord;
import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerStatus;
import java.util.List;

/**
 * What ExecSync, Exec and Attach (runtime.v1, and v1alpha2 and the proto2 runtime through the same classes) check,
 * so that the client gets the same status whatever the handler: an empty command is INVALID_ARGUMENT before a
 * backend runs anything, a container that is not running FAILED_PRECONDITION naming its state. Exec and Attach
 * check the state before they hand out a URL (nothing of the backend runs until the client connects); ExecSync
 * lets the backend's own refusal be the check and names the state only when it fails (see {@code ExecSync}).
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
     * FAILED_PRECONDITION unless the container runs, naming its state. The state is ContainerStatus's where that is
     * the truth, and the backend's where it may not be:
     * <ul>
     *   <li>a status kept in memory other than RUNNING ({@link ContainerStateCache#kept}) is what ContainerStatus
     *       answers and cannot be behind (only a Start, which drops it, makes a container run): refused without
     *       asking the backend;</li>
     *   <li>a kept RUNNING may be behind: in the window between the process's exit and its STOPPED event
     *       ContainerStatus still says RUNNING, and an exec would run on an exited container. So the backend is
     *       asked, as it is when nothing is kept; its answer is not kept (the exit shows in ContainerStatus once
     *       the backend's event says so, after its log is complete). In that window this refuses with the
     *       backend's state while ContainerStatus still says RUNNING: the exec cannot run, so saying it may would
     *       be wrong.</li>
     * </ul>
     * A container the backend does not have is FAILED_PRECONDITION too, as {@link CriRuntime#onContainer} words it.
     *
     * @param action what the RPC would do, as in "exec in" or "attach to"
     */
    public static void requireRunning(CriRuntime cri, ContainerRecord c, Handler h, String action) {
        refuseKeptNotRunning(cri, c, action);
        ContainerStatus s = cri.onContainer(c, h, action, () -> h.backend().containerStatus(c.id()));
        if (s == null || s.state() != ContainerStatus.State.RUNNING) {
            throw notRunning(c, s, action);
        }
    }

    /**
     * FAILED_PRECONDITION, naming the state, when a status other than RUNNING is kept in memory for the container
     * (the first half of {@link #requireRunning}, which asks nothing of the backend).
     */
    public static void refuseKeptNotRunning(CriRuntime cri, ContainerRecord c, String action) {
        ContainerStatus kept = cri.containerStates().kept(c.id());
        if (kept != null && kept.state() != ContainerStatus.State.RUNNING) {
            throw notRunning(c, kept, action);
        }
    }

    private static BackendException notRunning(ContainerRecord c, ContainerStatus s, String action) {
        String state = s == null ? "unknown" : "CONTAINER_" + s.state();
        return new BackendException(BackendException.Kind.FAILED_PRECONDITION, "cannot " + action
                + " container \"" + c.id() + "\": it is " + state + ", not running");
    }
}
