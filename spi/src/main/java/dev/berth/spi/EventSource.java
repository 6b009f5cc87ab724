package dev.berth.spi;

/**
 * Optional marker: the backend publishes container lifecycle events to {@link BackendContext#events()} by
 * itself (e.g. exits it notices without being asked), so core need not poll for exits.
 *
 * <p>Experimental because core does not read it yet: core never polls for exits, so every backend publishes
 * {@link BackendEvent.Type#STOPPED} itself, marker or not. What is missing is core's poller for backends
 * without it; until that exists the marker only documents the backend's behaviour.
 */
@Experimental(eta = "2027-06-30")
public interface EventSource {}
