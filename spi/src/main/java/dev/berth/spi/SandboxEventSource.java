package dev.berth.spi;

/**
 * Optional: the backend publishes the end of a sandbox's own process (its pause container, its VM) to
 * {@link BackendContext#events()} by itself, without being asked: one {@link BackendEvent.Type#STOPPED} whose
 * {@code containerId} and {@code sandboxId} are both the sandbox's id. A sandbox with no process of its own (its
 * namespaces only pinned) has nothing to report and stays as it is until core stops it.
 *
 * <p>Core relies on it for each sandbox the backend says so of ({@link #reportsEnd}): it keeps the sandbox's last
 * {@link SandboxStatus} in memory, starting with the one {@link RuntimeBackend#createSandbox} returned, and answers
 * PodSandboxStatus from it; from the event on, ListPodSandbox and PodSandboxStatus show the sandbox NOTREADY (as a
 * kubelet's relist must see, to recreate the pod), and the next PodSandboxStatus asks the backend once. A refresh
 * every minute asks again as a safety net, so a backend that misses an end shows the sandbox ready for up to a
 * minute after it ended. For a sandbox it does not report, and for a backend without this interface, core asks
 * {@link RuntimeBackend#sandboxStatus} on every PodSandboxStatus, and ListPodSandbox shows core's record.
 *
 * <p>Core forwards the event to CRI's {@code GetContainerEvents} as a container event of the sandbox's id, as
 * other runtimes report a pause container's exit. A pod is told stopped once: when core's StopPodSandbox and the
 * backend's event both report the end, the later of the two is not forwarded, and neither is an event that comes
 * after the sandbox was removed.
 */
@Experimental(eta = "2027-06-30")
public interface SandboxEventSource {
    /**
     * Whether the end of this sandbox's process is published (true unless the backend says otherwise). Asked once
     * for each sandbox, after it is created or after berth restarts, never on the RPC path; {@code NOT_FOUND} if
     * the sandbox is unknown.
     */
    default boolean reportsEnd(String sandboxId) {
        return true;
    }
}
