package dev.berth.runc;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Wakes the calls that wait for a container's exit (Stop, Remove, a stop of a pod) as soon as conmon's exit file
 * appears, instead of at their next poll. {@link ExitWatcher} signals every exit file it sees; a waiter takes the
 * generation before it looks at its file, and {@link #await} returns at the next signal after that or after its
 * poll interval, whichever comes first, so a missed or absent watcher costs a poll interval, never an exit.
 */
final class ExitSignals {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private long generation;

    /** The current generation: take it before checking for the exit. */
    long generation() {
        lock.lock();
        try {
            return generation;
        } finally {
            lock.unlock();
        }
    }

    /** An exit file appeared (or changed). */
    void signal() {
        lock.lock();
        try {
            generation++;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until the generation has moved on from {@code seen} or {@code millis} have passed; true if it moved.
     *
     * @throws InterruptedException when the waiting thread is interrupted
     */
    boolean await(long seen, long millis) throws InterruptedException {
        long nanos = TimeUnit.MILLISECONDS.toNanos(millis);
        lock.lock();
        try {
            while (generation == seen) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = changed.awaitNanos(nanos);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }
}
