package dev.berth.kata;

import dev.berth.kata.shim.FifoReader;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.locks.ReentrantLock;

/** Collects one output stream of an ExecSync from its FIFO, up to a cap (16 MiB); the rest is dropped. */
final class ExecCapture {
    static final int MAX_EXEC_OUTPUT = 16 << 20;

    private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
    private final ReentrantLock lock = new ReentrantLock();
    private final FifoReader reader;

    ExecCapture(Path fifo, String name) {
        reader = FifoReader.start(fifo, name, chunk -> {
            lock.lock();
            try {
                int room = MAX_EXEC_OUTPUT - buf.size();
                buf.write(chunk, 0, Math.min(room, chunk.length));
            } finally {
                lock.unlock();
            }
        }, () -> { });
    }

    void awaitEnd(Duration d) {
        reader.awaitEnd(d);
    }

    void stop() {
        reader.stop();
    }

    byte[] bytes() {
        lock.lock();
        try {
            return buf.toByteArray();
        } finally {
            lock.unlock();
        }
    }
}
