package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.oci.ProcessRunner;
import dev.berth.oci.Processes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The berth-pause program as built, started as the backend starts it, without a pod around it. */
class PauseProcessTest {
    Path program;
    Path dir;

    @BeforeEach
    void setUp() throws Exception {
        Host.assumeRuntime("runc"); // root, namespaces and mounts, as for the backend tests
        program = Programs.bundled(PauseProcess.PROGRAM)
                .orElseThrow(() -> new AssertionError("the build makes target/bin/berth-pause"));
        dir = Host.tempDir();
    }

    @AfterEach
    void tearDown() throws Exception {
        Host.deleteTree(dir);
    }

    private Path bundle(String name) throws IOException {
        Path bundle = Files.createDirectories(dir.resolve(name));
        Files.createDirectories(bundle.resolve("ns"));
        return bundle;
    }

    @Test
    void itRunsAsPidOneOfANewNamespacePinnedForOthersAndDiesWhenKilled() throws Exception {
        Path a = bundle("a");
        Path b = bundle("b");
        long pidA = PauseProcess.start(program, a, a.resolve("ns"), null, 0, "");
        long pidB = PauseProcess.start(program, b, b.resolve("ns"), null, 0, "");
        try {
            assertThat(PauseProcess.pid(a)).hasValue(pidA);
            assertThat(PauseProcess.alive(pidA, a.resolve("ns"))).isTrue();
            assertThat(PauseProcess.alive(pidA, b.resolve("ns"))).as("another pod's pin").isFalse();
            assertThat(Files.readString(Path.of("/proc", Long.toString(pidA), "status")))
                    .containsPattern("NSpid:\t" + pidA + "\t1\n");
            assertThat(Files.readString(Path.of("/proc", Long.toString(pidA), "cmdline"), StandardCharsets.UTF_8))
                    .isEqualTo("/pause\0");
            // A process started into the pin is in that namespace, as a container's runtime puts it there.
            ProcessRunner.Result r = ProcessRunner.run(List.of("nsenter", "--pid=" + a.resolve("ns/pid"), "--", "sh", "-c",
                    "echo $$"), null, Duration.ofSeconds(30));
            assertThat(r.ok()).as(r.errorText()).isTrue();
            assertThat(r.stdout().strip()).isNotEqualTo("1").matches("[0-9]+");
        } finally {
            PauseProcess.kill(a, a.resolve("ns"));
            PauseProcess.kill(b, b.resolve("ns"));
        }
        assertThat(PauseProcess.alive(pidA, a.resolve("ns"))).isFalse();
        assertThat(Processes.live(pidB, "pause")).isFalse();
        PauseProcess.kill(a, a.resolve("ns")); // again: nothing to do
    }

    @Test
    void aFailedStartSaysWhyAndLeavesNoProcessOrMount() throws Exception {
        Path c = bundle("c");
        Files.writeString(c.resolve(PauseProcess.ROOT), "not a directory");
        ProcessRunner.Result r = ProcessRunner.run(List.of(program.toString(), "--pid-pin", c.resolve("ns/pid").toString(),
                "--pid-file", c.resolve(PauseProcess.PID_FILE).toString(), "--root",
                c.resolve(PauseProcess.ROOT).toString()), null, Duration.ofSeconds(30));
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.stderr()).contains("the pause process failed to start: chroot: Not a directory");
        assertThat(c.resolve(PauseProcess.PID_FILE)).doesNotExist();
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(c.toString());

        Path d = bundle("d");
        assertThatThrownBy(() -> PauseProcess.start(program, d, d.resolve("ns"), d.resolve("no-such-netns"), 0, ""))
                .isInstanceOf(IOException.class).hasMessageContaining("no-such-netns: No such file or directory");
        assertThat(d.resolve(PauseProcess.PID_FILE)).doesNotExist();
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(d.toString());

        ProcessRunner.Result usage = ProcessRunner.run(List.of(program.toString(), "--pid-pin", "x"), null,
                Duration.ofSeconds(30));
        assertThat(usage.exitCode()).isEqualTo(1);
        assertThat(usage.stderr()).startsWith("usage: berth-pause");
    }
}
