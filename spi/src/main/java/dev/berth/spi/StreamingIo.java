package dev.berth.spi;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.BlockingQueue;

/**
 * Optional: interactive exec and attach, for the streaming server. Methods block until the session ends and
 * are called on their own (virtual) thread, many at once. The common rules of {@link RuntimeBackend} (threading,
 * errors) apply. When the client goes away core interrupts the calling thread: the method then ends the session
 * and returns promptly. Core owns the streams and closes them after the method returned; the backend leaves no
 * process or thread of the session behind, whatever the outcome.
 */
public interface StreamingIo {

    /**
     * Runs {@code command} in the container wired to {@code io}, and returns its exit code. With a TTY, stderr
     * is merged into stdout by the terminal. Closing {@code io.stdin} signals end of input. Not idempotent: each
     * call runs the command. A non-zero exit code is a result, not an error.
     *
     * @throws BackendException {@code NOT_FOUND} if the container is unknown; {@code FAILED_PRECONDITION} if it
     *     is not running
     */
    int exec(String containerId, List<String> command, Streams io);

    /**
     * Attaches to the container's main process until it exits or the client goes away. Several attach
     * sessions to one container may run at once; detaching leaves the container running.
     *
     * @throws BackendException {@code NOT_FOUND} if the container is unknown; {@code FAILED_PRECONDITION} if it
     *     is not running
     */
    void attach(String containerId, Streams io);

    /** A terminal size in characters. */
    record TerminalSize(int width, int height) {}

    /**
     * The client's streams. {@code stdin} and {@code stderr} may be {@code null} when the client did not ask
     * for them. {@code resize} delivers terminal size changes when {@code tty} is set; it is never null.
     */
    record Streams(InputStream stdin, OutputStream stdout, OutputStream stderr, boolean tty,
                   BlockingQueue<TerminalSize> resize) {
        public Streams {
            java.util.Objects.requireNonNull(resize, "resize queue is null");
        }
    }
}
