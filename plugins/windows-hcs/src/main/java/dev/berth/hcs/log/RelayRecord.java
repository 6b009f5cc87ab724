package dev.berth.hcs.log;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

/**
 * What berth keeps about a container's log relay, next to the container's record ({@code <id>.relay}): the relay's
 * pid and start time (together they name the process; a pid alone may have been reused) and its control socket.
 * After a restart berth adopts a relay it finds alive ({@link #adopt}): it relays nothing itself, sends reopen
 * requests to the relay, and reads the exit file the relay writes.
 */
public record RelayRecord(long pid, Instant started, Path control) {

    /** What recovery found: the relay still running, or gone (then the exit file says whether the init exited). */
    public sealed interface Found permits Running, Gone {}

    public record Running(ProcessHandle relay) implements Found {}

    public record Gone(Optional<ExitFile.Exit> exit) implements Found {}

    /** The record of a relay process that was just started. */
    public static RelayRecord of(ProcessHandle relay, Path control) {
        return new RelayRecord(relay.pid(), relay.info().startInstant().orElse(Instant.EPOCH), control);
    }

    public void write(Path file) throws IOException {
        StateFiles.write(file, (pid + "\n" + started + "\n" + control + "\n").getBytes(StandardCharsets.UTF_8));
    }

    public static Optional<RelayRecord> read(Path file) {
        try {
            var lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            return Optional.of(new RelayRecord(Long.parseLong(lines.get(0).strip()), Instant.parse(lines.get(1)
                    .strip()), Path.of(lines.get(2).strip())));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The relay process, if the one this record names still runs (same pid and same start time). */
    public Optional<ProcessHandle> process() {
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
                .filter(p -> p.info().startInstant().map(started::equals).orElse(false));
    }

    /** After a restart of berth: the relay of this record, or what it left. */
    public Found adopt(Path exitFile) {
        Optional<ProcessHandle> p = process();
        if (p.isPresent()) {
            return new Running(p.get());
        }
        return new Gone(ExitFile.read(exitFile));
    }
}
