package dev.berth.core.streaming;

import io.netty.buffer.ByteBuf;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Client input on its way to a backend: the event loop {@link #offer offers} bytes, a backend (virtual) thread
 * reads them. The pipe never refuses bytes that were already read from the socket; instead it tells its
 * {@link ReadThrottle} to stop reading the connection while it holds more than its capacity, and to resume once the
 * reader has drained it to half. So what it holds stays bounded by the capacity plus one socket read.
 */
final class InboundPipe extends InputStream {

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition readable = lock.newCondition();
    private final ArrayDeque<byte[]> chunks = new ArrayDeque<>();
    private final int capacity;
    private final ReadThrottle throttle;
    private int head;          // read position in chunks.peekFirst()
    private long buffered;
    private boolean eof;       // the writer is done: EOF once drained
    private boolean aborted;   // the connection is gone: EOF now
    private boolean readerClosed;
    private boolean pausing;

    InboundPipe(int capacity, ReadThrottle throttle) {
        this.capacity = capacity;
        this.throttle = throttle;
    }

    /** Called on the event loop; copies {@code data} and does not release it. */
    void offer(ByteBuf data) {
        int n = data.readableBytes();
        if (n == 0) {
            return;
        }
        byte[] copy = new byte[n];
        data.getBytes(data.readerIndex(), copy);
        boolean pause = false;
        lock.lock();
        try {
            if (eof || aborted || readerClosed) {
                return;
            }
            chunks.addLast(copy);
            buffered += n;
            throttle.received(n);
            throttle.observe(buffered);
            if (buffered > capacity) {
                pausing = true;
                pause = true;
            }
            readable.signalAll();
        } finally {
            lock.unlock();
        }
        if (pause) {
            throttle.pause(this);
        }
    }

    /** End of input: the reader sees EOF after what is buffered. */
    void finish() {
        lock.lock();
        try {
            eof = true;
            readable.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The connection is gone: the reader sees EOF at once. */
    void abort() {
        lock.lock();
        try {
            aborted = true;
            chunks.clear();
            buffered = 0;
            readable.signalAll();
        } finally {
            lock.unlock();
        }
        resumeIfPaused();
    }

    /** Whether the pipe wants its connection to stop reading. */
    boolean pausing() {
        lock.lock();
        try {
            return pausing;
        } finally {
            lock.unlock();
        }
    }

    long buffered() {
        lock.lock();
        try {
            return buffered;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        java.util.Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        int n = 0;
        boolean resume = false;
        lock.lock();
        try {
            while (chunks.isEmpty() && !eof && !aborted && !readerClosed) {
                readable.await();
            }
            if (readerClosed) {
                throw new IOException("stream closed");
            }
            while (n < len && !chunks.isEmpty()) {
                byte[] chunk = chunks.peekFirst();
                int take = Math.min(len - n, chunk.length - head);
                System.arraycopy(chunk, head, b, off + n, take);
                n += take;
                head += take;
                if (head == chunk.length) {
                    chunks.removeFirst();
                    head = 0;
                }
            }
            buffered -= n;
            if (pausing && buffered <= capacity / 2) {
                pausing = false;
                resume = true;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while reading client input");
        } finally {
            lock.unlock();
        }
        if (resume) {
            throttle.resume(this);
        }
        return n == 0 ? -1 : n;
    }

    /** Waits up to {@code millis} for input; used by readers that must also watch something else. */
    boolean awaitReadable(long millis) throws InterruptedException {
        lock.lock();
        try {
            long nanos = TimeUnit.MILLISECONDS.toNanos(millis);
            while (chunks.isEmpty() && !eof && !aborted && !readerClosed && nanos > 0) {
                nanos = readable.awaitNanos(nanos);
            }
            return !chunks.isEmpty() || eof || aborted || readerClosed;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int available() {
        lock.lock();
        try {
            return (int) Math.min(Integer.MAX_VALUE, buffered);
        } finally {
            lock.unlock();
        }
    }

    /** The reader (the backend) is done with input; later input is dropped. */
    @Override
    public void close() {
        lock.lock();
        try {
            readerClosed = true;
            chunks.clear();
            buffered = 0;
            readable.signalAll();
        } finally {
            lock.unlock();
        }
        resumeIfPaused();
    }

    private void resumeIfPaused() {
        boolean resume;
        lock.lock();
        try {
            resume = pausing;
            pausing = false;
        } finally {
            lock.unlock();
        }
        if (resume) {
            throttle.resume(this);
        }
    }
}
