package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.oci.Libc;
import dev.berth.oci.ProcessRunner;
import dev.berth.oci.Processes;
import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerSecurity;
import dev.berth.spi.PodSecurity;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.testing.TestingBackendContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Failures during create roll back completely: no runtime state, conmon, mount, cgroup or process is left. */
class FaultTest {
    Path base;
    Path rootfs;

    @BeforeEach
    void setUp() throws Exception {
        Host.assumeRuntime("runc");
        base = Host.tempDir();
        rootfs = Host.busyboxRootfs(base.resolve("rootfs"));
    }

    @AfterEach
    void tearDown() throws Exception {
        Host.deleteTree(base);
    }

    @Test
    void aRuntimeThatFailsAtCreateLeavesNothingBehind() throws Exception {
        Path fake = failingProgram("fake-runc", "boom: fake runtime refuses $1");
        Path ctx = base.resolve("ctx");
        try (RuntimeBackend backend = new RuncBackendFactory().create("broken", Map.of("binary", fake.toString()),
                new TestingBackendContext("broken", ctx))) {
            String id = RuncBackendTest.newId();
            assertThatThrownBy(() -> backend.createSandbox(Host.sandbox(id, rootfs, PodSecurity.DEFAULT)))
                    .isInstanceOfSatisfying(BackendException.class, e -> {
                        assertThat(e.kind()).isEqualTo(BackendException.Kind.INTERNAL);
                        assertThat(e.getMessage()).startsWith("failed to create sandbox \"" + id + "\": ").contains("boom");
                    });
            assertNothingLeft(ctx, id, OciResources.podCgroup("", id));
        }
    }

    @Test
    void aPauseProcessThatFailsLeavesNothingBehind() throws Exception {
        Path fake = failingProgram("fake-pause", "boom: fake pause refuses");
        Path ctx = base.resolve("ctx");
        try (RuntimeBackend backend = new RuncBackendFactory().create("runc", Map.of("pause_process",
                fake.toString()), new TestingBackendContext("runc", ctx))) {
            String id = RuncBackendTest.newId();
            assertThatThrownBy(() -> backend.createSandbox(Host.sandbox(id, rootfs, RuncBackendTest.SHARED_PID_POD,
                    Host.netns(base.resolve("netns")), Map.of())))
                    .isInstanceOfSatisfying(BackendException.class, e -> {
                        assertThat(e.kind()).isEqualTo(BackendException.Kind.INTERNAL);
                        assertThat(e.getMessage()).startsWith("failed to create sandbox \"" + id + "\": ")
                                .contains("boom").doesNotContain("\tat ");
                    });
            assertNothingLeft(ctx, id, OciResources.podCgroup("", id));
        }
    }

