package dev.berth.spi.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.ExecResult;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.SandboxStatus;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every backend owes core, as tests. A plugin's test class extends this, supplies a backend and
 * specs that work on its host, and inherits the checks: lifecycle states, idempotent stop and remove,
 * {@code NOT_FOUND} for unknown ids, and exec exit codes.
 */
public abstract class RuntimeBackendContractTest {
    private final List<String> sandboxes = new ArrayList<>();

    /** The backend under test; the same instance for the whole test. */
    protected abstract RuntimeBackend backend();

    /** A sandbox spec that can run on this host, with the given id. */
    protected abstract SandboxSpec sandboxSpec(String id);

    /** A container spec whose process keeps running until stopped (e.g. {@code sleep 3600}). */
    protected abstract ContainerSpec longRunningContainer(String id, String sandboxId);

    /** A command that prints {@code text} and a newline on stdout and exits 0. */
    protected List<String> echoCommand(String text) {
        return List.of("echo", text);
    }

    /** A command that exits with {@code code}. */
    protected List<String> exitCommand(int code) {
        return List.of("sh", "-c", "exit " + code);
    }

    protected static String newId() {
        byte[] b = new byte[32];
        ThreadLocalRandom.current().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    protected String runSandbox() {
        String id = newId();
        sandboxes.add(id);
        backend().createSandbox(sandboxSpec(id));
        backend().startSandbox(id);
        return id;
    }

    @AfterEach
    void removeSandboxes() {
        for (String id : sandboxes) {
            backend().removeSandbox(id);
        }
    }

    @Test
    void sandboxIsReadyAfterStartAndNotReadyAfterStop() {
        String id = runSandbox();
        assertThat(backend().sandboxStatus(id).state()).isEqualTo(SandboxStatus.State.READY);
        backend().stopSandbox(id, Duration.ofSeconds(2));
        assertThat(backend().sandboxStatus(id).state()).isEqualTo(SandboxStatus.State.NOTREADY);
    }

    @Test
    void stopAndRemoveAreIdempotent() {
        String id = runSandbox();
        backend().stopSandbox(id, Duration.ZERO);
        backend().stopSandbox(id, Duration.ZERO);
        backend().removeSandbox(id);
        backend().removeSandbox(id);
        assertThatThrownBy(() -> backend().sandboxStatus(id))
                .isInstanceOfSatisfying(BackendException.class,
                        e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.NOT_FOUND));
    }

    @Test
    void unknownIdsAreNotFoundForStatusAndIgnoredForStopAndRemove() {
        String unknown = newId();
        assertThatThrownBy(() -> backend().containerStatus(unknown))
                .isInstanceOfSatisfying(BackendException.class,
                        e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.NOT_FOUND));
        backend().stopSandbox(unknown, Duration.ZERO);
        backend().removeSandbox(unknown);
        backend().stopContainer(unknown, Duration.ZERO);
        backend().removeContainer(unknown);
    }

    @Test
    void containerGoesThroughItsStates() {
        String sb = runSandbox();
        String id = newId();
        ContainerStatus created = backend().createContainer(longRunningContainer(id, sb));
        assertThat(created.state()).isEqualTo(ContainerStatus.State.CREATED);
        backend().startContainer(id);
        assertThat(backend().containerStatus(id).state()).isEqualTo(ContainerStatus.State.RUNNING);
        assertThat(backend().containerStatus(id).startedAt()).isNotNull();
        assertThatThrownBy(() -> backend().startContainer(id))
                .isInstanceOfSatisfying(BackendException.class,
                        e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.FAILED_PRECONDITION));
        backend().stopContainer(id, Duration.ofSeconds(1));
        ContainerStatus stopped = backend().containerStatus(id);
        assertThat(stopped.state()).isEqualTo(ContainerStatus.State.EXITED);
        assertThat(stopped.finishedAt()).isNotNull();
        backend().stopContainer(id, Duration.ZERO);
        backend().removeContainer(id);
        backend().removeContainer(id);
        assertThatThrownBy(() -> backend().containerStatus(id)).isInstanceOf(BackendException.class);
    }

    @Test
    void execSyncReturnsOutputAndExitCode() {
        String sb = runSandbox();
        String id = newId();
        backend().createContainer(longRunningContainer(id, sb));
        backend().startContainer(id);
        ExecResult echo = backend().execSync(id, echoCommand("hello berth"), Duration.ofSeconds(10));
        assertThat(new String(echo.stdout(), StandardCharsets.UTF_8)).isEqualTo("hello berth\n");
        assertThat(echo.exitCode()).isZero();
        assertThat(backend().execSync(id, exitCommand(3), Duration.ofSeconds(10)).exitCode()).isEqualTo(3);
        backend().removeContainer(id);
    }

    @Test
    void reportsFeaturesAndHealth() {
        assertThat(backend().features()).isNotNull();
        assertThat(backend().health().checks()).isNotEmpty();
    }
}
