package dev.berth.spi;

/**
 * Optional marker: the backend publishes container lifecycle events to {@link BackendContext#events()} by
 * itself (e.g. exits it notices without being asked). Core synthesises events for the calls it makes either
 * way; this tells core it need not poll for exits.
 */
public interface EventSource {}
