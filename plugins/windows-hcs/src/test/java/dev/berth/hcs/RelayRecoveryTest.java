package dev.berth.hcs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.hcs.log.LogRelayLauncher;
import dev.berth.hcs.log.RelayRecord;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.testing.HostRequirements;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restarted backend adopts a container's running log relay by its record: the container's log is asked of the
 * relay (reopen after a rotation), and the exit code the relay wrote while no backend ran is the container's. The
 * relay is a real process over FIFOs standing in for the HCS pipes; the compute systems are the fake's.
 */
class RelayRecoveryTest {
    static final String POD = "6".repeat(64);
    static final String CTR = "7".repeat(64);

    @TempDir
    Path dir;

    private static void await(Supplier<Boolean> condition, String what) throws InterruptedException {
        Instant end = Instant.now().plusSeconds(30);
        while (!condition.get()) {
            if (Instant.now().isAfter(end)) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    private static boolean answers(Path control) {
        try {
            return "ok".equals(dev.berth.hcs.log.LogRelay.send(control, "ping"));
        } catch (java.io.UncheckedIOException e) {
            return false;
        }
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
        } catch (java.io.IOException e) {
            return "";
        }
    }

    private Path fifo(String name) throws Exception {
        HostRequirements.require(Files.isExecutable(Path.of("/usr/bin/mkfifo")), "mkfifo (coreutils)");
        Path p = dir.resolve(name);
        assertThat(new ProcessBuilder("/usr/bin/mkfifo", p.toString()).start().waitFor()).isZero();
        return p;
    }

    @Test
    @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a FIFO open blocks without a reader
    void aRestartedBackendAdoptsTheRelayAndTakesTheExitItWrote() throws Exception {
        Fixtures.Rig rig = new Fixtures.Rig(dir.resolve("rig"));
        Path log = dir.resolve("ctr.log");
        HcsBackend first = rig.backend(Map.of());
        first.createSandbox(Fixtures.sandbox(POD));
        first.startSandbox(POD);
        first.createContainer(Fixtures.container(CTR, POD, Fixtures.PING, log.toString()));
        first.startContainer(CTR);
        int pid = (int) first.containerStatus(CTR).pid();
        first.close();

        // the relay that holds the container's pipes, with its record where the backend keeps it
        Path containers = rig.context.stateDir().resolve("containers");
        Path stdout = fifo("stdout");
        Path stderr = fifo("stderr");
        Path exit = fifo("exit");
        RelayRecord started = new LogRelayLauncher(ProcessHandle.current().info().command().orElseThrow(),
                System.getProperty("java.class.path")).start(containers.resolve(CTR + ".relay"), log,
                containers.resolve(CTR + ".exit"), dir.resolve("relay.sock"), "file:" + stdout, "file:" + stderr,
                "file:" + exit);
        ProcessHandle relay = started.process().orElseThrow();
        try (OutputStream out = Files.newOutputStream(stdout); OutputStream err = Files.newOutputStream(stderr)) {
            HcsBackend second = rig.backend(Map.of());
            assertThat(second.recover(List.of(POD), List.of(CTR)).lost()).isEmpty();
            assertThat(second.containerStatus(CTR).state()).isEqualTo(ContainerStatus.State.RUNNING);

            // a socket file that exists is not yet listening: wait for an answer
            await(() -> answers(dir.resolve("relay.sock")), "the relay's control socket");
            Files.move(log, dir.resolve("ctr.log.1"));
            second.reopenLog(CTR);
            out.write("written by the relay\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
            await(() -> read(log).contains(" stdout F written by the relay"), "the line in the reopened log");
            second.close();
        } finally {
            try (OutputStream code = Files.newOutputStream(exit)) {
                code.write("5\n".getBytes(StandardCharsets.UTF_8));
            }
            relay.onExit().get(30, TimeUnit.SECONDS);
            relay.destroyForcibly();
        }
        // the init exited while no backend ran: the fake's system stops, the relay wrote the code
        rig.hcs.exitProcess(pid, 5);
        HcsBackend third = rig.backend(Map.of());
        third.recover(List.of(POD), List.of(CTR));
        assertThat(third.containerStatus(CTR).state()).isEqualTo(ContainerStatus.State.EXITED);
        assertThat(third.containerStatus(CTR).exitCode()).as("the exit code the relay wrote").isEqualTo(5);
        third.removeSandbox(POD);
        third.close();
        assertThat(Files.exists(containers.resolve(CTR + ".relay"))).as("the relay record goes with the container")
                .isFalse();
        assertThat(rig.hcs.violations()).isEmpty();
    }
}
