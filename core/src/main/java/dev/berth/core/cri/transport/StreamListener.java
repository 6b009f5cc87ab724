package dev.berth.core.cri.transport;

import java.io.Closeable;
import java.io.IOException;

/** Accepts connected streams, one per client: a named pipe's server side, or an in-memory stand-in in tests. */
public interface StreamListener extends Closeable {
    /** Blocks until a client connects; throws once the listener is closed (also when closed while blocked). */
    DuplexStream accept() throws IOException;

    /** Stops accepting: a blocked {@link #accept} throws. Already accepted streams stay open. */
    @Override
    void close() throws IOException;
}
