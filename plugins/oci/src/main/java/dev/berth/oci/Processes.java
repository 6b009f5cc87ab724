package dev.berth.oci;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Processes the backends started and no longer parent (conmon, the shims, their helpers), seen through /proc, and
 * the polling wait for them: such a process is reaped by someone else, so a zombie counts as gone.
 */
public final class Processes {
    private static final Duration EXIT_POLL = Duration.ofMillis(20);

    private Processes() {}

    /** Whether {@code pid} names a live (not zombie) process. */
    public static boolean live(long pid) {
        if (pid <= 0) {
            return false;
        }
        try {
            String stat = SmallFiles.read(Path.of("/proc", Long.toString(pid), "stat"), 512);
            int close = stat.lastIndexOf(')');
            return close > 0 && close + 2 < stat.length() && stat.charAt(close + 2) != 'Z';
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Whether {@code pid} is a live process of the program named {@code comm}: a pid read from a file may since
     * have been reused by another program.
     */
    public static boolean live(long pid, String comm) {
        if (!live(pid)) {
            return false;
        }
        try {
            return SmallFiles.read(Path.of("/proc", Long.toString(pid), "comm"), 32).strip().equals(comm);
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Polls {@code done} every {@code poll} until it holds or {@code max} has passed; true if it held. An
     * interrupt ends the wait (the flag stays set) with one last look.
     */
    public static boolean await(BooleanSupplier done, Duration max, Duration poll) {
        long deadline = System.nanoTime() + max.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(poll);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return done.getAsBoolean();
            }
        }
        return true;
    }

    /** Waits until {@code pid} is gone or a zombie; true if it went within {@code max}. */
    public static boolean awaitExit(long pid, Duration max) {
        return await(() -> !live(pid), max, EXIT_POLL);
    }
}
