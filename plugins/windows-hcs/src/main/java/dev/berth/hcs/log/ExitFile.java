package dev.berth.hcs.log;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Optional;

/**
 * A container's exit, written by whoever saw it (the log relay, in the JVM or on its own) so that berth finds it
 * after a restart, as conmon's exit files do on Linux: one line {@code <exit code> <finished at, ISO-8601>},
 * written to a temporary file and moved into place.
 */
public final class ExitFile {
    private ExitFile() {}

    public record Exit(int code, Instant finishedAt) {}

    public static void write(Path file, Exit exit) throws IOException {
        // a temporary file of its own: the relay and berth may both write the same exit at the same time
        Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), file.getFileName() + ".", ".tmp");
        Files.writeString(tmp, exit.code() + " " + exit.finishedAt() + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
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