    /** A script that prints {@code message} to stderr and exits 1. */
    private Path failingProgram(String name, String message) throws java.io.IOException {
        Path fake = base.resolve(name);
        Files.writeString(fake, "#!/bin/sh\necho \"" + message + "\" >&2\nexit 1\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
        return fake;
    }

    @Test
    void aContainerThatCannotBeCreatedLeavesNothingBehind() throws Exception {
        Path ctx = base.resolve("ctx");
        try (RuntimeBackend backend = new RuncBackendFactory().create("runc", Map.of(),
                new TestingBackendContext("runc", ctx))) {
            String sb = RuncBackendTest.newId();
            backend.createSandbox(Host.sandbox(sb, rootfs, PodSecurity.DEFAULT));
            try {
                backend.startSandbox(sb);
                String id = RuncBackendTest.newId();
                assertThatThrownBy(() -> backend.createContainer(Host.container(id, sb, rootfs,
                        List.of("/no/such/program"), base.resolve("logs/failing.log"), null,
                        ContainerSecurity.DEFAULT)))
                        .isInstanceOfSatisfying(BackendException.class, e -> {
                            assertThat(e.getMessage()).startsWith("failed to create container \"" + id + "\": ")
                                    .contains("/no/such/program").doesNotContain("\tat ");
                        });
                assertNothingLeft(ctx, id, OciResources.cgroupsPath(false, "", sb, id));
                assertThat(ProcessRunner.run(List.of("runc", "--root", ctx.resolve("state/runtime").toString(), "state", id),
                        null, Duration.ofSeconds(30)).ok()).isFalse();
                assertThat(base.resolve("logs/failing.log")).as("the log the failed create made").doesNotExist();
                Path kept = Files.writeString(Files.createDirectories(base.resolve("logs")).resolve("kept.log"),
                        "an earlier attempt's line\n");
                String again = RuncBackendTest.newId();
                assertThatThrownBy(() -> backend.createContainer(Host.container(again, sb, rootfs,
                        List.of("/no/such/program"), kept, null, ContainerSecurity.DEFAULT)))
                        .isInstanceOf(BackendException.class);
                assertThat(kept).as("a log that was there before the create").hasContent("an earlier attempt's line");
                // A log file that cannot be made where the request put it: the request's problem, not berth's.
                String noLog = RuncBackendTest.newId();
                assertThatThrownBy(() -> backend.createContainer(Host.container(noLog, sb, rootfs,
                        List.of("sleep", "10"), Path.of("/proc/1/berth-test.log"), null, ContainerSecurity.DEFAULT)))
                        .isInstanceOfSatisfying(BackendException.class, e -> {
                            assertThat(e.kind()).isEqualTo(BackendException.Kind.FAILED_PRECONDITION);
                            assertThat(e.getMessage()).startsWith("failed to create container \"" + noLog + "\": ")
                                    .contains("/proc/1/berth-test.log");
                        });
                assertNothingLeft(ctx, noLog, OciResources.cgroupsPath(false, "", sb, noLog));
            } finally {
                backend.removeSandbox(sb);
            }
            assertNothingLeft(ctx, sb, OciResources.podCgroup("", sb));
        }
    }

    /**
     * berth killed after a create made the bundle but before it wrote the record (simulated by deleting the
     * records): a new backend over the same state has no record, core still has the ids, and removing them
     * cleans up the running container, its conmon, the pod's namespace pins and /dev/shm, and the cgroups.
     */
    @Test
    void removalAfterACreateThatNeverWroteItsRecordLeavesNothingBehind() throws Exception {
        Path ctx = base.resolve("ctx");
        String pinned = RuncBackendTest.newId();
        String paused = RuncBackendTest.newId();
        String sharedPid = RuncBackendTest.newId();
        String ctr = RuncBackendTest.newId();
        long pauseProcess;
        try (RuntimeBackend backend = new RuncBackendFactory().create("runc", Map.of(),
                new TestingBackendContext("runc", ctx))) {
            backend.createSandbox(Host.sandbox(pinned, rootfs, PodSecurity.DEFAULT, Host.netns(base.resolve("netns")),
                    Map.of()));
            backend.startSandbox(pinned);
            backend.createContainer(Host.container(ctr, pinned, rootfs, List.of("sleep", "3600"),
                    base.resolve("logs/sleeper.log"), null, ContainerSecurity.DEFAULT));
            backend.startContainer(ctr);
            backend.createSandbox(Host.sandbox(paused, rootfs, PodSecurity.DEFAULT)); // no netns: a pause container
            backend.createSandbox(Host.sandbox(sharedPid, rootfs, RuncBackendTest.SHARED_PID_POD,
                    Host.netns(base.resolve("netns2")), Map.of()));
            pauseProcess = PauseProcess.pid(ctx.resolve("state/b").resolve(sharedPid)).orElseThrow();
        }
        assertThat(Processes.live(pauseProcess, "pause")).as("the shared-pid pod's pause process").isTrue();
        for (String id : List.of(pinned, paused, sharedPid)) {
            Files.delete(ctx.resolve("state/sandboxes").resolve(id + ".json"));
        }
        Files.delete(ctx.resolve("state/containers").resolve(ctr + ".json"));
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).contains(pinned + "/ns/uts", paused);
        assertThat(LogJoiner.running(ctx.resolve("state/b").resolve(ctr))).as("the container's log joiner").isPresent();
        try (RuntimeBackend backend = new RuncBackendFactory().create("runc", Map.of(),
                new TestingBackendContext("runc", ctx))) {
            // What core turns into FAILED_PRECONDITION for a container it lists: the backend has no such container.
            for (ThrowingCallable call : List.<ThrowingCallable>of(() -> backend.startContainer(ctr),
                    () -> backend.containerStatus(ctr), () -> backend.execSync(ctr, List.of("true"), Duration.ZERO))) {
                assertThatThrownBy(call).isInstanceOfSatisfying(BackendException.class,
                        e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.NOT_FOUND));
            }
            backend.stopContainer(ctr, Duration.ZERO); // nothing to stop: no error
            backend.removeContainer(ctr);
            backend.removeSandbox(pinned);
            backend.removeSandbox(paused);
            backend.removeSandbox(paused);
            backend.removeSandbox(sharedPid);
        }
        assertThat(Processes.live(pauseProcess, "pause")).as("the shared-pid pod's pause process").isFalse();
        assertNothingLeft(ctx, sharedPid, OciResources.podCgroup("", sharedPid));
        assertNothingLeft(ctx, ctr, OciResources.cgroupsPath(false, "", pinned, ctr));
        assertNothingLeft(ctx, pinned, OciResources.podCgroup("", pinned));
        assertNothingLeft(ctx, paused, OciResources.podCgroup("", paused));
    }

    /**
     * A berth killed between starting conmon's launcher and opening its end of the FIFOs leaves the launcher
     * blocked in open() for ever (found by test/soak/kill9.sh): the next berth's handler kills it as it starts,
     * and a launcher of the running berth (its FIFOs named after its pid) is left alone.
     */
    @Test
    void aStartingHandlerKillsTheLaunchersAnEarlierBerthLeftWaiting() throws Exception {
        Path ctx = base.resolve("ctx");
        String id = RuncBackendTest.newId();
        Path bundle = Files.createDirectories(ctx.resolve("state/b").resolve(id));
        Process orphan = waitingLauncher(bundle, "1-1");
        Process ours = waitingLauncher(bundle, ProcessHandle.current().pid() + "-1");
        try {
            Thread.sleep(200);
            assertThat(orphan.isAlive()).as("the launcher waits in open()").isTrue();
            try (RuntimeBackend backend = new RuncBackendFactory().create("runc", Map.of(),
                    new TestingBackendContext("runc", ctx))) {
                assertThat(orphan.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).as("launcher gone").isTrue();
                assertThat(ours.isAlive()).as("this berth's own launcher").isTrue();
                ours.destroyForcibly().waitFor();
                backend.removeContainer(id);
            }
            assertThat(bundle).doesNotExist();
        } finally {
            orphan.destroyForcibly();
            ours.destroyForcibly();
        }
    }

    /** The launcher exactly as Conmon starts it, with nobody at the other end of its FIFOs. */
    private static Process waitingLauncher(Path dir, String suffix) throws Exception {
        Path sync = dir.resolve("sync-" + suffix);
        Path start = dir.resolve("start-" + suffix);
        Libc.mkfifo(sync, 0600);
        Libc.mkfifo(start, 0600);
        return new ProcessBuilder("/bin/sh", "-c", "exec 3>\"$1\" 4<\"$2\"; shift 2; exec \"$@\"",
                "conmon-launcher", sync.toString(), start.toString(), "/bin/true").start();
    }

    /**
     * A runtime that refuses to signal a created container, as runsc does ("cannot signal container ... in state
     * created"): stopping and removing a never-started container and pause container must not wait for an exit
     * that never comes (it used to wait a minute and fail, for every later removal too: a pod that could never be
     * removed).
     */
    @Test
    void aCreatedContainerIsRemovedWhenTheRuntimeRefusesToSignalIt() throws Exception {
        Path fake = base.resolve("fake-runsc");
        Files.writeString(fake, """
                #!/bin/sh
                # runc, except that kill of a created container is refused, as runsc refuses it
                if [ "$3" = kill ] && runc "$1" "$2" state "$4" | grep -q '"status": "created"'; then
                  echo "cannot signal container \"$4\" in state created" >&2
                  exit 1
                fi
                exec runc "$@"
                """);
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path ctx = base.resolve("ctx");
        try (RuntimeBackend backend = new RuncBackendFactory().create("refusing", Map.of("binary", fake.toString(),
                "drop_infra_container", false), new TestingBackendContext("refusing", ctx))) {
            String sb = RuncBackendTest.newId();
            String never = RuncBackendTest.newId();
            backend.createSandbox(Host.sandbox(never, rootfs, PodSecurity.DEFAULT));
            backend.stopSandbox(never, Duration.ofSeconds(10));
            backend.removeSandbox(never);
            assertNothingLeft(ctx, never, OciResources.podCgroup("", never));

            backend.createSandbox(Host.sandbox(sb, rootfs, PodSecurity.DEFAULT));
            backend.startSandbox(sb);
            String id = RuncBackendTest.newId();
            backend.createContainer(Host.container(id, sb, rootfs, List.of("sleep", "3600"),
                    base.resolve("logs/created.log"), null, ContainerSecurity.DEFAULT));
            backend.stopContainer(id, Duration.ofSeconds(10));
            assertThat(backend.containerStatus(id).state()).isEqualTo(dev.berth.spi.ContainerStatus.State.EXITED);
            backend.removeContainer(id);
            assertNothingLeft(ctx, id, OciResources.cgroupsPath(false, "", sb, id));
            backend.removeSandbox(sb);
            assertNothingLeft(ctx, sb, OciResources.podCgroup("", sb));
        }
    }

    static void assertNothingLeft(Path ctx, String id, String cgroup) throws Exception {
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(id);
        assertThat(Files.exists(ctx.resolve("state/b").resolve(id))).as("bundle").isFalse();
        assertThat(Files.exists(ctx.resolve("state/containers").resolve(id + ".json"))).isFalse();
        assertThat(Files.exists(ctx.resolve("state/sandboxes").resolve(id + ".json"))).isFalse();
        for (Cgroups.Hierarchy h : Cgroups.hierarchies()) {
            assertThat(h.mountPoint().resolve(cgroup.substring(1))).as("cgroup").doesNotExist();
        }
        ProcessRunner.Result pgrep = ProcessRunner.run(List.of("pgrep", "-f", id), null, Duration.ofSeconds(30));
        assertThat(pgrep.stdout()).as("processes mentioning " + id).isEmpty();
    }

    @Test
    void healthExplainsAMissingRuntime() throws Exception {
        try (RuntimeBackend backend = new RuncBackendFactory().create("gone",
                Map.of("binary", "/nonexistent/runc", "conmon", "/nonexistent/conmon",
                        "log_joiner", "/nonexistent/berth-logjoin", "pause_process", "/nonexistent/berth-pause"),
                new TestingBackendContext("gone", base.resolve("ctx")))) {
            var health = backend.health();
            assertThat(health.ready()).isFalse();
            assertThat(health.checks()).filteredOn(c -> !c.ok()).extracting(c -> c.what())
                    .containsExactlyInAnyOrder("runtime /nonexistent/runc", "conmon /nonexistent/conmon",
                            "log joiner /nonexistent/berth-logjoin", "pause process /nonexistent/berth-pause");
            assertThatThrownBy(() -> backend.createSandbox(Host.sandbox(RuncBackendTest.newId(), rootfs,
                    PodSecurity.DEFAULT))).isInstanceOfSatisfying(BackendException.class,
                            e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.UNAVAILABLE));
            // A shared-pid pod without a pause container needs only berth-pause, and says so when it is missing.
            String id = RuncBackendTest.newId();
            assertThatThrownBy(() -> backend.createSandbox(Host.sandbox(id, rootfs, RuncBackendTest.SHARED_PID_POD,
                    Host.netns(base.resolve("netns")), Map.of()))).isInstanceOfSatisfying(BackendException.class, e -> {
                        assertThat(e.kind()).isEqualTo(BackendException.Kind.UNAVAILABLE);
                        assertThat(e.getMessage()).contains("/nonexistent/berth-pause is not installed");
                    });
            assertNothingLeft(base.resolve("ctx"), id, OciResources.podCgroup("", id));
        }
    }
}
