package dev.berth.core.streaming;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/** What a test client received, per stream or channel; tests wait on it with generous timeouts. */
public final class Inbox {

    public static final Duration WAIT = Duration.ofSeconds(30);

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Map<Integer, ByteArrayOutputStream> data = new HashMap<>();
    private final Map<Integer, Long> counts = new HashMap<>();
    private final Set<Integer> countOnly = new HashSet<>();
    private final Set<Integer> finished = new HashSet<>();
    private final Set<Integer> reset = new HashSet<>();
    private boolean closed;

    void countOnly(int id) {
        lock.lock();
        try {
            countOnly.add(id);
        } finally {
            lock.unlock();
        }
    }

    void append(int id, byte[] bytes) {
        lock.lock();
        try {
            counts.merge(id, (long) bytes.length, Long::sum);
            if (!countOnly.contains(id)) {
                data.computeIfAbsent(id, k -> new ByteArrayOutputStream()).writeBytes(bytes);
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void finish(int id) {
        lock.lock();
        try {
            finished.add(id);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void reset(int id) {
        lock.lock();
        try {
            reset.add(id);
            changed.signalAll();
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

    public byte[] bytes(int id) {
        lock.lock();
        try {
            ByteArrayOutputStream out = data.get(id);
            return out == null ? new byte[0] : out.toByteArray();
        } finally {
            lock.unlock();
        }
    }

    public String text(int id) {
        return new String(bytes(id), StandardCharsets.UTF_8);
    }

    public long count(int id) {
        lock.lock();
        try {
            return counts.getOrDefault(id, 0L);
        } finally {
            lock.unlock();
        }
    }

    boolean finished(int id) {
        lock.lock();
        try {
            return finished.contains(id);
        } finally {
            lock.unlock();
        }
    }

    boolean wasReset(int id) {
        lock.lock();
        try {
            return reset.contains(id);
        } finally {
            lock.unlock();
        }
    }

    public boolean closed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    /** Waits until {@code condition} holds, re-checking whenever something arrives. */
    public void await(String what, BooleanSupplier condition) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        lock.lock();
        try {
            while (!condition.getAsBoolean()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new TimeoutException("timed out waiting for " + what);
                }
                changed.awaitNanos(Math.min(left, 100_000_000L));
            }
        } finally {
            lock.unlock();
        }
    }

    public String awaitText(int id, String expected) throws InterruptedException, TimeoutException {
        await("\"" + expected + "\" on " + id + " (have \"" + text(id) + "\")", () -> text(id).contains(expected));
        return text(id);
    }

    /** Waits for the end of a stream (FIN) or of the connection, and returns all it carried. */
    public String awaitEnd(int id) throws InterruptedException, TimeoutException {
        await("end of " + id, () -> finished(id) || closed());
        return text(id);
    }
}
