package dev.berth.hcs.log;

import static dev.berth.hcs.log.RelayTesting.answers;
import static dev.berth.hcs.log.RelayTesting.await;
import static dev.berth.hcs.log.RelayTesting.read;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.spi.testing.HostRequirements;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The log relay as the separate process it is (started by {@link LogRelayLauncher} with this JVM's runtime), fed
 * through FIFOs that stand in for the HCS stdio pipes and the init's exit: it writes CRI log lines, reopens the
 * log on request, is found again by its record as a new berth would find it, and writes the exit file and ends once
 * the container's init has exited.
 */
class LogRelayTest {
    @TempDir
    Path dir;

    private Path fifo(String name) throws Exception {
        Path p = dir.resolve(name);
        HostRequirements.require(Files.isExecutable(Path.of("/usr/bin/mkfifo")), "mkfifo (coreutils)");
        assertThat(new ProcessBuilder("/usr/bin/mkfifo", p.toString()).start().waitFor()).isZero();
        return p;
    }

    @Test
    @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a FIFO open blocks without a reader
    void theRelayProcessWritesTheCriLogSurvivesItsStarterAndEndsWithTheContainer() throws Exception {
        Path stdout = fifo("stdout");
        Path stderr = fifo("stderr");
        Path exit = fifo("exit");
        Path log = dir.resolve("ctr.log");
        Path exitFile = dir.resolve("ctr.exit");
        Path record = dir.resolve("ctr.relay");
        Path control = dir.resolve("ctr.sock");

        RelayRecord started = new LogRelayLauncher(ProcessHandle.current().info().command().orElseThrow(),
                System.getProperty("java.class.path")).start(record, log, exitFile, control, "file:" + stdout,
                "file:" + stderr, "file:" + exit);
        ProcessHandle relay = started.process().orElseThrow();
        try {
            feed(relay, stdout, stderr, exit, log, exitFile, record, control, started);
        } finally {
            relay.destroyForcibly();
        }
    }

    private void feed(ProcessHandle relay, Path stdout, Path stderr, Path exit, Path log, Path exitFile, Path record,
                      Path control, RelayRecord started) throws Exception {
        try (OutputStream out = Files.newOutputStream(stdout); OutputStream err = Files.newOutputStream(stderr)) {
            out.write("hello\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            err.write("oops\n".getBytes(StandardCharsets.UTF_8));
            err.flush();
            await(() -> read(log).contains(" stdout F hello") && read(log).contains(" stderr F oops"),
                    "the relay's CRI lines");
            assertThat(read(log).lines().toList()).anyMatch(l -> l.matches(
                    "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z stdout F hello"));

            // what a restarted berth does: it has no handle of the relay, only its record
            RelayRecord found = RelayRecord.read(record).orElseThrow();
            assertThat(found).isEqualTo(started);
            assertThat(found.adopt(exitFile)).isInstanceOfSatisfying(RelayRecord.Running.class,
                    r -> assertThat(r.relay().pid()).isEqualTo(relay.pid()));

            // the kubelet rotates the log, then asks for a reopen: the relay writes the new file
            // a socket file that exists is not yet listening: wait for an answer
            await(() -> answers(control), "the relay's control socket");
            Files.move(log, dir.resolve("ctr.log.1"));
            assertThat(LogRelay.send(control, "reopen")).isEqualTo("ok");
            out.write("after rotation\nno newline at the end".getBytes(StandardCharsets.UTF_8));
            out.flush();
            await(() -> read(log).contains(" stdout F after rotation"), "the line in the reopened log");
            assertThat(read(dir.resolve("ctr.log.1"))).doesNotContain("after rotation");
        }
        // the init exits: its pipes end and its exit code arrives
        try (OutputStream code = Files.newOutputStream(exit)) {
            code.write("3\n".getBytes(StandardCharsets.UTF_8));
        }
        assertThat(relay.onExit().get(30, TimeUnit.SECONDS).isAlive()).isFalse();
        assertThat(ExitFile.read(exitFile)).hasValueSatisfying(e -> assertThat(e.code()).isEqualTo(3));
        assertThat(control).as("the control socket is removed").doesNotExist();
        assertThat(read(log)).contains(" stdout P no newline at the end\n");
        assertThat(RelayRecord.read(record).orElseThrow().adopt(exitFile)).isInstanceOfSatisfying(
                RelayRecord.Gone.class, g -> assertThat(g.exit()).hasValueSatisfying(
                        e -> assertThat(e.code()).isEqualTo(3)));
    }

    @Test
    void aRecordWhosePidNowNamesAnotherProcessIsNotAdopted() throws Exception {
        ProcessHandle self = ProcessHandle.current();
        Path exitFile = dir.resolve("ctr.exit");
        RelayRecord reused = new RelayRecord(self.pid(), Instant.parse("2001-01-01T00:00:00Z"),
                dir.resolve("sock"));
        assertThat(reused.adopt(exitFile)).isEqualTo(new RelayRecord.Gone(java.util.Optional.empty()));
        RelayRecord same = RelayRecord.of(self, dir.resolve("sock"));
        assertThat(same.adopt(exitFile)).isInstanceOf(RelayRecord.Running.class);

        same.write(dir.resolve("r"));
        assertThat(RelayRecord.read(dir.resolve("r"))).contains(same);
        Files.writeString(dir.resolve("bad"), "not a record");
        assertThat(RelayRecord.read(dir.resolve("bad"))).isEmpty();
        assertThat(List.of(RelayRecord.read(dir.resolve("missing")))).containsExactly(java.util.Optional.empty());
    }
}
