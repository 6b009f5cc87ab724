package dev.berth.hcs;

import static dev.berth.hcs.log.RelayTesting.answers;
import static dev.berth.hcs.log.RelayTesting.await;
import static dev.berth.hcs.log.RelayTesting.read;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.hcs.log.RelayRecord;
import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.testing.HostRequirements;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backend starts a log relay for each container and hands it the init's pipes; a restarted backend adopts the
 * relay by its record: the container's output written while no backend ran is in its log, reopening the log is
 * asked of the relay, and the exit code the relay wrote while no backend ran is the container's. The relay is a
 * real process; the fake of HCS hands it FIFOs in place of the pipes ({@code FakeRelayHandOver}).
 */
class RelayRecoveryTest {
    static final String POD = "6".repeat(64);
    static final String CTR = "7".repeat(64);

    @TempDir
    Path dir;

    private static void requireMkfifo() {
        HostRequirements.require(Files.isExecutable(Path.of("/usr/bin/mkfifo")), "mkfifo (coreutils)");
    }

    private static ProcessHandle relayOf(Path containers) {
        return RelayRecord.read(containers.resolve(CTR + ".relay")).orElseThrow().process().orElseThrow();
    }

    @Test
    @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void theContainersOutputReachesItsLogThroughTheRelayAcrossRestarts() throws Exception {
        requireMkfifo();
        Fixtures.Rig rig = new Fixtures.Rig(dir.resolve("rig"));
        Path log = dir.resolve("ctr.log");
        Path containers = rig.context.stateDir().resolve("containers");
        HcsBackend first = rig.backend(Map.of());
        first.createSandbox(Fixtures.sandbox(POD));
        first.startSandbox(POD);
        first.createContainer(Fixtures.container(CTR, POD, Fixtures.PING, log.toString()));
        first.startContainer(CTR);
        int pid = (int) first.containerStatus(CTR).pid();
        ProcessHandle relay = relayOf(containers);
        assertThat(relay.pid()).as("the relay is a process of its own").isNotEqualTo(ProcessHandle.current().pid());
        RelayRecord record = RelayRecord.read(containers.resolve(CTR + ".relay")).orElseThrow();

        rig.hcs.print(pid, "one\n");
        await(() -> read(log).contains(" stdout F one\n"), "the first line, written by the relay");
        first.close();

        // no backend runs: the container writes on, its relay logs it
        rig.hcs.print(pid, "two\n");
        await(() -> read(log).contains(" stdout F two\n"), "the line written while no backend ran");

        HcsBackend second = rig.backend(Map.of());
        assertThat(second.recover(List.of(POD), List.of(CTR)).lost()).isEmpty();
        assertThat(second.containerStatus(CTR).state()).isEqualTo(ContainerStatus.State.RUNNING);
        await(() -> answers(record.control()), "the relay's control socket");
        Files.move(log, dir.resolve("ctr.log.1"));
        second.reopenLog(CTR);
        rig.hcs.print(pid, "three\n");
        await(() -> read(log).contains(" stdout F three\n"), "the line in the reopened log");
        second.close();

        // the init exits while no backend runs: the relay writes its code and ends
        rig.hcs.exitProcess(pid, 5);
        relay.onExit().get(30, TimeUnit.SECONDS);
        String all = read(dir.resolve("ctr.log.1")) + read(log);
        assertThat(all.lines().map(l -> l.substring(l.indexOf(' ') + 1)).toList())
                .as("every line, in order, none lost across the restarts")
                .containsExactly("stdout F one", "stdout F two", "stdout F three");

        HcsBackend third = rig.backend(Map.of());
        third.recover(List.of(POD), List.of(CTR));
        assertThat(third.containerStatus(CTR).state()).isEqualTo(ContainerStatus.State.EXITED);
        assertThat(third.containerStatus(CTR).exitCode()).as("the exit code the relay wrote").isEqualTo(5);
        third.removeContainer(CTR);
        assertThat(Files.exists(containers.resolve(CTR + ".relay"))).as("the relay's record").isFalse();
        assertThat(Files.exists(record.control())).as("the relay's control socket").isFalse();
        third.removeSandbox(POD);
        third.close();
        assertThat(rig.hcs.violations()).isEmpty();
    }

    @Test
    @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void removingARunningContainerLeavesNoRelay() throws Exception {
        requireMkfifo();
        Fixtures.Rig rig = new Fixtures.Rig(dir.resolve("rig"));
        Path containers = rig.context.stateDir().resolve("containers");
        HcsBackend b = rig.backend(Map.of());
        b.createSandbox(Fixtures.sandbox(POD));
        b.startSandbox(POD);
        b.createContainer(Fixtures.container(CTR, POD, Fixtures.PING, dir.resolve("ctr.log").toString()));
        b.startContainer(CTR);
        ProcessHandle relay = relayOf(containers);
        RelayRecord record = RelayRecord.read(containers.resolve(CTR + ".relay")).orElseThrow();
        await(() -> answers(record.control()), "the relay's control socket");
        b.removeContainer(CTR);
        assertThat(relay.isAlive()).as("the relay after remove").isFalse();
        assertThat(Files.exists(containers.resolve(CTR + ".relay"))).as("the relay's record").isFalse();
        assertThat(Files.exists(record.control())).as("the relay's control socket").isFalse();
        b.removeSandbox(POD);
        b.close();
        assertThat(rig.hcs.violations()).isEmpty();
    }

    @Test
    void aRelayThatCannotStartLeavesNoHalfStartedContainer() {
        Fixtures.Rig rig = new Fixtures.Rig(dir.resolve("rig"));
        HcsBackend b = rig.backend(Map.of());
        b.createSandbox(Fixtures.sandbox(POD));
        b.startSandbox(POD);
        b.createContainer(Fixtures.container(CTR, POD, Fixtures.PING, dir.resolve("ctr.log").toString()));
        rig.relays.failNext = true;
        assertThatThrownBy(() -> b.startContainer(CTR)).isInstanceOfSatisfying(BackendException.class, e -> {
            assertThat(e.kind()).isEqualTo(BackendException.Kind.INTERNAL);
            assertThat(e.getMessage()).contains("log relay");
        });
        ContainerStatus s = b.containerStatus(CTR);
        assertThat(s.state()).isEqualTo(ContainerStatus.State.EXITED);
        assertThat(s.reason()).isEqualTo("StartError");
        assertThat(rig.hcs.exitCodes(CTR)).as("the init terminated").doesNotContainNull().isNotEmpty();
        assertThat(rig.hcs.openPipes()).as("the init's pipe ends").isZero();
        assertThat(Files.exists(rig.context.stateDir().resolve("containers").resolve(CTR + ".relay"))).isFalse();
        b.removeSandbox(POD);
        b.close();
        assertThat(rig.hcs.violations()).isEmpty();
        assertThat(rig.hcs.openHandles()).isZero();
    }
}
