package dev.berth.hcs.log;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.function.Supplier;

/** What the tests of a real relay process share: waiting for it, pinging it, reading what it wrote. */
public final class RelayTesting {
    private RelayTesting() {}

    /** Waits up to 30 s for {@code condition}; fails naming {@code what}. */
    public static void await(Supplier<Boolean> condition, String what) throws InterruptedException {
        await(condition, what, java.time.Duration.ofSeconds(30));
    }

    /** Waits up to {@code limit} for {@code condition}; fails naming {@code what}. */
    public static void await(Supplier<Boolean> condition, String what, java.time.Duration limit)
            throws InterruptedException {
        Instant end = Instant.now().plus(limit);
        while (!condition.get()) {
            if (Instant.now().isAfter(end)) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    /** Whether a relay answers a ping on its control socket. */
    public static boolean answers(Path control) {
        try {
            return "ok".equals(LogRelay.send(control, "ping"));
        } catch (UncheckedIOException e) {
            return false;
        }
    }

    /** A file's text, or "" while it does not exist. */
    public static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "";
        }
    }
}
