package dev.berth.core.cri.transport;

import java.io.IOException;

/** Opens a stream to a server: a named pipe's client side, or an in-memory stand-in in tests. */
@FunctionalInterface
public interface StreamDialer {
    DuplexStream dial() throws IOException;
}
