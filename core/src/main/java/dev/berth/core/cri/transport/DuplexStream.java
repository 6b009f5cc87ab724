package dev.berth.core.cri.transport;

import java.io.Closeable;
import java.io.IOException;

/**
 * One connected byte stream, both directions: what a named-pipe instance is once a client has connected to it (or
 * the client's end of it). The bridge ({@link StreamBridge}) only needs these three calls, so it is tested on Linux
 * over an in-memory stand-in, and the Windows implementation ({@code windows.WindowsNamedPipes}) is the only code
 * that makes system calls.
 *
 * <p>{@link #read} and {@link #write} are called from two different threads at the same time (one each);
 * {@link #close} from any thread, and it must make a blocked {@code read} or {@code write} return (with -1 or an
 * {@link IOException}).
 */
public interface DuplexStream extends Closeable {
    /** Reads at least one byte, blocking until some arrive; -1 once the peer has closed the stream. */
    int read(byte[] buffer, int offset, int length) throws IOException;

    /** Writes all {@code length} bytes, blocking while the peer does not read. */
    void write(byte[] buffer, int offset, int length) throws IOException;

    /** Closes both directions; idempotent. */
    @Override
    void close() throws IOException;
}
