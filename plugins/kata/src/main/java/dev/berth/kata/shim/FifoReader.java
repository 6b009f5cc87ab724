package dev.berth.kata.shim;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Reads a FIFO on a platform thread until end of stream (all writers closed) and hands each chunk to a sink.
 * Platform threads, because opening a FIFO blocks in the kernel until a writer appears, which would pin a
 * virtual thread's carrier.
 *
 * <p>{@link #stop} unblocks a pending open by opening the FIFO read-write for a moment, then interrupts a
 * blocked read (the interruptible channel closes). Bytes still in the pipe stay there for the next reader.
 */
public final class FifoReader {
    private final Path fifo;
    private final Consumer<byte[]> sink;
    private final Runnable onEnd;
    private final Thread thread;
    private final CountDownLatch done = new CountDownLatch(1);
    private volatile boolean opened;

    private FifoReader(Path fifo, String name, Consumer<byte[]> sink, Runnable onEnd) {
        this.fifo = fifo;
        this.sink = sink;
        this.onEnd = onEnd;
        this.thread = Thread.ofPlatform().daemon().name(name).unstarted(this::run);
    }

    public static FifoReader start(Path fifo, String name, Consumer<byte[]> sink, Runnable onEnd) {
        FifoReader r = new FifoReader(fifo, name, sink, onEnd);
        r.thread.start();
        return r;
    }

    private void run() {
        try (FileChannel ch = FileChannel.open(fifo, StandardOpenOption.READ)) {
            opened = true;
            ByteBuffer buf = ByteBuffer.allocate(32 * 1024);
            while (true) {
                buf.clear();
                int n = ch.read(buf);
                if (n < 0) {
                    break;
                }
                if (n > 0) {
                    byte[] chunk = new byte[n];
                    buf.flip().get(chunk);
                    sink.accept(chunk);
                }
            }
        } catch (ClosedByInterruptException e) {
            // stopped
        } catch (IOException e) {
            // the FIFO went away: nothing more to read
        } finally {
            try {
                onEnd.run();
            } finally {
                done.countDown();
            }
        }
    }

    /** Waits up to {@code timeout} for end of stream; true when the reader finished. */
    public boolean awaitEnd(Duration timeout) {
        try {
            return done.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return done.getCount() == 0;
        }
    }

    /** Stops reading now. */
    public void stop() {
        if (done.getCount() == 0) {
            return;
        }
        if (!opened) {
            // Complete the blocked open with a short-lived writer; the reader then sees EOF when it closes.
            try (FileChannel ignored = FileChannel.open(fifo, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                awaitEnd(Duration.ofMillis(200));
            } catch (IOException e) {
                // the FIFO is gone
            }
        }
        if (done.getCount() != 0) {
            thread.interrupt();
            awaitEnd(Duration.ofSeconds(5));
        }
    }
}
