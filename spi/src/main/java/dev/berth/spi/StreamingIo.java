package dev.berth.spi;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.concurrent.BlockingQueue;

/**
 * Optional: interactive exec and attach, for the streaming server. Methods block until the session ends and
 * are called on their own (virtual) thread.
 */
public interface StreamingIo {

    /**
     * Runs {@code command} in the container wired to {@code io}, and returns its exit code. With a TTY, stderr
     * is merged into stdout by the terminal. Closing {@code io.stdin} signals end of input.
     */
    int exec(String containerId, List<String> command, Streams io);

    /**
     * Attaches to the container's main process until it exits or the client goes away. Several attach
     * sessions to one container may run at once.
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
