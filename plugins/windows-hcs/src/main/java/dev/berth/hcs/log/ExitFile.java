package dev.berth.hcs.log;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

/**
 * A container's exit, written by whoever saw it (the log relay, in the JVM or on its own) so that berth finds it
 * after a restart, as conmon's exit files do on Linux: one line {@code <exit code> <finished at, ISO-8601>},
 * written with {@link StateFiles}.
 */
public final class ExitFile {
    private ExitFile() {}

    public record Exit(int code, Instant finishedAt) {}

    public static void write(Path file, Exit exit) throws IOException {
        // the relay and berth may both write the same exit at the same time: each has a temp file of its own
        StateFiles.write(file, (exit.code() + " " + exit.finishedAt() + "\n").getBytes(StandardCharsets.UTF_8));
    }

    public static Optional<Exit> read(Path file) {
        try {
            String[] parts = Files.readString(file, StandardCharsets.UTF_8).strip().split(" ");
            return Optional.of(new Exit(Integer.parseInt(parts[0]), Instant.parse(parts[1])));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }
}
