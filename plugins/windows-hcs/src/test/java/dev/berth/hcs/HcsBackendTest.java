package dev.berth.hcs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.hcs.bind.Bindings;
import dev.berth.spi.BackendEvent;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendHealth;
import dev.berth.spi.ContainerMount;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.Namespaces;
import dev.berth.spi.PodSecurity;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.StatsProvider;
import dev.berth.spi.testing.HostRequirements;
import dev.berth.spi.testing.TestingBackendContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The backend over the fakes: stop, logs, stats, recovery, service loss, and the host without HCS. */
class HcsBackendTest {
    static final String POD = "1".repeat(64);
    static final String CTR = "2".repeat(64);

    @TempDir
    Path dir;

    private static void await(Supplier<Boolean> condition, String what) throws InterruptedException {
        dev.berth.hcs.log.RelayTesting.await(condition, what, java.time.Duration.ofSeconds(30)); // the relay is a JVM of its own
    }

    @Test
    void onAHostWithoutHcsTheHandlerLoadsReportsWhyAndRefusesPods() {
        HostRequirements.require(!System.getProperty("os.name").startsWith("Windows"),
                "runs on a host that is not Windows");
        RuntimeBackend b = new HcsBackendFactory().create("windows", Map.of(),
                new TestingBackendContext("windows", dir));
        BackendHealth h = b.health();
        assertThat(h.ready()).isFalse();
        assertThat(h.checks()).singleElement().satisfies(c -> {
            assertThat(c.ok()).isFalse();
            assertThat(c.advice()).isEqualTo("the Host Compute Service exists only on Windows");
        });
        assertThatThrownBy(() -> b.createSandbox(Fixtures.sandbox(POD)))
                .isInstanceOfSatisfying(BackendException.class, e -> {
                    assertThat(e.kind()).isEqualTo(BackendException.Kind.UNAVAILABLE);
                    assertThat(e.getMessage()).contains("the Host Compute Service exists only on Windows");
                });
        // Idempotent calls still succeed and unknown ids are unknown.
        b.stopSandbox(POD, Duration.ZERO);
        b.removeSandbox(POD);
        assertThatThrownBy(() -> b.sandboxStatus(POD)).isInstanceOfSatisfying(BackendException.class,
                e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.NOT_FOUND));
        assertThat(b.features().userNamespaces()).isFalse();
        assertThat(b.features().usesImages()).as("core pulls nothing for pods that cannot run").isFalse();
        assertThat(b.podFeatures(Fixtures.sandbox(POD))).isEqualTo(new dev.berth.spi.BackendFeatures.Pod(false, false));
        b.close();
    }

    @Test
    void unknownOptionsAndBadIsolationAreRefused() {
        assertThatThrownBy(() -> HcsOptions.parse("w", Map.of("binary", "runhcs")))
                .isInstanceOfSatisfying(BackendException.class, e -> {
                    assertThat(e.kind()).isEqualTo(BackendException.Kind.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).contains("\"binary\"");
                });
        assertThatThrownBy(() -> HcsOptions.parse("w", Map.of("isolation", "vm")))
                .hasMessageContaining("isolation");
    }

    @Test
    void aStopSendsCtrlShutdownThenTerminatesAndPublishesOneExit() throws Exception {
        Fixtures.Rig rig = new Fixtures.Rig(dir);
        HcsBackend b = rig.backend(Map.of("shutdown_timeout_seconds", 1));
        b.createSandbox(Fixtures.sandbox(POD));
        b.startSandbox(POD);
        b.createContainer(Fixtures.container(CTR, POD, Fixtures.PING, ""));
        b.startContainer(CTR);
        rig.hcs.ignoreCtrlShutdown = true;
        rig.hcs.clearCalls();
        b.stopContainer(CTR, Duration.ofMillis(300));
        assertThat(rig.hcs.callNames()).containsSubsequence("HcsSignalProcess", "HcsTerminateProcess",
                "HcsShutDownComputeSystem");
        ContainerStatus s = b.containerStatus(CTR);
        assertThat(s.state()).isEqualTo(ContainerStatus.State.EXITED);
        assertThat(s.exitCode()).isEqualTo(1);
        assertThat(s.reason()).isEqualTo("Error");
        rig.hcs.drainEvents();
        assertThat(rig.context.published()).filteredOn(e -> e.type() == BackendEvent.Type.STOPPED).hasSize(1);
        b.removeSandbox(POD);
        b.close();
        assertThat(rig.hcs.violations()).isEmpty();
        assertThat(rig.hcs.openHandles()).isZero();
    }

    @Test
    void aStopWaitingOutItsGracePeriodHoldsUpNeitherAShorterStopNorARemove() throws Exception {
        Fixtures.Rig rig = new Fixtures.Rig(dir);
        HcsBackend b = rig.backend(Map.of("shutdown_timeout_seconds", 1));
        b.createSandbox(Fixtures.sandbox(POD));
        b.startSandbox(POD);
        rig.hcs.ignoreCtrlShutdown = true;
        for (boolean remove : new boolean[] {false, true}) {
            String ctr = (remove ? "4" : "3").repeat(64);
            b.createContainer(Fixtures.container(ctr, POD, Fixtures.PING, ""));
            b.startContainer(ctr);
            rig.hcs.clearCalls();
            var first = java.util.concurrent.CompletableFuture.runAsync(
                    () -> b.stopContainer(ctr, Duration.ofSeconds(100)));
            await(() -> rig.hcs.callNames().contains("HcsSignalProcess"), "the first stop's CtrlShutdown");
            var second = java.util.concurrent.CompletableFuture.runAsync(() -> {
                if (remove) {
                    b.removeContainer(ctr);
                } else {
                    b.stopContainer(ctr, Duration.ofMillis(300));
                }
            });
            // both return long before the first stop's 100 s are over
            second.get(30, java.util.concurrent.TimeUnit.SECONDS);
            first.get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(rig.hcs.callNames()).as("CtrlShutdown is sent once")
                    .filteredOn("HcsSignalProcess"::equals).hasSize(1);
            if (!remove) {
                assertThat(b.containerStatus(ctr).state()).isEqualTo(ContainerStatus.State.EXITED);
                b.removeContainer(ctr);
            }
        }
        b.removeSandbox(POD);
        b.close();
        assertThat(rig.hcs.violations()).isEmpty();
    }

    @Test
    void theInitsOutputGoesToTheCriLogAndItsExitCodeToTheStatus() throws Exception {
        Fixtures.Rig rig = new Fixtures.Rig(dir);
        HcsBackend b = rig.backend(Map.of());
        Path log = dir.resolve("logs/app/0.log");
        b.createSandbox(Fixtures.sandbox(POD));
        b.startSandbox(POD);
        b.createContainer(Fixtures.container(CTR, POD, List.of("cmd", "/c", "echo", "hello from windows"),
                log.toString()));
        b.startContainer(CTR);
        await(() -> b.containerStatus(CTR).state() == ContainerStatus.State.EXITED, "the container's exit");
        await(() -> Files.exists(log) && !readQuietly(log).isEmpty(), "the log line");
        assertThat(readQuietly(log)).matches("\\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z stdout F hello from windows\n");
        assertThat(b.containerStatus(CTR).exitCode()).isZero();
        assertThat(b.containerStatus(CTR).reason()).isEqualTo("Completed");
        b.removeSandbox(POD);
        b.close();
    }

    private static String readQuietly(Path p) {
        try {
            return Files.readString(p);
        } catch (Exception e) {
            return "";
        }
    }

    @Test
    void statsComeFromTheStatisticsProperty() {
        Fixtures.Rig rig = new Fixtures.Rig(dir);
        HcsBackend b = rig.backend(Map.of());
        b.createSandbox(Fixtures.sandbox(POD));
        b.startSandbox(POD);
        b.createContainer(Fixtures.container(CTR, POD, Fixtures.PING, ""));
        b.startContainer(CTR);
        StatsProvider.Usage u = b.containerStats(CTR).usage();
        assertThat(u.cpuUsageCoreNanoSeconds()).isEqualTo(1_500_000L * 100);
        assertThat(u.memoryWorkingSetBytes()).isEqualTo(30L << 20);
        assertThat(u.memoryUsageBytes()).isEqualTo(40L << 20);
        assertThat(u.memoryRssBytes()).isEqualTo(-1);
        StatsProvider.Usage pod = b.sandboxStats(POD).usage();
        assertThat(pod.cpuUsageCoreNanoSeconds()).as("holder and container").isEqualTo(2 * 1_500_000L * 100);
        assertThat(rig.hcs.calls()).anyMatch(c -> c.startsWith("HcsGetComputeSystemProperties"));
        b.removeSandbox(POD);
        b.close();
    }

    @Test
    void afterARestartTheBackendOpensItsSystemsAndFollowsTheInit() throws Exception {
        Fixtures.Rig rig = new Fixtures.Rig(dir);
        HcsBackend first = rig.backend(Map.of());
        first.createSandbox(Fixtures.sandbox(POD));
        first.startSandbox(POD);
        first.createContainer(Fixtures.container(CTR, POD, Fixtures.PING, ""));
        first.startContainer(CTR);
        long pid = first.containerStatus(CTR).pid();
        first.close();
        assertThat(rig.hcs.openHandles()).as("berth's handles closed; the systems run on").isZero();
        assertThat(rig.hcs.system(CTR).state).isEqualTo("Running");

        HcsBackend second = rig.backend(Map.of());
        assertThat(second.recover(List.of(POD), List.of(CTR)).lost()).isEmpty();
        assertThat(second.containerStatus(CTR).state()).isEqualTo(ContainerStatus.State.RUNNING);
        assertThat(second.containerStatus(CTR).pid()).isEqualTo(pid);
        assertThat(rig.hcs.calls()).contains("HcsOpenComputeSystem " + CTR);
        assertThat(new String(second.execSync(CTR, List.of("cmd", "/c", "echo", "still here"), Duration.ofSeconds(10))
                .stdout(), java.nio.charset.StandardCharsets.UTF_8)).as("exec in a recovered container")
                .isEqualTo("still here\n");
        assertThat(rig.hcs.processParameters(CTR).getLast()).contains("\"User\":\"ContainerUser\"");
        rig.hcs.exitProcess((int) pid, 7);
        await(() -> second.containerStatus(CTR).state() == ContainerStatus.State.EXITED, "the exit after recovery");
        assertThat(second.containerStatus(CTR).exitCode()).isEqualTo(7);

        HcsBackend third = rig.backend(Map.of());
        second.close();
        third.recover(List.of(POD), List.of(CTR));
        assertThat(third.containerStatus(CTR).exitCode()).as("from the exit file").isEqualTo(7);
        assertThat(third.recover(List.of("9".repeat(64)), List.of()).lost()).containsExactly("9".repeat(64));
        assertThat(third.sandboxStatus(POD).state()).isEqualTo(dev.berth.spi.SandboxStatus.State.READY);

        // A pod whose system stopped while berth was down is found NOTREADY.
        third.close();
        var sys = rig.hcs.openComputeSystem(POD, 0);
        dev.berth.hcs.handle.Operations.execute(rig.hcs, "terminate", Duration.ZERO,
                op -> rig.hcs.terminateComputeSystem(sys.handle(), op, null));
        rig.hcs.closeComputeSystem(sys.handle());
        third = rig.backend(Map.of());
        third.recover(List.of(POD), List.of(CTR));
        assertThat(third.sandboxStatus(POD).state()).isEqualTo(dev.berth.spi.SandboxStatus.State.NOTREADY);
        third.removeSandbox(POD);
        third.close();
        assertThat(rig.hcs.violations()).isEmpty();
        assertThat(rig.layers.active()).isEmpty();
    }

    @Test
    void losingTheServiceMakesTheContainerUnknownNotExited() throws Exception {
        Fixtures.Rig rig = new Fixtures.Rig(dir);
        HcsBackend b = rig.backend(Map.of());
        b.createSandbox(Fixtures.sandbox(POD));
        b.startSandbox(POD);
        b.createContainer(Fixtures.container(CTR, POD, Fixtures.PING, ""));
        b.startContainer(CTR);
        rig.hcs.disconnect();
        rig.hcs.drainEvents();
        ContainerStatus s = b.containerStatus(CTR);
        assertThat(s.state()).isEqualTo(ContainerStatus.State.UNKNOWN);
        assertThat(s.message()).contains("HCS_E_SERVICE_DISCONNECT");
        assertThat(rig.context.published()).noneMatch(e -> e.type() == BackendEvent.Type.STOPPED);
        b.close();
    }

    @Test
    void linuxOnlyFeaturesAreRefusedHonestly() {
        Fixtures.Rig rig = new Fixtures.Rig(dir);
        HcsBackend b = rig.backend(Map.of());
        assertThat(b.features().userNamespaces()).isFalse();
        assertThat(b.features().recursiveReadOnlyMounts()).isFalse();
        SandboxSpec plain = Fixtures.sandbox(POD);
        PodSecurity userns = new PodSecurity(new Namespaces(null, null, null, "",
                new Namespaces.UserNamespace(List.of(), List.of())), false, false, null, null, List.of(), null, null,
                null);
        SandboxSpec withUserns = new SandboxSpec(plain.id(), plain.metadata(), "", "", null, List.of(), Map.of(),
                Map.of(), "", Map.of(), userns, null, null, null, plain.rootfs(), plain.image(), null, null, null,
                null);
        assertThatThrownBy(() -> b.createSandbox(withUserns)).isInstanceOfSatisfying(BackendException.class,
                e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.UNIMPLEMENTED));
        b.createSandbox(plain);
        b.startSandbox(POD);
        ContainerSpec c = Fixtures.container(CTR, POD, Fixtures.PING, "");
        ContainerSpec relabel = new ContainerSpec(c.id(), c.sandboxId(), c.name(), 0, c.image(), List.of(), List.of(),
                "", List.of(), List.of(new ContainerMount("C:\\data", "C:\\host", false, false, null, true, "")),
                List.of(), Map.of(), Map.of(), "", false, false, false, null, null, c.rootfs(), null);
        assertThatThrownBy(() -> b.createContainer(relabel)).isInstanceOfSatisfying(BackendException.class, e -> {
            assertThat(e.kind()).isEqualTo(BackendException.Kind.UNIMPLEMENTED);
            assertThat(e.getMessage()).contains("SELinux");
        });
        assertThat(rig.layers.active()).as("a refused container leaves no layer behind").hasSize(1);
        b.removeSandbox(POD);
        b.close();
        assertThat(rig.layers.active()).isEmpty();
    }

    @Test
    void aHyperVHandlerSaysWhatIsMissing() {
        Fixtures.Rig rig = new Fixtures.Rig(dir);
        HcsBackend b = new HcsBackend("hyperv", HcsOptions.parse("hyperv", Map.of("isolation", "hyperv")),
                rig.context, rig.bindings(), 4);
        assertThat(b.health().ready()).isFalse();
        assertThatThrownBy(() -> b.createSandbox(Fixtures.sandbox(POD))).isInstanceOfSatisfying(
                BackendException.class, e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.UNIMPLEMENTED));
        b.close();
    }
}
