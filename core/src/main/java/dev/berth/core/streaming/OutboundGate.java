package dev.berth.core.streaming;

import java.io.IOException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Bounds the bytes one connection has handed to Netty but not yet written to the socket. A backend thread
 * {@link #acquire acquires} room before it writes and blocks while the client is slow; each write's completion
 * {@link #release releases} it. So a client that stops reading stalls the backend instead of filling memory.
 */
final class OutboundGate {

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition room = lock.newCondition();
    private final long limit;
    private final StreamingStats stats;
    private long inFlight;
    private boolean closed;

    OutboundGate(long limit, StreamingStats stats) {
        this.limit = limit;
        this.stats = stats;
    }

    void acquire(int n) throws IOException {
        lock.lock();
        try {
            while (!closed && inFlight > 0 && inFlight + n > limit) {
                stats.writerBlocked();
                room.await();
            }
            if (closed) {
                throw new IOException("connection closed");
            }
            inFlight += n;
            stats.observeInFlight(inFlight);
            stats.sent(n);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while waiting for the client");
        } finally {
            lock.unlock();
        }
    }

    void release(int n) {
        lock.lock();
        try {
            inFlight -= n;
            room.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void close() {
        lock.lock();
        try {
            closed = true;
            room.signalAll();
        } finally {
            lock.unlock();
        }
    }

    long inFlight() {
        lock.lock();
        try {
            return inFlight;
        } finally {
            lock.unlock();
        }
    }
}
