package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The long-lived berth-execsync, built from src/main/c, with a stand-in for the runtime: a script that starts the
 * command orphaned, waits for its pid in the pid file and exits, as {@code runc exec --detach --pid-file} does. The
 * command then becomes the supervisor's child. The containers' own execs are in RuncBackendTest.
 */
class ExecHelperTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    Path dir;
    private Path runtime;
    private ExecHelper helper;
    private int runs;

    @BeforeEach
    void setUp() throws IOException {
        runtime = dir.resolve("detached-runtime");
        // The command is orphaned at once (setsid -f forks it and exits), so no shell can reap it first.
        Files.writeString(runtime, """
                #!/bin/sh
                pidfile=$1; shift
                setsid -f sh -c 'echo $$ > "$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' "$pidfile" "$@"
                while [ ! -s "$pidfile" ]; do sleep 0.01; done
                """);
        Files.setPosixFilePermissions(runtime, PosixFilePermissions.fromString("rwx------"));
        helper = new ExecHelper(RuntimeExec.PATH.orElseThrow(), System.getLogger("test"));
    }

    @AfterEach
    void tearDown() {
        helper.close();
    }

    private ExecHelper.Call run(int limit, Duration drain, String... command) throws IOException {
        Path pidFile = dir.resolve("exec-" + (runs++) + ".pid");
        List<String> argv = new ArrayList<>(List.of(pidFile.toString(), runtime.toString(), pidFile.toString()));
        argv.addAll(List.of(command));
        return helper.run(argv, limit, drain);
    }

    /** The call's status, its stderr named if the check fails. */
    private static org.assertj.core.api.AbstractIntegerAssert<?> assertStatus(ExecHelper.Call call) throws Exception {
        Integer code = call.await(WAIT);
        return assertThat(code).as("status of a call whose stderr was: %s", text(call.stderr()));
    }

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    @Test
    void theCommandsOutputAndStatusComeBack() throws Exception {
        ExecHelper.Call call = run(1 << 20, Duration.ofSeconds(1), "sh", "-c", "echo hello; echo oops >&2; exit 3");

        assertStatus(call).isEqualTo(3);
        assertThat(text(call.stdout())).isEqualTo("hello\n");
        assertThat(text(call.stderr())).isEqualTo("oops\n");
    }

    @Test
    void aCommandASignalEndedExitsWith128PlusTheSignal() throws Exception {
        assertStatus(run(1024, Duration.ofSeconds(1), "sh", "-c", "kill -9 $$")).isEqualTo(137);
    }

    @Test
    void aRuntimeThatFailsIsAnsweredWithItsStatusAndError() throws Exception {
        Path pidFile = dir.resolve("never.pid");
        ExecHelper.Call call = helper.run(List.of(pidFile.toString(), "sh", "-c", "echo 'no such container' >&2; "
                + "exit 5"), 1024, Duration.ofSeconds(1));

        assertStatus(call).isEqualTo(5);
        assertThat(text(call.stderr())).isEqualTo("no such container\n");
        assertThat(pidFile).doesNotExist();
    }

    @Test
    void aRuntimeThatIsMissingIsAnswered127() throws Exception {
        ExecHelper.Call call = helper.run(List.of(dir.resolve("p").toString(), dir.resolve("no-runtime").toString()),
                1024, Duration.ofSeconds(1));

        assertStatus(call).isEqualTo(127);
        assertThat(text(call.stderr())).contains("cannot run").contains("no-runtime");
    }

    @Test
    void aRequestWithoutARuntimeIsRefusedAndTheHelperGoesOn() throws Exception {
        ExecHelper.Call call = helper.run(List.of(dir.resolve("p").toString()), 1024, Duration.ofSeconds(1));

        assertStatus(call).isEqualTo(255);
        assertThat(text(call.stderr())).contains("needs a pid file and a runtime");
        assertStatus(run(1024, Duration.ofSeconds(1), "echo", "next")).isZero();
    }

    @Test
    void outputBeyondTheLimitIsDropped() throws Exception {
        ExecHelper.Call call = run(1000, Duration.ofSeconds(1), "sh", "-c", "head -c 300000 /dev/zero; echo err >&2");

        assertStatus(call).isZero();
        assertThat(call.stdout().length + call.stderr().length).isEqualTo(1000);
    }

    @Test
    void aChildHoldingTheOutputDoesNotHoldTheAnswer() throws Exception {
        ExecHelper.Call call = run(1024, Duration.ofMillis(200), "sh", "-c", "sleep 60 & echo started");

        // Without the drain time the answer would wait for the sleep, 60 s.
        assertStatus(call).isZero();
        assertThat(text(call.stdout())).isEqualTo("started\n");
    }

    @Test
    void callsAreAnsweredEachWhenItsCommandEnds() throws Exception {
        ExecHelper.Call slow = run(1024, Duration.ofSeconds(1), "sh", "-c", "sleep 5; echo slow");
        ExecHelper.Call fast = run(1024, Duration.ofSeconds(1), "sh", "-c", "echo fast");

        assertStatus(fast).isZero();
        assertThat(slow.await(Duration.ZERO)).isNull();
        assertStatus(slow).isZero();
        assertThat(text(fast.stdout())).isEqualTo("fast\n");
        assertThat(text(slow.stdout())).isEqualTo("slow\n");
    }

    @Test
    void aCallGivenUpOnIsKilledAndTheHelperGoesOn() throws Exception {
        ExecHelper.Call stuck = run(1024, Duration.ofSeconds(1), "sleep", "60");
        assertThat(stuck.await(Duration.ofMillis(300))).isNull();
        long pid = helper.pid();

        helper.kill(stuck);

        ExecHelper.Call next = run(1024, Duration.ofSeconds(1), "echo", "next");
        assertStatus(next).isZero();
        assertThat(text(next.stdout())).isEqualTo("next\n");
        assertThat(helper.pid()).isEqualTo(pid);
    }

    @Test
    void aHelperThatDiesFailsItsCallsAndTheNextCallStartsAnother() throws Exception {
        ExecHelper.Call pending = run(1024, Duration.ofSeconds(1), "sleep", "60");
        long pid = helper.pid();
        assertThat(pid).isPositive();

        ProcessHandle.of(pid).orElseThrow().destroyForcibly();

        assertThatThrownBy(() -> pending.await(WAIT)).isInstanceOf(IOException.class)
                .hasMessageContaining("berth-execsync");
        ExecHelper.Call next = run(1024, Duration.ofSeconds(1), "echo", "again");
        assertStatus(next).isZero();
        assertThat(text(next.stdout())).isEqualTo("again\n");
        assertThat(helper.pid()).isPositive().isNotEqualTo(pid);
    }

    @Test
    void aClosedHelperStopsAndTakesNoMoreCalls() throws Exception {
        assertStatus(run(1024, Duration.ofSeconds(1), "true")).isZero();
        ProcessHandle process = ProcessHandle.of(helper.pid()).orElseThrow();

        helper.close();

        assertThat(process.onExit().get(WAIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS).isAlive()).isFalse();
        assertThatThrownBy(() -> run(1024, Duration.ofSeconds(1), "true")).isInstanceOf(IOException.class)
                .hasMessageContaining("closed");
    }
}
