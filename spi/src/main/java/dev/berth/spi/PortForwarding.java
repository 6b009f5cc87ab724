package dev.berth.spi;

import java.nio.channels.ByteChannel;

/**
 * Optional: connections to a port inside a pod's network namespace, for port-forward. The common rules of
 * {@link RuntimeBackend} (threading, errors) apply; core opens many connections at once, also to one pod.
 */
public interface PortForwarding {

    /**
     * Opens a TCP connection to {@code port} on the pod's loopback, inside the pod, not on the host. Each call
     * opens a new connection. The caller owns and closes the channel; on failure nothing is left open.
     *
     * @throws BackendException {@code NOT_FOUND} if the sandbox is unknown; {@code FAILED_PRECONDITION} if it is
     *     not ready; {@code UNAVAILABLE} if nothing listens there
     */
    ByteChannel connect(String sandboxId, int port);
}
