package dev.berth.oci;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessRunnerTest {
    private static final Duration LONG = Duration.ofMinutes(1);

    @TempDir
    Path tmp;

    @Test
    void capturesExitCodeOutputsAndInput() {
        ProcessRunner.Result r = ProcessRunner.run(List.of("sh", "-c", "cat; echo oops >&2; exit 3"),
                "fed".getBytes(StandardCharsets.UTF_8), LONG);
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.stdout()).isEqualTo("fed");
        assertThat(r.stderr()).isEqualTo("oops\n");
        assertThat(r.ok()).isFalse();
        assertThat(r.timedOut()).isFalse();
        assertThat(r.errorText()).isEqualTo("oops");
    }

    @Test
    void passesEnvironmentAndDirectory() {
        ProcessRunner.Result r = ProcessRunner.run(List.of("sh", "-c", "echo \"$WHO\"; pwd"), null, LONG,
                Map.of("WHO", "berth"), tmp);
        assertThat(r.ok()).isTrue();
        assertThat(r.stdout()).isEqualTo("berth\n" + tmp + "\n");
    }

    @Test
    void aProgramPastItsDeadlineIsKilled() throws Exception {
        Path pidFile = tmp.resolve("pid");
        // The shell execs sleep, so the pid it wrote is the process the runner must kill.
        ProcessRunner.Result r = ProcessRunner.run(List.of("sh", "-c", "echo $$ > " + pidFile + "; exec sleep 600"),
                null, Duration.ofMillis(300));
        assertThat(r.timedOut()).isTrue();
        assertThat(r.exitCode()).isEqualTo(-1);
        assertThat(r.ok()).isFalse();
        long pid = Long.parseLong(Files.readString(pidFile).strip());
        assertThat(Processes.awaitExit(pid, LONG)).isTrue();
        assertThat(Processes.live(pid)).isFalse();
    }

    @Test
    void aMissingProgramIsExitCode127() {
        ProcessRunner.Result r = ProcessRunner.run(List.of("/nonexistent/program"), null, LONG);
        assertThat(r.exitCode()).isEqualTo(127);
        assertThat(r.errorText()).startsWith("cannot run /nonexistent/program");
    }

    @Test
    void aDaemonizingProgramReturnsWhenItExitsAndLeavesNoFiles() throws Exception {
        Path pidFile = tmp.resolve("daemon.pid");
        // The forked daemon inherits stdout and stderr; with pipes the output would not end while it lives.
        ProcessRunner.Result r = ProcessRunner.runDaemonizing(List.of("sh", "-c",
                "sleep 600 & echo $! > " + pidFile + "; echo started; echo warn >&2"), tmp, Map.of(), LONG);
        long daemon = Long.parseLong(Files.readString(pidFile).strip());
        try {
            assertThat(r.ok()).isTrue();
            assertThat(r.stdout()).isEqualTo("started\n");
            assertThat(r.stderr()).isEqualTo("warn\n");
            assertThat(Processes.live(daemon)).isTrue();
            try (var files = Files.list(tmp)) {
                assertThat(files.map(p -> p.getFileName().toString())).containsExactly("daemon.pid");
            }
        } finally {
            ProcessHandle.of(daemon).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    void aDaemonizingProgramPastItsDeadlineIsKilled() {
        ProcessRunner.Result r = ProcessRunner.runDaemonizing(List.of("sleep", "600"), tmp, Map.of(),
                Duration.ofMillis(300));
        assertThat(r.timedOut()).isTrue();
        assertThat(r.ok()).isFalse();
    }
}
