package dev.berth.spi;

import java.nio.channels.ByteChannel;

/** Optional: connections to a port inside a pod's network namespace, for port-forward. */
public interface PortForwarding {

    /**
     * Opens a TCP connection to {@code port} on the pod's loopback, inside the pod, not on the host.
     * The caller closes the channel. {@code UNAVAILABLE} if nothing listens there.
     */
    ByteChannel connect(String sandboxId, int port);
}
