package dev.berth.spi;

/**
 * Optional marker: the backend publishes every exit of its containers to {@link BackendContext#events()} by
 * itself, as one {@link BackendEvent.Type#STOPPED} per exit (an OOM kill too), without being asked.
 *
 * <p>Core relies on it. For a backend with the marker core keeps each container's last status in memory and answers
 * ListContainers, ContainerStatus and the exec preconditions from it until an event for the container, or a
 * Start or Stop core runs, drops it; a refresh every minute asks again as a safety net. A backend without it is
 * asked {@link RuntimeBackend#containerStatus} on every such read. A backend that declares the marker but misses an
 * exit therefore shows the container running for up to a minute after it ended. The contract suite's
 * {@code container-stop-event} check holds a backend to one STOPPED per exit.
 *
 * <p>Experimental because it covers containers only: a sandbox's own exit (its pause process) is reported by a
 * backend that also implements {@link SandboxEventSource}; without it core asks {@link RuntimeBackend#sandboxStatus}
 * on every PodSandboxStatus.
 */
@Experimental(eta = "2027-06-30")
public interface EventSource {}
