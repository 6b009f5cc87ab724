package dev.berth.core.streaming;

import dev.berth.spi.PortForwarding;
import dev.berth.spi.StreamingIo;

/**
 * Finds the backend capability that serves a session. Core implements it by routing the id to the backend that
 * owns the container or sandbox.
 */
public interface StreamTargets {

    /**
     * The streaming capability of the backend that runs {@code containerId}.
     *
     * @throws dev.berth.spi.BackendException {@code NOT_FOUND} for an unknown container, {@code UNIMPLEMENTED} when
     *                                        its backend has no streaming capability
     */
    StreamingIo streaming(String containerId);

    /**
     * The port-forward capability of the backend that runs {@code sandboxId}.
     *
     * @throws dev.berth.spi.BackendException {@code NOT_FOUND} for an unknown sandbox, {@code UNIMPLEMENTED} when its
     *                                        backend cannot forward ports
     */
    PortForwarding portForwarding(String sandboxId);
}
