package dev.berth.spi.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.PodMetadata;
import dev.berth.spi.SandboxSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fake's own behaviour (recovery, exec timeouts, options). The SPI contract runs against it in the tck module
 * ({@code FakeBackendContractTest}), as the SPI's tests cannot depend on the tck.
 */
class FakeBackendTest {
    @TempDir
    Path dir;

    private FakeBackend backend;

    @BeforeEach
    void setUp() {
        backend = new FakeBackend(new TestingBackendContext("fake", dir), Map.of());
    }

    private static String newId() {
        byte[] b = new byte[32];
        java.util.concurrent.ThreadLocalRandom.current().nextBytes(b);
        return java.util.HexFormat.of().formatHex(b);
    }

    private String runSandbox() {
        String id = newId();
        backend.createSandbox(sandboxSpec(id));
        backend.startSandbox(id);
        return id;
    }

    static SandboxSpec sandboxSpec(String id) {
        return new SandboxSpec(id, new PodMetadata("pod", "uid", "default", 0), "pod", "", null, null, null, null,
                "", null, null, null, null, null, null, null, null, null, null, null);
    }

    static ContainerSpec longRunningContainer(String id, String sandboxId) {
        return new ContainerSpec(id, sandboxId, "c", 0, null, List.of("sleep", "3600"), null, "", null, null, null,
                null, null, "", false, false, false, null, null, null, null);
    }

    @Test
    void recoversItsStateInANewInstance() {
        String sb = runSandbox();
        String c = newId();
        backend.createContainer(longRunningContainer(c, sb));
        backend.startContainer(c);
        var fresh = new FakeBackend(new TestingBackendContext("fake", dir), Map.of());
        var report = fresh.recover(List.of(sb, "gone"), List.of(c));
        assertThat(report.lost()).containsExactly("gone");
        assertThat(fresh.containerStatus(c).state()).isEqualTo(dev.berth.spi.ContainerStatus.State.RUNNING);
    }

    @Test
    void execTimeoutIsDeadlineExceeded() {
        String sb = runSandbox();
        String c = newId();
        backend.createContainer(longRunningContainer(c, sb));
        backend.startContainer(c);
        assertThatThrownBy(() -> backend.execSync(c, List.of("sleep", "5"), Duration.ofMillis(50)))
                .isInstanceOfSatisfying(BackendException.class,
                        e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.DEADLINE_EXCEEDED));
    }

    @Test
    void rejectsUnknownOptions() {
        assertThatThrownBy(() -> new FakeBackend(new TestingBackendContext("fake", dir), Map.of("bogus", 1)))
                .hasMessageContaining("bogus");
    }
}
