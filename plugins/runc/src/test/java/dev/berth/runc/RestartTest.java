package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.oci.Processes;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.Recoverable;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxStatus;
import dev.berth.spi.testing.TestingBackendContext;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * berth is killed with SIGKILL while a pod runs; a new backend over the same state directory takes over:
 * the running container is still running and stoppable, and the one that exited meanwhile shows its code and
 * has the line it wrote meanwhile in its log (conmon and berth-logjoin outlive berth); what a container in a
 * shared pid namespace left running when it ended meanwhile is killed.
 */
class RestartTest {
    Path base;
    Path rootfs;
    RuntimeBackend backend;
    String sandbox;
    String sharedSandbox;

    @BeforeEach
    void setUp() throws Exception {
        Host.assumeRuntime("runc");
        base = Host.tempDir();
        rootfs = Host.busyboxRootfs(base.resolve("rootfs"));
    }

    @AfterEach
    void tearDown() throws Exception {
        if (backend != null) {
            if (sandbox != null) {
                backend.removeSandbox(sandbox);
            }
            if (sharedSandbox != null) {
                backend.removeSandbox(sharedSandbox);
            }
            backend.close();
        }
        Host.deleteTree(base);
    }

    @Test
    void aNewBackendRecoversAfterBerthWasKilled() throws Exception {
        Path ctx = base.resolve("ctx");
        Process daemon = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                RestartDriver.class.getName(), ctx.toString(), rootfs.toString(), "runc")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String[] ids;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(daemon.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line = out.readLine();
            assertThat(line).as("ids from the driver").isNotNull();
            ids = line.strip().split(" ");
        } finally {
            daemon.destroyForcibly(); // SIGKILL, like kill -9
            daemon.waitFor(30, TimeUnit.SECONDS);
        }
        sandbox = ids[0];
        String running = ids[1];
        String exiting = ids[2];
        sharedSandbox = ids[3];
        String sharing = ids[4];
        String leaving = ids[5];
        String child = "sleep " + ids[6];
        // conmon and the containers outlive the killed daemon; wait until the short containers have exited.
        for (String id : List.of(exiting, leaving)) {
            Path exitFile = ctx.resolve("state/exits").resolve(id);
            RuncBackendTest.await(() -> java.nio.file.Files.exists(exitFile), "exit file of " + id);
        }
        assertThat(RuncBackendTest.running(child)).as("what the container that ended left running").isTrue();

        TestingBackendContext context = new TestingBackendContext("runc", ctx);
        backend = new RuncBackendFactory().create("runc", Map.of("binary", "runc"), context);
        Recoverable.Report report = ((Recoverable) backend).recover(List.of(sandbox, sharedSandbox),
                List.of(running, exiting, sharing));
        assertThat(report.lost()).isEmpty();
        // A container that ended while berth was down, in a pid namespace it shares: its child is killed now.
        RuncBackendTest.await(() -> !RuncBackendTest.running(child), "the child of the container that ended to go");
        assertThat(backend.containerStatus(leaving).state()).isEqualTo(ContainerStatus.State.EXITED);

        assertThat(backend.sandboxStatus(sandbox).state()).isEqualTo(SandboxStatus.State.READY);
        ContainerStatus exited = backend.containerStatus(exiting);
        assertThat(exited.state()).isEqualTo(ContainerStatus.State.EXITED);
        assertThat(exited.exitCode()).isEqualTo(5);
        assertThat(exited.finishedAt()).isNotNull();
        assertThat(exited.startedAt()).isNotNull().isBeforeOrEqualTo(exited.finishedAt());
        assertThat(java.nio.file.Files.readAllLines(ctx.resolve("logs/exiting.log")).stream()
                .map(l -> CriLog.parse(l).message())).as("logged while berth was down")
                .containsExactly("before", "while berth is down");

        assertThat(backend.containerStatus(running).state()).isEqualTo(ContainerStatus.State.RUNNING);
        backend.stopContainer(running, Duration.ofSeconds(1));
        ContainerStatus stopped = backend.containerStatus(running);
        assertThat(stopped.state()).isEqualTo(ContainerStatus.State.EXITED);
        assertThat(stopped.exitCode()).isEqualTo(137);

        // The shared-pid pod's pause process kept its namespace; a new container still joins it.
        SandboxStatus shared = backend.sandboxStatus(sharedSandbox);
        assertThat(shared.state()).isEqualTo(SandboxStatus.State.READY);
        assertThat(backend.containerStatus(sharing).state()).isEqualTo(ContainerStatus.State.RUNNING);
        String late = RuncBackendTest.newId();
        backend.createContainer(Host.container(late, sharedSandbox, rootfs, List.of("sleep", "3600"), null, null,
                RuncBackendTest.SHARED_PID_CONTAINER));
        backend.startContainer(late);
        assertThat(java.nio.file.Files.readSymbolicLink(Path.of("/proc", Long.toString(
                backend.containerStatus(late).pid()), "ns", "pid"))).isEqualTo(java.nio.file.Files.readSymbolicLink(
                        Path.of("/proc", Long.toString(shared.pid()), "ns", "pid")));
        // The pause process the earlier berth started is watched again: its end is published.
        assertThat(((dev.berth.spi.SandboxEventSource) backend).reportsEnd(sharedSandbox)).isTrue();
        dev.berth.oci.Libc.kill(shared.pid(), 9);
        RuncBackendTest.await(() -> context.published().stream().anyMatch(e -> e.containerId().equals(sharedSandbox)
                && e.sandboxId().equals(sharedSandbox)), "the end of the recovered pod's pause process");
        assertThat(backend.sandboxStatus(sharedSandbox).state()).isEqualTo(SandboxStatus.State.NOTREADY);
        backend.stopSandbox(sharedSandbox, Duration.ZERO);
        assertThat(Processes.live(shared.pid(), "pause")).as("pause process after stop").isFalse();
        assertThat(backend.containerStatus(sharing).state()).isEqualTo(ContainerStatus.State.EXITED);
    }
}
