package dev.berth.hcs.fake;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/** An in-memory pipe: the fake process writes and closes, the backend reads until the end. */
final class FakePipe {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
    private int readPos;
    private boolean closed;
    volatile boolean readerClosed;

    void write(byte[] b) {
        lock.lock();
        try {
            if (!closed) {
                buf.write(b, 0, b.length);
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    void close() {
        lock.lock();
        try {
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    InputStream reader() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                lock.lock();
                try {
                    while (readPos >= buf.size() && !closed) {
                        changed.await();
                    }
                    if (readPos >= buf.size()) {
                        return -1;
                    }
                    byte[] all = buf.toByteArray();
                    int n = Math.min(len, all.length - readPos);
                    System.arraycopy(all, readPos, b, off, n);
                    readPos += n;
                    return n;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted");
                } finally {
                    lock.unlock();
                }
            }

            @Override
            public void close() {
                readerClosed = true;
            }
        };
    }

    static OutputStream sink() {
        return OutputStream.nullOutputStream();
    }
}
