package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.oci.Libc;
import dev.berth.oci.ProcessRunner;
import dev.berth.oci.Processes;
import dev.berth.oci.spec.Devices;
import dev.berth.oci.spec.SpecMapper;
import dev.berth.spi.BackendFeatures;
import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerSecurity;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.ExecResult;
import dev.berth.spi.LinuxResources;
import dev.berth.spi.NamespaceMode;
import dev.berth.spi.Namespaces;
import dev.berth.spi.PodSecurity;
import dev.berth.spi.SpecReading;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SecurityProfile;
import dev.berth.spi.SelinuxLabel;
import dev.berth.spi.StreamingIo;
import dev.berth.spi.PortForwarding;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.SandboxSpec;
import java.util.concurrent.LinkedBlockingQueue;
import dev.berth.spi.testing.TestingBackendContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Pods and containers on the real runtime and conmon: logs, exec, stop, exits, OOM, resources, namespaces. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RuncBackendTest {
    Path base;
    Path rootfs;
    TestingBackendContext context;
    RuntimeBackend backend;
    final List<String> sandboxes = new ArrayList<>();

    protected String binary() {
        return "runc";
    }

    /** The handler's options; the default drops the pause container where a pod needs none. */
    protected Map<String, Object> options() {
        return Map.of("binary", binary());
    }

    @BeforeAll
    void setUp() throws Exception {
        Host.assumeRuntime(binary());
        if (binary().equals("crun")) {
            Host.applyCrunHybridFix();
        }
        base = Host.tempDir();
        rootfs = Host.busyboxRootfs(base.resolve("rootfs"));
        context = new TestingBackendContext(binary(), base.resolve("ctx"));
        backend = new RuncBackendFactory().create(binary(), options(), context);
    }

    @AfterAll
    void tearDown() throws Exception {
        if (backend != null) {
            backend.close();
        }
        Host.deleteTree(base);
    }

    @AfterEach
    void removePods() {
        for (String id : sandboxes) {
            backend.removeSandbox(id);
        }
    }

    static String newId() {
        byte[] b = new byte[32];
        ThreadLocalRandom.current().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** A started pod in its own pinned network namespace (as core makes one), or in the host's. */
    String pod(PodSecurity security) throws java.io.IOException {
        return pod(security, Map.of());
    }

    String pod(PodSecurity security, Map<String, String> sysctls) throws java.io.IOException {
        String id = newId();
        sandboxes.add(id);
        Path netns = security.namespaces().network() == NamespaceMode.NODE ? null
                : Host.netns(base.resolve("netns").resolve(id.substring(0, 12)));
        backend.createSandbox(Host.sandbox(id, rootfs, security, netns, sysctls));
        backend.startSandbox(id);
        return id;
    }

    String run(String sandbox, List<String> cmd, Path log, LinuxResources res, ContainerSecurity sec) {
        String id = newId();
        backend.createContainer(Host.container(id, sandbox, rootfs, cmd, log, res, sec));
        backend.startContainer(id);
        return id;
    }

    static void await(BooleanSupplier cond, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    ContainerStatus awaitExit(String id) throws InterruptedException {
        await(() -> backend.containerStatus(id).state() == ContainerStatus.State.EXITED, "exit of " + id);
        return backend.containerStatus(id);
    }

    @Test
    void containerLogsInCriFormatAndExitsNonZero() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        Path log = base.resolve("logs/pod/c/0.log");
        String id = run(sb, List.of("sh", "-c", "echo out $GREETING; echo err >&2; exit 3"), log, null,
                ContainerSecurity.DEFAULT);
        ContainerStatus st = awaitExit(id);
        assertThat(st.exitCode()).isEqualTo(3);
        assertThat(st.reason()).isEqualTo("Error");
        assertThat(st.finishedAt()).isAfterOrEqualTo(st.startedAt().minusSeconds(1));
        List<String> lines = Files.readAllLines(log);
        assertThat(lines).hasSize(2);
        List<CriLog.Line> parsed = lines.stream().map(CriLog::parse).toList();
        assertThat(parsed).extracting(CriLog.Line::stream).containsExactlyInAnyOrder("stdout", "stderr");
        assertThat(parsed).extracting(CriLog.Line::message).containsExactlyInAnyOrder("out hello", "err");
        assertThat(parsed).allMatch(l -> !l.partial());
        backend.removeContainer(id);
        assertThatThrownBy(() -> backend.containerStatus(id)).isInstanceOf(BackendException.class);
    }

    /** SpecReading: the bundles' config.json; none for a pod without a pause container. */
    @Test
    void theRuntimeSpecsAreTheBundlesAsRuncHadThem() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        String id = run(sb, List.of("sleep", "600"), null, null, ContainerSecurity.DEFAULT);
        SpecReading specs = (SpecReading) backend;
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var container = json.readTree(specs.containerRuntimeSpec(id).orElseThrow());
        assertThat(container.path("process").path("args").toString()).isEqualTo("[\"sleep\",\"600\"]");
        assertThat(container.path("annotations").path(SpecMapper.CONTAINER_TYPE).asText()).isEqualTo("container");
        Path bundle = Path.of(backend.containerStatus(id).info().get("bundle"));
        assertThat(container).isEqualTo(json.readTree(bundle.resolve("config.json").toFile()));
        if (backend.sandboxStatus(sb).info().containsKey("pause")) { // namespaces pinned: no pause container
            assertThat(specs.sandboxRuntimeSpec(sb)).isEmpty();
        } else { // RuncPauseBackendTest
            var sandbox = json.readTree(specs.sandboxRuntimeSpec(sb).orElseThrow());
            assertThat(sandbox.path("annotations").path(SpecMapper.CONTAINER_TYPE).asText()).isEqualTo("sandbox");
        }
        assertThatThrownBy(() -> specs.containerRuntimeSpec(newId())).isInstanceOfSatisfying(BackendException.class,
                e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.NOT_FOUND));
        assertThatThrownBy(() -> specs.sandboxRuntimeSpec(id)).isInstanceOfSatisfying(BackendException.class,
                e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.NOT_FOUND));
        backend.stopContainer(id, Duration.ZERO);
        backend.removeContainer(id);
        assertThatThrownBy(() -> specs.containerRuntimeSpec(id)).isInstanceOf(BackendException.class);
    }

    @Test
    void statusOfRunningContainersAndPodsAsksTheRuntimeNothing() throws Exception {
        // A runtime wrapper that records every call: status must come from berth's own state, exit files and
        // conmon, not from a runc state per call (the kubelet asks every second for every container).
        Path calls = base.resolve("runtime-calls.log");
        RuntimeBackend b = recordingBackend("recording", calls);
        String sb = newId();
        try {
            b.createSandbox(Host.sandbox(sb, rootfs, PodSecurity.DEFAULT));
            b.startSandbox(sb);
            String id = newId();
            b.createContainer(Host.container(id, sb, rootfs, List.of("sleep", "3600"), null, null,
                    ContainerSecurity.DEFAULT));
            // Created and not yet started (core settles every new container's state right after the create).
            Files.deleteIfExists(calls);
            for (int i = 0; i < 3; i++) {
                ContainerStatus created = b.containerStatus(id);
                assertThat(created.state()).isEqualTo(ContainerStatus.State.CREATED);
                assertThat(created.pid()).isPositive();
            }
            assertThat(recorded(calls))
                    .as("runtime calls for a created container's status").isEmpty();
            b.startContainer(id);
            Files.deleteIfExists(calls);
            for (int i = 0; i < 5; i++) {
                assertThat(b.containerStatus(id).state()).isEqualTo(ContainerStatus.State.RUNNING);
                assertThat(b.sandboxStatus(sb).state()).isEqualTo(dev.berth.spi.SandboxStatus.State.READY);
            }
            // The info maps (verbose status, berth explain) name conmon and the process, also without a runtime call.
            ContainerStatus running = b.containerStatus(id);
            assertThat(running.info()).containsEntry("runtime_pid", Long.toString(running.pid()))
                    .containsKeys("bundle", "cgroup", "runtime");
            assertThat(Processes.live(Long.parseLong(running.info().get("conmon_pid")), "conmon")).isTrue();
            var pod = b.sandboxStatus(sb);
            assertThat(pod.info()).containsEntry("runtime_pid", Long.toString(pod.pid()));
            assertThat(Processes.live(Long.parseLong(pod.info().get("conmon_pid")), "conmon")).isTrue();
            assertThat(recorded(calls))
                    .as("runtime calls for ten status queries").isEmpty();
            long pid = b.containerStatus(id).pid();
            assertThat(pid).isPositive();
            Libc.kill(pid, 9);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (b.containerStatus(id).state() != ContainerStatus.State.EXITED && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            ContainerStatus st = b.containerStatus(id);
            assertThat(st.state()).isEqualTo(ContainerStatus.State.EXITED);
            assertThat(st.exitCode()).isEqualTo(137);
        } finally {
            b.removeSandbox(sb);
            b.close();
        }
    }

    /** A backend of handler {@code name} whose runtime is a wrapper that appends each call's arguments to {@code calls}. */
    private RuntimeBackend recordingBackend(String name, Path calls) throws Exception {
        Path wrapper = base.resolve(name + "-" + binary());
        Files.writeString(wrapper, "#!/bin/sh\necho \"$*\" >> " + calls + "\nexec " + RuncOptions.resolveProgram(binary()) + " \"$@\"\n");
        Files.setPosixFilePermissions(wrapper, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        var ctx = new TestingBackendContext(name, base.resolve("ctx-" + name));
        return new RuncBackendFactory().create(name, Map.of("binary", wrapper.toString()), ctx);
    }

    /** The runtime calls a {@link #recordingBackend} wrote to {@code calls}, none if it wrote nothing. */
    private static List<String> recorded(Path calls) throws java.io.IOException {
        return Files.exists(calls) ? Files.readAllLines(calls) : List.of();
    }

    @Test
    void stopAndRemoveAskTheRuntimeOnlyToSignalAndDelete() throws Exception {
        Path calls = base.resolve("stop-calls.log");
        RuntimeBackend b = recordingBackend("recording-stop", calls);
        String sb = newId();
        try {
            b.createSandbox(Host.sandbox(sb, rootfs, PodSecurity.DEFAULT));
            b.startSandbox(sb);
            String id = newId();
            b.createContainer(Host.container(id, sb, rootfs, List.of("sleep", "3600"), null, null,
                    ContainerSecurity.DEFAULT));
            b.startContainer(id);
            Files.deleteIfExists(calls);
            b.stopContainer(id, Duration.ofSeconds(10));
            assertThat(b.containerStatus(id).state()).isEqualTo(ContainerStatus.State.EXITED);
            b.removeContainer(id);
            b.stopSandbox(sb, Duration.ofSeconds(10));
            List<String> made = recorded(calls);
            // A container and a pause process berth started are running while conmon supervises them and wrote no
            // exit file: stopping them needs no runtime state first.
            assertThat(made).as("runtime calls").noneMatch(l -> l.contains(" state "))
                    .anyMatch(l -> l.contains(" kill " + id + " "))
                    .anyMatch(l -> l.contains(" delete ") && l.contains(id));
        } finally {
            b.removeSandbox(sb);
            b.close();
        }
    }

    @Test
    void completedContainerHasReasonCompleted() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        String id = run(sb, List.of("true"), null, null, ContainerSecurity.DEFAULT);
        ContainerStatus st = awaitExit(id);
        assertThat(st.exitCode()).isZero();
        assertThat(st.reason()).isEqualTo("Completed");
        // nobody stopped it: the backend noticed the exit by itself (EventSource)
        await(() -> context.published().stream().anyMatch(e -> e.containerId().equals(id)
                && e.type() == dev.berth.spi.BackendEvent.Type.STOPPED), "STOPPED event");
        // Only the exit, once: core publishes CREATED, STARTED and DELETED for the calls it serves.
        assertThat(context.published()).filteredOn(e -> e.containerId().equals(id))
                .extracting(dev.berth.spi.BackendEvent::type).containsExactly(dev.berth.spi.BackendEvent.Type.STOPPED);
    }

    @Test
    void execSyncHonoursExitCodeAndTimeout() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        String id = run(sb, List.of("sleep", "3600"), null, null, ContainerSecurity.DEFAULT);
        ExecResult r = backend.execSync(id, List.of("sh", "-c", "echo to-out; echo to-err >&2; exit 7"),
                Duration.ofSeconds(30));
        assertThat(r.exitCode()).isEqualTo(7);
        assertThat(new String(r.stdout(), StandardCharsets.UTF_8)).isEqualTo("to-out\n");
        assertThat(new String(r.stderr(), StandardCharsets.UTF_8)).isEqualTo("to-err\n");
        assertThatThrownBy(() -> backend.execSync(id, List.of("sleep", "30"), Duration.ofSeconds(1)))
                .isInstanceOfSatisfying(BackendException.class,
                        e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.DEADLINE_EXCEEDED));
        assertThat(backend.containerStatus(id).state()).isEqualTo(ContainerStatus.State.RUNNING);
        // the timed-out exec was killed: only the container's own sleep is left
        ExecResult ps = backend.execSync(id, List.of("sh", "-c", "ps -o args | grep -c '^sleep 30' || true"),
                Duration.ofSeconds(30));
        assertThat(new String(ps.stdout(), StandardCharsets.UTF_8).strip()).isEqualTo("0");
    }

    @Test
    void execSyncReportsSignalsCapsItsOutputAndDoesNotWaitForAChildHoldingIt() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        String id = run(sb, List.of("sleep", "3600"), null, null, ContainerSecurity.DEFAULT);
        assertThat(RuntimeExec.PATH).as("the build makes target/bin/berth-execsync, which these execs go through")
                .isPresent();
        // A command killed by a signal: 128 + the signal, as a shell reports it.
        assertThat(backend.execSync(id, List.of("sh", "-c", "kill -9 $$"), Duration.ofSeconds(30)).exitCode())
                .isEqualTo(137);
        // 20 MiB written, 16 MiB kept in all; the command is not blocked by a full pipe.
        ExecResult big = backend.execSync(id, List.of("sh", "-c", "head -c 20971520 /dev/zero; echo err >&2"),
                Duration.ofSeconds(60));
        assertThat(big.exitCode()).isZero();
        assertThat(big.stdout().length + big.stderr().length).isEqualTo(RuntimeExec.OUTPUT_LIMIT);
        // A child that keeps the output open: the answer is what the command wrote, not a wait for the child (which
        // would run into the 30 s deadline, as runc's foreground exec does).
        ExecResult bg = backend.execSync(id, List.of("sh", "-c", "sleep 600 & echo started"), Duration.ofSeconds(30));
        assertThat(bg.exitCode()).isZero();
        assertThat(new String(bg.stdout(), StandardCharsets.UTF_8)).isEqualTo("started\n");
    }

    @Test
    void stopKillsAContainerThatIgnoresSigtermAfterTheGracePeriod() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        Path log = base.resolve("logs/term/0.log");
        // It notes the SIGTERM and carries on; only SIGKILL, after the grace period, ends it.
        String id = run(sb, List.of("sh", "-c", "trap 'echo got-term' TERM; echo up; while :; do sleep 1; done"),
                log, null, ContainerSecurity.DEFAULT);
        await(() -> sizeOf(log) > 0, "the container to start");
        backend.stopContainer(id, Duration.ofSeconds(5));
        ContainerStatus st = backend.containerStatus(id);
        assertThat(st.state()).isEqualTo(ContainerStatus.State.EXITED);
        assertThat(st.exitCode()).isEqualTo(137);
        assertThat(Files.readAllLines(log).stream().map(l -> CriLog.parse(l).message()))
                .as("the stop signal came first and the grace period let the trap run").contains("up", "got-term");
    }

    @Test
    void stopWithSigtermHandledExitsCleanly() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        String id = run(sb, List.of("sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1 & wait; done"), null, null,
                ContainerSecurity.DEFAULT);
        backend.stopContainer(id, Duration.ofSeconds(60));
        assertThat(backend.containerStatus(id).exitCode()).isZero();
    }

    @Test
    void smallMemoryLimitIsOomKilled() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        LinuxResources res = new LinuxResources(0, 0, 0, 16L << 20, 0, "", "", Map.of(), Map.of(), 0);
        // A shell variable that doubles until the kernel's OOM killer ends it.
        String id = run(sb, List.of("sh", "-c", "x=xxxxxxxxxxxxxxxx; while :; do x=$x$x; done"), null, res,
                ContainerSecurity.DEFAULT);
        ContainerStatus st = awaitExit(id);
        assertThat(st.reason()).isEqualTo("OOMKilled");
        assertThat(st.exitCode()).isEqualTo(137);
    }

    @Test
    void updateContainerIsVisibleInTheCgroup() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        String id = run(sb, List.of("sleep", "3600"), null, null, ContainerSecurity.DEFAULT);
        backend.updateContainer(id, new LinuxResources(100_000, 50_000, 512, 64L << 20, 0, "", "", Map.of(),
                Map.of(), 0));
        String cg = OciResources.cgroupsPath(false, "", sb, id);
        assertThat(Cgroups.readLong(Cgroups.dir("memory", cg).resolve("memory.limit_in_bytes")).orElseThrow())
                .isEqualTo(64L << 20);
        assertThat(Cgroups.readLong(Cgroups.dir("cpu", cg).resolve("cpu.cfs_quota_us")).orElseThrow())
                .isEqualTo(50_000);
        assertThat(Cgroups.readLong(Cgroups.dir("cpu", cg).resolve("cpu.shares")).orElseThrow()).isEqualTo(512);
        // and the container sees its own limit
        ExecResult r = backend.execSync(id, List.of("cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"),
                Duration.ofSeconds(30));
        assertThat(new String(r.stdout(), StandardCharsets.UTF_8).strip()).isEqualTo(Long.toString(64L << 20));
        // and the spec a verbose status shows holds the limits in force, as containerd's does
        var spec = new com.fasterxml.jackson.databind.ObjectMapper().readTree(((dev.berth.spi.SpecReading) backend).containerRuntimeSpec(id)
                .orElseThrow()).path("linux").path("resources");
        assertThat(spec.path("memory").path("limit").asLong()).isEqualTo(64L << 20);
        assertThat(spec.path("cpu").path("quota").asLong()).isEqualTo(50_000);
        assertThat(spec.path("cpu").path("shares").asLong()).isEqualTo(512);
    }

    /**
     * A memory limit without a swap limit keeps the container from swapping (swap limit = memory limit), at create
     * and when an update raises the memory limit alone, as containerd's CRI does; where the host does not account
     * swap, no swap limit is written and the container still runs.
     */
    @Test
    void aMemoryLimitWithoutASwapLimitAllowsNoSwap() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        String id = run(sb, List.of("sleep", "3600"), null, new LinuxResources(0, 0, 0, 200L << 20, 0, "", "",
                Map.of(), Map.of(), 0), ContainerSecurity.DEFAULT);
        Path memory = Cgroups.dir("memory", OciResources.cgroupsPath(false, "", sb, id));
        assertThat(Cgroups.readLong(memory.resolve("memory.limit_in_bytes")).orElseThrow()).isEqualTo(200L << 20);
        Path memsw = memory.resolve("memory.memsw.limit_in_bytes");
        if (SwapLimits.accounted()) {
            assertThat(Cgroups.readLong(memsw).orElseThrow()).as("swap limit at create").isEqualTo(200L << 20);
        }
        backend.updateContainer(id, new LinuxResources(0, 0, 0, 400L << 20, 0, "", "", Map.of(), Map.of(), 0));
        assertThat(Cgroups.readLong(memory.resolve("memory.limit_in_bytes")).orElseThrow()).isEqualTo(400L << 20);
        if (SwapLimits.accounted()) {
            assertThat(Cgroups.readLong(memsw).orElseThrow()).as("swap limit after the update").isEqualTo(400L << 20);
        }
        backend.updateContainer(id, new LinuxResources(0, 0, 0, 0, 0, "", "", Map.of(), Map.of(), 600L << 20));
        if (SwapLimits.accounted()) {
            assertThat(Cgroups.readLong(memsw).orElseThrow()).as("a swap limit asked for").isEqualTo(600L << 20);
        }
        assertThat(backend.containerStatus(id).state()).isEqualTo(ContainerStatus.State.RUNNING);
    }

    @Test
    void whatTheNodeRefusesIsTheClientsErrorNotInternal() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        String id = run(sb, List.of("sleep", "3600"), null, null, ContainerSecurity.DEFAULT);
        // A CPU no node of this size has: the kernel's EINVAL on cpuset.cpus.
        assertThatThrownBy(() -> backend.updateContainer(id, new LinuxResources(0, 0, 0, 0, 0, "4000", "", Map.of(),
                Map.of(), 0))).isInstanceOfSatisfying(BackendException.class,
                        e -> assertThat(e.kind()).as(e.getMessage()).isEqualTo(BackendException.Kind.INVALID_ARGUMENT));
        // A memory limit below what the container uses now: the kernel's EBUSY.
        assertThatThrownBy(() -> backend.updateContainer(id, new LinuxResources(0, 0, 0, 4096, 0, "", "", Map.of(),
                Map.of(), 0))).isInstanceOfSatisfying(BackendException.class, e -> {
                    assertThat(e.kind()).as(e.getMessage()).isEqualTo(BackendException.Kind.FAILED_PRECONDITION);
                    // the runtime's own words, without its log lines' frames
                    assertThat(e.getMessage()).doesNotContain("level=", "time=");
                });
        // A working directory that is a file in the image: runc's and crun's "not a directory".
        ContainerSpec base = Host.container(newId(), sb, rootfs, List.of("sleep", "1"), null, null,
                ContainerSecurity.DEFAULT);
        ContainerSpec fileCwd = new ContainerSpec(base.id(), base.sandboxId(), base.name(), 0, base.image(),
                List.of(), List.of(), "/bin/sh", base.env(), List.of(), List.of(), Map.of(), Map.of(), "", false,
                false, false, null, null, base.rootfs(), null);
        assertThatThrownBy(() -> backend.createContainer(fileCwd)).isInstanceOfSatisfying(BackendException.class,
                e -> assertThat(e.kind()).as(e.getMessage()).isEqualTo(BackendException.Kind.FAILED_PRECONDITION));
        // A huge page size this host has no cgroup file for.
        LinuxResources oddPages = new LinuxResources(0, 0, 0, 0, 0, "", "", Map.of("3MB", 0L), Map.of(), 0);
        assertThatThrownBy(() -> backend.createContainer(Host.container(newId(), sb, rootfs, List.of("true"), null,
                oddPages, ContainerSecurity.DEFAULT))).isInstanceOfSatisfying(BackendException.class, e -> {
                    assertThat(e.kind()).as(e.getMessage()).isEqualTo(BackendException.Kind.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).contains("page size \"3MB\"");
                });
        assertThatThrownBy(() -> backend.updateContainer(id, oddPages)).isInstanceOfSatisfying(
                BackendException.class, e -> assertThat(e.kind()).as(e.getMessage())
                        .isEqualTo(BackendException.Kind.INVALID_ARGUMENT));
        // A program the container does not have (the fuzzer's "true" in the pause image).
        assertThatThrownBy(() -> backend.execSync(id, List.of("/no/such/program"), Duration.ofSeconds(30)))
                .isInstanceOfSatisfying(BackendException.class, e -> {
                    assertThat(e.kind()).as(e.getMessage()).isEqualTo(BackendException.Kind.FAILED_PRECONDITION);
                    assertThat(e.getMessage()).contains("/no/such/program");
                });
        if (!Cgroups.unifiedOnly(Cgroups.hierarchies())) {
            assertThatThrownBy(() -> backend.updateContainer(id, new LinuxResources(0, 0, 0, 0, 0, "", "", Map.of(),
                    Map.of("memory.high", "100000000"), 0))).isInstanceOfSatisfying(BackendException.class,
                            e -> assertThat(e.kind()).as(e.getMessage())
                                    .isEqualTo(BackendException.Kind.FAILED_PRECONDITION));
        }
        assertThat(backend.containerStatus(id).state()).isEqualTo(ContainerStatus.State.RUNNING);
    }

    @Test
    void hostNetworkAndHostPidPodsSeeTheHost() throws Exception {
        Namespaces host = new Namespaces(NamespaceMode.NODE, NamespaceMode.NODE, NamespaceMode.NODE, "", null);
        PodSecurity sec = new PodSecurity(host, false, false, OptionalLong.empty(), OptionalLong.empty(), List.of(),
                null, null, null);
        String sb = pod(sec);
        ContainerSecurity csec = new ContainerSecurity(List.of(), List.of(), false, host, OptionalLong.empty(),
                OptionalLong.empty(), "", false, List.of(), false, List.of(), List.of(), SecurityProfile.UNCONFINED,
                SecurityProfile.UNCONFINED, SelinuxLabel.NONE, null);
        String id = run(sb, List.of("sleep", "3600"), null, null, csec);
        String hostNet = Files.readSymbolicLink(Path.of("/proc/self/ns/net")).toString();
        String hostPid = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
        long pid = backend.containerStatus(id).pid();
        assertThat(Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/net")).toString()).isEqualTo(hostNet);
        assertThat(Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/pid")).toString()).isEqualTo(hostPid);
        // the container sees host processes, e.g. this JVM
        ExecResult r = backend.execSync(id, List.of("test", "-d", "/proc/" + ProcessHandle.current().pid()),
                Duration.ofSeconds(30));
        assertThat(r.exitCode()).isZero();
        var metrics = ((dev.berth.spi.PodMetricsSource) backend).podMetrics(sb);
        assertThat(metrics.interfaces()).as("the node's interfaces are not the pod's").isEmpty();
        assertThat(metrics.containers()).extracting(c -> c.containerId()).containsExactly(id);
    }

    @Test
    void podContainersShareThePodsNamespacesButNotTheHosts() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        String one = run(sb, List.of("sleep", "3600"), null, null, ContainerSecurity.DEFAULT);
        String two = run(sb, List.of("sleep", "3600"), null, null, ContainerSecurity.DEFAULT);
        long a = backend.containerStatus(one).pid();
        long b = backend.containerStatus(two).pid();
        for (String ns : List.of("net", "uts", "ipc")) {
            String host = Files.readSymbolicLink(Path.of("/proc/self/ns/" + ns)).toString();
            String first = Files.readSymbolicLink(Path.of("/proc/" + a + "/ns/" + ns)).toString();
            assertThat(Files.readSymbolicLink(Path.of("/proc/" + b + "/ns/" + ns)).toString()).as(ns)
                    .isEqualTo(first).isNotEqualTo(host);
        }
        assertThat(Files.readSymbolicLink(Path.of("/proc/" + a + "/ns/pid")))
                .as("a pid namespace of its own").isNotEqualTo(Files.readSymbolicLink(Path.of("/proc/" + b + "/ns/pid")));
        for (String id : List.of(one, two)) {
            ExecResult r = backend.execSync(id, List.of("hostname"), Duration.ofSeconds(30));
            assertThat(new String(r.stdout(), StandardCharsets.UTF_8).strip()).isEqualTo("pod-" + sb.substring(0, 6));
        }
    }

    /** Whether every pod runs a pause container; {@link RuncPauseBackendTest} wants one always. */
    protected boolean expectPause() {
        return false;
    }

    @Test
    void aPodRunsAPauseProcessOnlyWhereItNeedsOne() throws Exception {
        String plain = pod(PodSecurity.DEFAULT);
        assertThat(backend.sandboxStatus(plain).pid() > 0).as("pause process of a plain pod").isEqualTo(expectPause());
        BackendFeatures.Pod plainPod = backend.podFeatures(Host.sandbox(newId(), rootfs, PodSecurity.DEFAULT,
                Path.of("/run/netns/x"), Map.of()));
        assertThat(plainPod.runsSandboxImage()).as("a plain pod runs from the sandbox image").isEqualTo(expectPause());
        assertThat(plainPod.networkBeforeCreate()).as("CNI runs while a plain pod is created").isFalse();
        BackendFeatures.Pod sysctlPod = backend.podFeatures(Host.sandbox(newId(), rootfs, PodSecurity.DEFAULT,
                Path.of("/run/netns/x"), Map.of("net.ipv4.ip_unprivileged_port_start", "0")));
        assertThat(sysctlPod.runsSandboxImage()).as("nor does a pod with sysctls").isEqualTo(expectPause());
        assertThat(sysctlPod.networkBeforeCreate()).as("net.* sysctls are written after CNI's own").isTrue();
        assertThat(backend.podFeatures(Host.sandbox(newId(), rootfs, SHARED_PID_POD, Path.of("/run/netns/x"),
                Map.of())).runsSandboxImage()).as("a pod-wide pid namespace runs from the sandbox image")
                .isEqualTo(expectPause());
        String shared = pod(SHARED_PID_POD);
        assertThat(backend.sandboxStatus(shared).pid()).as("pause process of a pod-wide pid namespace").isPositive();
        String ct = run(shared, List.of("sleep", "3600"), null, null, SHARED_PID_CONTAINER);
        ExecResult r = backend.execSync(ct, List.of("cat", "/proc/1/cmdline"), Duration.ofSeconds(30));
        assertThat(new String(r.stdout(), StandardCharsets.UTF_8)).as("pid 1 is the pause process")
                .startsWith(expectPause() ? "sh" : "/pause\0");
    }

    static final Namespaces SHARED_PID = new Namespaces(NamespaceMode.POD, NamespaceMode.POD, NamespaceMode.POD, "",
            null);
    static final PodSecurity SHARED_PID_POD = new PodSecurity(SHARED_PID, false, false, OptionalLong.empty(),
            OptionalLong.empty(), List.of(), null, null, null);
    static final ContainerSecurity SHARED_PID_CONTAINER = new ContainerSecurity(List.of(), List.of(), false,
            SHARED_PID, OptionalLong.empty(), OptionalLong.empty(), "", false, List.of(), false, List.of(), List.of(),
            null, null, null, null);

    /**
     * Without a pause container, a pod whose containers share a pid namespace gets berth-pause as its init: in the
     * pod's cgroup and namespaces, confined, reaping the orphans of the namespace, and gone with the pod.
     */
    @Test
    void aSharedPidNamespaceWithoutPauseContainerHasAConfinedInitThatReaps() throws Exception {
        String sb = pod(SHARED_PID_POD);
        long pause = backend.sandboxStatus(sb).pid();
        assertThat(pause).isPositive();
        Path proc = Path.of("/proc", Long.toString(pause));
        String status = Files.readString(proc.resolve("status"));
        assertThat(status).contains("Name:\tpause\n").contains("Uid:\t65535\t65535\t65535\t65535\n")
                .contains("Gid:\t65535\t65535\t65535\t65535\n").contains("CapEff:\t0000000000000000\n")
                .contains("CapPrm:\t0000000000000000\n").contains("CapBnd:\t0000000000000000\n")
                .contains("NoNewPrivs:\t1\n").contains("Seccomp:\t2\n").containsPattern("NSpid:\t" + pause + "\t1\n");
        try (var root = Files.list(Files.readSymbolicLink(proc.resolve("root")))) {
            assertThat(root).as("its root: an empty directory").isEmpty();
        }
        assertThat(Files.readString(proc.resolve("cgroup"))).contains(OciResources.podCgroup("", sb) + "/" + sb);
        String ct = run(sb, List.of("sleep", "3600"), null, null, SHARED_PID_CONTAINER);
        long ctPid = backend.containerStatus(ct).pid();
        for (String ns : List.of("net", "uts", "ipc", "pid")) {
            assertThat(Files.readSymbolicLink(Path.of("/proc/" + ctPid + "/ns/" + ns))).as(ns)
                    .isEqualTo(Files.readSymbolicLink(proc.resolve("ns").resolve(ns)));
        }
        // An orphan of the pod's pid namespace is handed to its init, which must reap it.
        ExecResult r = backend.execSync(ct, List.of("sh", "-c", "sleep 0.2 & echo $!"), Duration.ofSeconds(30));
        String orphan = new String(r.stdout(), StandardCharsets.UTF_8).strip();
        assertThat(orphan).matches("[0-9]+");
        await(() -> backend.execSync(ct, List.of("test", "-e", "/proc/" + orphan), Duration.ofSeconds(30))
                .exitCode() != 0, "the orphan to be reaped");
        // Stop ends the pause process, and with it the namespace: the pod is not ready and takes no containers.
        backend.stopSandbox(sb, Duration.ZERO);
        assertThat(backend.sandboxStatus(sb).state()).isEqualTo(dev.berth.spi.SandboxStatus.State.NOTREADY);
        assertThat(Processes.live(pause, "pause")).as("pause process after stop").isFalse();
        backend.stopSandbox(sb, Duration.ZERO);
        backend.removeSandbox(sb);
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(sb);
        for (Cgroups.Hierarchy h : Cgroups.hierarchies()) {
            assertThat(h.mountPoint().resolve(OciResources.podCgroup("", sb).substring(1))).doesNotExist();
        }
    }

    /** With the host's network and IPC there is nothing else to pin; the pod still gets its own pid namespace. */
    @Test
    void aHostNetworkAndHostIpcPodStillSharesAPidNamespace() throws Exception {
        Namespaces hostNetIpc = new Namespaces(NamespaceMode.NODE, NamespaceMode.POD, NamespaceMode.NODE, "", null);
        String sb = pod(new PodSecurity(hostNetIpc, false, false, OptionalLong.empty(), OptionalLong.empty(),
                List.of(), null, null, null));
        assertThat(backend.sandboxStatus(sb).state()).isEqualTo(dev.berth.spi.SandboxStatus.State.READY);
        ContainerSecurity csec = new ContainerSecurity(List.of(), List.of(), false, hostNetIpc, OptionalLong.empty(),
                OptionalLong.empty(), "", false, List.of(), false, List.of(), List.of(), null, null, null, null);
        String one = run(sb, List.of("sleep", "3600"), null, null, csec);
        String two = run(sb, List.of("sleep", "3600"), null, null, csec);
        long a = backend.containerStatus(one).pid();
        long b = backend.containerStatus(two).pid();
        assertThat(Files.readSymbolicLink(Path.of("/proc/" + a + "/ns/pid")))
                .isEqualTo(Files.readSymbolicLink(Path.of("/proc/" + b + "/ns/pid")))
                .isNotEqualTo(Files.readSymbolicLink(Path.of("/proc/self/ns/pid")));
        assertThat(Files.readSymbolicLink(Path.of("/proc/" + a + "/ns/net")))
                .isEqualTo(Files.readSymbolicLink(Path.of("/proc/self/ns/net")));
    }

    /**
     * A container in a pid namespace it shares (its pod's, or the node's) leaves no process running when its first
     * process ends, stopped or by itself, as with containerd: the kernel kills a namespace's processes only with
     * the namespace's init, so what the container started would otherwise live on, reparented, until its removal.
     */
    @Test
    void aContainerInASharedPidNamespaceLeavesNoProcessWhenItEnds() throws Exception {
        Namespaces hostPid = new Namespaces(NamespaceMode.POD, NamespaceMode.NODE, NamespaceMode.POD, "", null);
        for (Namespaces ns : List.of(SHARED_PID, hostPid)) {
            String sb = pod(new PodSecurity(ns, false, false, OptionalLong.empty(), OptionalLong.empty(), List.of(),
                    null, null, null));
            ContainerSecurity csec = new ContainerSecurity(List.of(), List.of(), false, ns, OptionalLong.empty(),
                    OptionalLong.empty(), "", false, List.of(), false, List.of(), List.of(), null, null, null, null);
            String pid = "pid " + ns.pid();
            String child = "sleep 1" + ThreadLocalRandom.current().nextInt(100_000, 1_000_000);
            String stopped = run(sb, List.of("sh", "-c", child + " & sleep 3600"), null, null, csec);
            await(() -> running(child), "the container's child to run");
            backend.stopContainer(stopped, Duration.ZERO);
            assertThat(backend.containerStatus(stopped).state()).isEqualTo(ContainerStatus.State.EXITED);
            assertThat(running(child)).as(pid + ": the child of a stopped container").isFalse();

            String orphan = "sleep 1" + ThreadLocalRandom.current().nextInt(100_000, 1_000_000);
            Path log = base.resolve("logs/orphan-" + ns.pid() + "/0.log");
            String ended = run(sb, List.of("sh", "-c", orphan + " & echo started"), log, null, csec);
            assertThat(awaitExit(ended).exitCode()).isZero();
            await(() -> !running(orphan), pid + ": the child of a container that ended to be gone");
            assertThat(Files.readAllLines(log).stream().map(l -> CriLog.parse(l).message())).containsExactly("started");
        }
    }

    /** Whether a process with this command line runs on the host (the test's are unique). */
    static boolean running(String commandLine) {
        String wanted = commandLine.replace(' ', '\0') + "\0";
        try (var procs = Files.list(Path.of("/proc"))) {
            return procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).anyMatch(p -> {
                try {
                    return new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8).equals(wanted);
                } catch (java.io.IOException e) {
                    return false; // gone meanwhile
                }
            });
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A pause process killed from outside makes its pod NOTREADY, as a dead pause container does. */
    @Test
    void aPodWhosePauseProcessDiedIsNotReady() throws Exception {
        String sb = pod(SHARED_PID_POD);
        long pause = backend.sandboxStatus(sb).pid();
        Libc.kill(pause, 9);
        await(() -> !Processes.live(pause, "pause"), "the pause process to die");
        assertThat(backend.sandboxStatus(sb).state()).isEqualTo(dev.berth.spi.SandboxStatus.State.NOTREADY);
        assertThatThrownBy(() -> backend.createContainer(Host.container(newId(), sb, rootfs, List.of("true"), null,
                null, SHARED_PID_CONTAINER))).isInstanceOfSatisfying(BackendException.class,
                e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.FAILED_PRECONDITION));
    }

    /**
     * The end of a pod's own process (berth-pause here, a pause container with {@code drop_infra_container = false})
     * is published as STOPPED with the sandbox's id as the container's, once, without a status call: what core's
     * relist shows NOTREADY from. Pods with pinned namespaces alone have no process to end and are reported too.
     */
    @Test
    void theEndOfAPodsOwnProcessIsPublishedOnce() throws Exception {
        var events = (dev.berth.spi.SandboxEventSource) backend;
        String sb = pod(SHARED_PID_POD);
        String pinned = pod(PodSecurity.DEFAULT);
        assertThat(events.reportsEnd(sb)).isTrue();
        assertThat(events.reportsEnd(pinned)).isTrue();
        long pause = backend.sandboxStatus(sb).pid();
        assertThat(pause).isPositive();
        Libc.kill(pause, 9);
        await(() -> context.published().stream().anyMatch(e -> e.containerId().equals(sb)),
                "the sandbox's end to be published");
        Thread.sleep(200); // a second event would come within this
        assertThat(context.published()).filteredOn(e -> e.sandboxId().equals(sb)).singleElement().satisfies(e -> {
            assertThat(e.type()).isEqualTo(dev.berth.spi.BackendEvent.Type.STOPPED);
            assertThat(e.containerId()).isEqualTo(sb);
        });
        assertThat(backend.sandboxStatus(sb).state()).isEqualTo(dev.berth.spi.SandboxStatus.State.NOTREADY);
        assertThat(events.reportsEnd(sb)).as("ended: its status stays NOTREADY").isTrue();
        assertThat(context.published()).filteredOn(e -> e.sandboxId().equals(pinned)).isEmpty();
        backend.stopSandbox(sb, Duration.ZERO);
        backend.removeSandbox(sb);
    }

    @Test
    void stopAndRemoveOfAPodLeaveNoNamespacePinOrCgroup() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        String ct = run(sb, List.of("sleep", "3600"), null, null, ContainerSecurity.DEFAULT);
        assertThat(backend.sandboxStatus(sb).state()).isEqualTo(dev.berth.spi.SandboxStatus.State.READY);
        backend.stopSandbox(sb, Duration.ZERO);
        assertThat(backend.containerStatus(ct).state()).isEqualTo(ContainerStatus.State.EXITED);
        assertThat(backend.sandboxStatus(sb).state()).isEqualTo(dev.berth.spi.SandboxStatus.State.NOTREADY);
        assertThatThrownBy(() -> backend.createContainer(Host.container(newId(), sb, rootfs, List.of("true"), null,
                null, ContainerSecurity.DEFAULT))).isInstanceOfSatisfying(BackendException.class,
                e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.FAILED_PRECONDITION));
        backend.removeSandbox(sb);
        backend.removeSandbox(sb);
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(sb);
        assertThat(Cgroups.dir("memory", OciResources.podCgroup("", sb))).doesNotExist();
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(ct);
    }

    @Test
    void readOnlyRootfsRefusesWrites() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        ContainerSecurity ro = new ContainerSecurity(List.of(), List.of(), false, null, OptionalLong.empty(),
                OptionalLong.empty(), "", true, List.of(), true, List.of(), List.of(), null, null, null, null);
        String id = run(sb, List.of("sleep", "3600"), null, null, ro);
        ExecResult r = backend.execSync(id, List.of("touch", "/rw/file"), Duration.ofSeconds(30));
        assertThat(r.exitCode()).isNotZero();
        assertThat(new String(r.stderr(), StandardCharsets.UTF_8)).contains("Read-only file system");
        assertThat(Files.exists(rootfs.resolve("rw/file"))).isFalse();
    }

    @Test
    void containerStatsComeFromItsCgroup() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        String id = run(sb, List.of("sleep", "3600"), null, null, ContainerSecurity.DEFAULT);
        var usage = ((dev.berth.spi.StatsProvider) backend).containerStats(id).usage();
        assertThat(usage.memoryUsageBytes()).isPositive();
        assertThat(usage.cpuUsageCoreNanoSeconds()).isPositive();
        assertThat(usage.processCount()).isEqualTo(1);
        var pod = ((dev.berth.spi.StatsProvider) backend).sandboxStats(sb).usage();
        if (expectPause()) {
            assertThat(pod.processCount()).as("the container and the pause processes").isGreaterThanOrEqualTo(2);
        } else {
            assertThat(pod.processCount()).as("the container alone").isEqualTo(1);
        }
    }

    /** A container that sleeps a moment, then holds 32 MiB in a shell variable and burns CPU until killed. */
    static final List<String> BURNER = List.of("sh", "-c",
            "sleep 1; a=$(head -c 33554432 /dev/zero | tr '\\0' x); while :; do :; done");

    static long cgroupLong(String controller, String cgroup, String file) {
        return Cgroups.readLong(Cgroups.dir(controller, cgroup).resolve(file)).orElseThrow();
    }

    static long cgroupKey(String controller, String cgroup, String file, String key) {
        return Cgroups.readKey(Cgroups.dir(controller, cgroup).resolve(file), key).orElseThrow();
    }

    static dev.berth.spi.PodMetricsSource.ContainerMetrics only(dev.berth.spi.PodMetricsSource.PodMetrics m) {
        assertThat(m.containers()).hasSize(1);
        return m.containers().getFirst();
    }

    static dev.berth.spi.PodMetricsSource.InterfaceMetrics iface(dev.berth.spi.PodMetricsSource.PodMetrics m,
                                                               String name) {
        return m.interfaces().stream().filter(i -> i.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no interface " + name + " in " + m.interfaces()));
    }

    /** {@code actual} lies within 5% of the file readings taken just before and just after it. */
    static void within5(String what, long before, long actual, long after) {
        assertThat(actual).as(what + " (cgroup files read " + before + " before and " + after + " after)")
                .isBetween((long) (Math.min(before, after) * 0.95), (long) Math.ceil(Math.max(before, after) * 1.05));
    }

    @Test
    void podMetricsAgreeWithTheCgroupFilesAndCountTrafficBetweenTwoPods() throws Exception {
        var source = (dev.berth.spi.PodMetricsSource) backend;
        String a = pod(PodSecurity.DEFAULT);
        String b = pod(PodSecurity.DEFAULT);
        Path pinA = base.resolve("netns").resolve(a.substring(0, 12));
        Path pinB = base.resolve("netns").resolve(b.substring(0, 12));
        String id = run(a, BURNER, null, null, ContainerSecurity.DEFAULT);
        String cg = OciResources.cgroupsPath(false, "", a, id);

        var first = only(source.podMetrics(a));
        assertThat(first.containerId()).isEqualTo(id);
        await(() -> {
            var m = only(source.podMetrics(a));
            return m.usage().cpuUsageCoreNanoSeconds() > 2_000_000_000L && m.usage().memoryRssBytes() > 32L << 20;
        }, "the container to burn 2 s of CPU and hold 32 MiB");

        long cpu0 = cgroupLong("cpuacct", cg, "cpuacct.usage");
        long user0 = cgroupLong("cpuacct", cg, "cpuacct.usage_user");
        long sys0 = cgroupLong("cpuacct", cg, "cpuacct.usage_sys");
        long mem0 = cgroupLong("memory", cg, "memory.usage_in_bytes");
        long rss0 = cgroupKey("memory", cg, "memory.stat", "total_rss");
        long cache0 = cgroupKey("memory", cg, "memory.stat", "total_cache");
        var m = only(source.podMetrics(a));
        long cpu1 = cgroupLong("cpuacct", cg, "cpuacct.usage");
        long user1 = cgroupLong("cpuacct", cg, "cpuacct.usage_user");
        long sys1 = cgroupLong("cpuacct", cg, "cpuacct.usage_sys");
        long mem1 = cgroupLong("memory", cg, "memory.usage_in_bytes");
        long rss1 = cgroupKey("memory", cg, "memory.stat", "total_rss");
        long cache1 = cgroupKey("memory", cg, "memory.stat", "total_cache");
        long inactive = cgroupKey("memory", cg, "memory.stat", "total_inactive_file");

        assertThat(m.usage().cpuUsageCoreNanoSeconds()).as("CPU rises")
                .isGreaterThan(first.usage().cpuUsageCoreNanoSeconds());
        assertThat(m.usage().memoryRssBytes()).as("memory rises").isGreaterThan(first.usage().memoryRssBytes());
        within5("cpu", cpu0, m.usage().cpuUsageCoreNanoSeconds(), cpu1);
        within5("user cpu", user0, m.cpuUserNanoSeconds(), user1);
        within5("system cpu", sys0, m.cpuSystemNanoSeconds(), sys1);
        within5("memory usage", mem0, m.usage().memoryUsageBytes(), mem1);
        within5("working set", mem0 - inactive, m.usage().memoryWorkingSetBytes(), mem1 - inactive);
        within5("rss", rss0, m.usage().memoryRssBytes(), rss1);
        assertThat(m.memoryCacheBytes()).as("cache").isBetween(Math.min(cache0, cache1) - (1L << 20),
                Math.max(cache0, cache1) + (1L << 20));
        List<String> procs = Files.readAllLines(Cgroups.dir("pids", cg).resolve("cgroup.procs"));
        assertThat(m.usage().processCount()).as("processes").isEqualTo(procs.size()).isPositive();
        assertThat(m.threadCount()).as("threads").isEqualTo(cgroupLong("pids", cg, "pids.current"))
                .isGreaterThanOrEqualTo(m.usage().processCount());

        // Two pods joined by a veth pair, as a CNI bridge would join them through the host.
        ProcessRunner.Result link = ProcessRunner.run(List.of("nsenter", "--net=" + pinA, "sh", "-c",
                "ip link add mA type veth peer name mB netns " + pinB + " && ip addr add 10.254.77.1/30 dev mA"
                        + " && ip link set mA up"), null, Duration.ofSeconds(30));
        assertThat(link.ok()).as(link.errorText()).isTrue();
        ProcessRunner.Result up = ProcessRunner.run(List.of("nsenter", "--net=" + pinB, "sh", "-c",
                "ip addr add 10.254.77.2/30 dev mB && ip link set mB up"), null, Duration.ofSeconds(30));
        assertThat(up.ok()).as(up.errorText()).isTrue();
        var beforeA = iface(source.podMetrics(a), "mA");
        var beforeB = iface(source.podMetrics(b), "mB");
        assertThat(source.podMetrics(a).interfaces()).extracting(i -> i.name()).contains("lo");
        ProcessRunner.Result ping = ProcessRunner.run(List.of("nsenter", "--net=" + pinA, Host.BUSYBOX.toString(), "ping",
                "-c", "5", "-i", "0.2", "-s", "1000", "10.254.77.2"), null, Duration.ofSeconds(60));
        assertThat(ping.ok()).as(ping.stdout() + ping.errorText()).isTrue();
        var afterA = iface(source.podMetrics(a), "mA");
        var afterB = iface(source.podMetrics(b), "mB");
        assertThat(afterA.txPackets() - beforeA.txPackets()).as("echo requests sent").isGreaterThanOrEqualTo(5);
        assertThat(afterA.rxPackets() - beforeA.rxPackets()).as("echo replies received").isGreaterThanOrEqualTo(5);
        assertThat(afterA.txBytes() - beforeA.txBytes()).isGreaterThanOrEqualTo(5 * 1000);
        assertThat(afterB.rxBytes() - beforeB.rxBytes()).isGreaterThanOrEqualTo(5 * 1000);
        assertThat(afterB.txPackets() - beforeB.txPackets()).isGreaterThanOrEqualTo(5);

        backend.stopContainer(id, Duration.ofSeconds(1));
        assertThat(source.podMetrics(a).containers()).as("an exited container is left out").isEmpty();
        assertThatThrownBy(() -> source.podMetrics(newId())).isInstanceOfSatisfying(BackendException.class,
                e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.NOT_FOUND));
    }

    @Test
    void aLineWrittenInPiecesReachesTheLogWhole() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        Path log = base.resolve("logs/pieces/0.log");
        // conmon reads the pipe between pieces written 10 ms apart and records them as P, P, F; berth-logjoin
        // joins them. A prompt without a newline still reaches the file, as a P record.
        String id = run(sb, List.of("sh", "-c", "printf 'one '; sleep 0.01; printf 'two '; sleep 0.01; echo three; "
                + "printf 'prompt> '; sleep 30"), log, null, ContainerSecurity.DEFAULT);
        await(() -> Files.exists(log) && readQuietly(log).contains("prompt> "), "the prompt in the log");
        List<CriLog.Line> lines = Files.readAllLines(log).stream().map(CriLog::parse).toList();
        assertThat(lines).extracting(CriLog.Line::message, CriLog.Line::partial)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("one two three", false),
                        org.assertj.core.groups.Tuple.tuple("prompt> ", true));
        Path bundle = ((RuncBackend) backend).bundle(id);
        assertThat(LogJoiner.running(bundle)).as("the container's joiner").isPresent();
        backend.stopContainer(id, Duration.ZERO);
        assertThat(LogJoiner.awaitDone(bundle, Duration.ofSeconds(10))).as("gone after conmon").isTrue();
    }

    static String readQuietly(Path p) {
        try {
            return Files.readString(p);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    @Test
    void reopenLogMakesConmonWriteToANewFile() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        Path log = base.resolve("logs/reopen/0.log");
        String id = run(sb, List.of("sh", "-c", "i=0; while :; do echo line$i; i=$((i+1)); sleep 0.2; done"), log,
                null, ContainerSecurity.DEFAULT);
        await(() -> Files.exists(log) && sizeOf(log) > 0, "first log line");
        Path rotated = log.resolveSibling("0.log.1");
        Files.move(log, rotated);
        ((dev.berth.spi.LogReopening) backend).reopenLog(id);
        await(() -> Files.exists(log) && sizeOf(log) > 0, "a line in the reopened log");
        assertThat(CriLog.parse(Files.readAllLines(log).getFirst()).message()).startsWith("line");
    }

    static long sizeOf(Path p) {
        try {
            return Files.size(p);
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    @Test
    void sandboxStopKillsItsContainersAndIsIdempotent() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        String id = run(sb, List.of("sleep", "3600"), null, null, ContainerSecurity.DEFAULT);
        backend.stopSandbox(sb, Duration.ofSeconds(1));
        assertThat(backend.containerStatus(id).state()).isEqualTo(ContainerStatus.State.EXITED);
        backend.stopSandbox(sb, Duration.ofSeconds(1));
        assertThat(backend.sandboxStatus(sb).state()).isEqualTo(dev.berth.spi.SandboxStatus.State.NOTREADY);
    }

    /** An OutputStream the test can poll while another thread writes to it. */
    static final class Collector extends java.io.OutputStream {
        private final java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();

        @Override
        public synchronized void write(int b) {
            buf.write(b);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            buf.write(b, off, len);
        }

        synchronized String text() {
            return buf.toString(StandardCharsets.UTF_8);
        }
    }

    StreamingIo streaming() {
        return (StreamingIo) backend;
    }

    @Test
    void streamingExecWiresStdinStdoutStderrAndExitCode() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        String id = run(sb, List.of("sleep", "3600"), null, null, ContainerSecurity.DEFAULT);
        Collector out = new Collector();
        Collector err = new Collector();
        int code = streaming().exec(id, List.of("sh", "-c", "cat; echo done >&2; exit 4"), new StreamingIo.Streams(
                new java.io.ByteArrayInputStream("abc\n".getBytes(StandardCharsets.UTF_8)), out, err, false,
                new LinkedBlockingQueue<>()));
        assertThat(code).isEqualTo(4);
        assertThat(out.text()).isEqualTo("abc\n");
        assertThat(err.text()).isEqualTo("done\n");
    }

    @Test
    void streamingExecWithATerminal() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        String id = run(sb, List.of("sleep", "3600"), null, null, ContainerSecurity.DEFAULT);
        Collector out = new Collector();
        LinkedBlockingQueue<StreamingIo.TerminalSize> resize = new LinkedBlockingQueue<>();
        resize.add(new StreamingIo.TerminalSize(100, 30));
        // runc copies the size into the container's terminal just after the process starts: poll for it.
        int code = streaming().exec(id, List.of("sh", "-c",
                "for i in $(seq 100); do s=$(stty size 2>/dev/null); [ -n \"$s\" ] && [ \"$s\" != '0 0' ] && break; "
                        + "sleep 0.1; done; echo \"$s\"; tty; exit 2"),
                new StreamingIo.Streams(null, out, null, true, resize));
        assertThat(code).isEqualTo(2);
        assertThat(out.text()).contains("/dev/pts/");
        if (binary().equals("runc")) {
            // crun 1.8's foreground exec leaves the container's terminal at 0x0, even under script(1); the
            // size check is runc-only.
            assertThat(out.text()).contains("30 100");
        }
    }

    static final ContainerSecurity PRIVILEGED = new ContainerSecurity(List.of(), List.of(), true,
            Namespaces.POD_DEFAULT, OptionalLong.empty(), OptionalLong.empty(), "", false, List.of(), false,
            List.of(), List.of(), SecurityProfile.UNCONFINED, SecurityProfile.UNCONFINED, SelinuxLabel.NONE,
            ContainerSecurity.SupplementalGroupsPolicy.MERGE);

    private static String stdout(ExecResult r) {
        return new String(r.stdout(), StandardCharsets.UTF_8);
    }

    @Test
    void aPrivilegedContainerHasTheHostsDevices() throws Exception {
        // The host's device nodes directly under /dev that a container does not get anyway.
        List<String> extra = Devices.host(Path.of("/dev")).stream().map(d -> Path.of(d.containerPath()))
                .filter(p -> p.getParent().equals(Path.of("/dev"))).map(p -> p.getFileName().toString())
                .filter(n -> !List.of("null", "zero", "full", "random", "urandom", "tty", "ptmx").contains(n))
                .toList();
        assertThat(extra).as("device nodes of this host beyond a container's own").isNotEmpty();
        String sb = pod(PodSecurity.DEFAULT);
        String privileged = run(sb, List.of("sleep", "3600"), null, null, PRIVILEGED);
        List<String> seen = List.of(stdout(backend.execSync(privileged, List.of("ls", "/dev"),
                Duration.ofSeconds(20))).split("\\s+"));
        assertThat(seen).containsAll(extra);
        String plain = run(sb, List.of("sleep", "3600"), null, null, ContainerSecurity.DEFAULT);
        assertThat(List.of(stdout(backend.execSync(plain, List.of("ls", "/dev"), Duration.ofSeconds(20)))
                .split("\\s+"))).doesNotContainAnyElementsOf(extra);
    }

    /**
     * A device node in the container has the host node's owner, as containerd and CRI-O give it: a device only
     * a group may use (root:kvm 0660, a GPU's render node) is then usable by a container process in that group.
     */
    @Test
    void aDeviceKeepsItsOwnerFromTheHost() throws Exception {
        Path node = base.resolve("devices/owned");
        Files.createDirectories(node.getParent());
        Files.deleteIfExists(node);
        assertThat(new ProcessBuilder("mknod", "-m", "0660", node.toString(), "c", "1", "3").start().waitFor())
                .isZero();
        Files.setAttribute(node, "unix:uid", 1234);
        Files.setAttribute(node, "unix:gid", 5678);
        String sb = pod(PodSecurity.DEFAULT);
        String id = newId();
        ContainerSpec c = Host.container(id, sb, rootfs, List.of("sleep", "3600"), null, null,
                ContainerSecurity.DEFAULT);
        backend.createContainer(new ContainerSpec(id, sb, c.name(), 0, c.image(), List.of(), List.of(), "",
                List.of(), List.of(), List.of(new dev.berth.spi.DeviceSpec("/dev/owned", node.toString(), "rw")),
                Map.of(), Map.of(), "", false, false, false, null, null, c.rootfs(), null));
        backend.startContainer(id);
        assertThat(stdout(backend.execSync(id, List.of("stat", "-c", "%u:%g %a", "/dev/owned"),
                Duration.ofSeconds(20))).strip()).isEqualTo("1234:5678 660");
    }

    @Test
    void typedAheadInputIsEchoedOnceByTheContainersTerminal() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        String id = run(sb, List.of("sleep", "3600"), null, null, ContainerSecurity.DEFAULT);
        Collector out = new Collector();
        // Input that is there before the runtime has set up the container's terminal: only that terminal may echo
        // it, as it does under containerd and CRI-O, where the client's bytes go straight to its master.
        int code = streaming().exec(id, List.of("sleep", "2"), new StreamingIo.Streams(
                new java.io.ByteArrayInputStream("typed-ahead".getBytes(StandardCharsets.UTF_8)), out, null, true,
                new LinkedBlockingQueue<>()));
        assertThat(code).isZero();
        assertThat(out.text()).isEqualTo("typed-ahead");
    }

    @Test
    void attachStreamsTheContainersOutputAndFeedsItsStdin() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        String id = newId();
        ContainerSpec spec = Host.container(id, sb, rootfs,
                List.of("sh", "-c", "echo ready; while read l; do echo got:$l; echo err:$l >&2; done"), null, null,
                ContainerSecurity.DEFAULT);
        spec = new ContainerSpec(spec.id(), spec.sandboxId(), spec.name(), 0, spec.image(), List.of(), List.of(), "",
                spec.env(), List.of(), List.of(), Map.of(), Map.of(), "", true, false, false, null, null, spec.rootfs(),
                null);
        backend.createContainer(spec);
        backend.startContainer(id);
        Collector out = new Collector();
        Collector err = new Collector();
        java.io.PipedOutputStream feed = new java.io.PipedOutputStream();
        java.io.PipedInputStream stdin = new java.io.PipedInputStream(feed);
        Thread session = Thread.ofVirtual().start(() -> streaming().attach(id,
                new StreamingIo.Streams(stdin, out, err, false, new LinkedBlockingQueue<>())));
        feed.write("hi\n".getBytes(StandardCharsets.UTF_8));
        feed.flush();
        await(() -> out.text().contains("got:hi") && err.text().contains("err:hi"), "echoed input");
        backend.stopContainer(id, Duration.ofSeconds(1));
        session.join(Duration.ofSeconds(60));
        assertThat(session.isAlive()).as("attach ends when the container exits").isFalse();
        feed.close();
    }

    @Test
    void portForwardConnectsInsideThePodNetwork() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        run(sb, List.of("nc", "-ll", "-p", "18080", "-e", "cat"), null, null, ContainerSecurity.DEFAULT);
        PortForwarding pf = (PortForwarding) backend;
        java.nio.channels.ByteChannel ch = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (ch == null) {
            try {
                ch = pf.connect(sb, 18080);
            } catch (BackendException e) {
                assertThat(e.kind()).isEqualTo(BackendException.Kind.UNAVAILABLE);
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
        try (java.nio.channels.ByteChannel c = ch) {
            c.write(java.nio.ByteBuffer.wrap("ping\n".getBytes(StandardCharsets.UTF_8)));
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(16);
            while (buf.position() < 5 && c.read(buf) > 0) {
                // read the echo
            }
            assertThat(new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8)).isEqualTo("ping\n");
        }
        assertThatThrownBy(() -> pf.connect(sb, 18081)).isInstanceOfSatisfying(BackendException.class,
                e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.UNAVAILABLE));
    }

    @Test
    void healthIsReadyAndFeaturesNameTheCgroupDriver() {
        var health = backend.health();
        assertThat(health.checks()).extracting(c -> c.what()).anyMatch(w -> w.startsWith("runtime "))
                .anyMatch(w -> w.startsWith("conmon "));
        assertThat(health.checks()).allSatisfy(c -> assertThat(c.ok()).as(c.what() + ": " + c.advice()).isTrue());
        assertThat(health.ready()).isTrue();
        assertThat(backend.features().cgroupDriver()).isEqualTo(dev.berth.spi.BackendFeatures.CgroupDriver.CGROUPFS);
        assertThat(backend.features().userNamespaces()).isFalse();
        if (binary().equals("runc") && HostChecks.kernelAtLeast(5, 12)) {
            assertThat(backend.features().recursiveReadOnlyMounts()).as("runc >= 1.1 on kernel >= 5.12").isTrue();
        }
    }

    /**
     * Where runtime and kernel support {@code rro}, a recursive read-only mount covers submounts; where they do
     * not (crun 1.8 here), asking for one is refused by name rather than quietly made plain read-only.
     */
    @Test
    void recursiveReadOnlyMountCoversSubmountsOrIsRefused() throws Exception {
        Path vol = Files.createDirectories(base.resolve("vol-" + System.nanoTime()));
        Path sub = Files.createDirectories(vol.resolve("sub"));
        ProcessRunner.Result m = ProcessRunner.run(List.of("mount", "-t", "tmpfs", "tmpfs", sub.toString()), null,
                Duration.ofSeconds(30));
        assertThat(m.ok()).as(m.errorText()).isTrue();
        try {
            String sb = pod(PodSecurity.DEFAULT);
            String id = newId();
            ContainerSpec spec = Host.containerWithMount(id, sb, rootfs, List.of("sleep", "3600"),
                    new dev.berth.spi.ContainerMount("/rw", vol.toString(), true, true, null, false, ""));
            if (!backend.features().recursiveReadOnlyMounts()) {
                ContainerSpec refused = spec;
                assertThatThrownBy(() -> backend.createContainer(refused))
                        .isInstanceOfSatisfying(BackendException.class,
                                e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.INVALID_ARGUMENT))
                        .hasMessageContaining("recursive read-only mount of \"/rw\" is not supported");
                return;
            }
            backend.createContainer(spec);
            backend.startContainer(id);
            ExecResult r = backend.execSync(id, List.of("touch", "/rw/sub/file"), Duration.ofSeconds(30));
            assertThat(r.exitCode()).isNotZero();
            assertThat(new String(r.stderr(), StandardCharsets.UTF_8)).contains("Read-only file system");
            backend.removeContainer(id);
        } finally {
            ProcessRunner.run(List.of("umount", sub.toString()), null, Duration.ofSeconds(30));
        }
    }

    /** A command the image does not have is the client's error, named in the runtime's words without its log frame. */
    @Test
    void aMissingProgramFailsCreateAsAFailedPreconditionNamingIt() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        String id = newId();
        ContainerSpec spec = Host.container(id, sb, rootfs, List.of("/no/such/program"), null, null,
                ContainerSecurity.DEFAULT);
        assertThatThrownBy(() -> backend.createContainer(spec)).isInstanceOfSatisfying(BackendException.class, e -> {
            assertThat(e.kind()).as(e.getMessage()).isEqualTo(BackendException.Kind.FAILED_PRECONDITION);
            assertThat(e.getMessage()).startsWith("failed to create container \"" + id + "\": ")
                    .contains("/no/such/program").doesNotContain("level=error").doesNotContain("time=");
        });
    }

    /**
     * A mount whose host path does not exist gets an empty directory there, as containerd and CRI-O make one: a
     * Kubernetes hostPath volume without a type reaches the runtime unchecked.
     */
    @Test
    void aMissingHostPathIsCreatedAsADirectory() throws Exception {
        Path missing = base.resolve("absent-" + System.nanoTime()).resolve("dir");
        String sb = pod(PodSecurity.DEFAULT);
        String id = newId();
        backend.createContainer(Host.containerWithMount(id, sb, rootfs, List.of("sleep", "3600"),
                new dev.berth.spi.ContainerMount("/rw", missing.toString(), false, false, null, false, "")));
        backend.startContainer(id);
        assertThat(missing).isDirectory();
        assertThat(Files.getPosixFilePermissions(missing)).isEqualTo(PosixFilePermissions.fromString("rwxr-xr-x"));
        ExecResult r = backend.execSync(id, List.of("touch", "/rw/from-the-container"), Duration.ofSeconds(30));
        assertThat(r.exitCode()).as(new String(r.stderr(), StandardCharsets.UTF_8)).isZero();
        assertThat(missing.resolve("from-the-container")).exists();
        backend.removeContainer(id);
        assertThat(missing).as("kept, as the field's runtimes keep it").isDirectory();
    }

    @Test
    void podResourcesAndOverheadLimitThePodCgroup() throws Exception {
        String id = newId();
        sandboxes.add(id);
        SandboxSpec base = Host.sandbox(id, rootfs, PodSecurity.DEFAULT,
                Host.netns(this.base.resolve("netns").resolve(id.substring(0, 12))), Map.of());
        LinuxResources overhead = new LinuxResources(0, 0, 0, 32L << 20, 0, "", "", Map.of(), Map.of(), 0);
        LinuxResources resources = new LinuxResources(100_000, 200_000, 1024, 256L << 20, 0, "", "", Map.of(),
                Map.of(), 0);
        backend.createSandbox(new SandboxSpec(id, base.metadata(), base.hostname(), "", null, List.of(), Map.of(),
                Map.of(), "", Map.of(), PodSecurity.DEFAULT, overhead, resources, base.netnsPath(), base.rootfs(),
                base.image(),
                null, null, null, null));
        backend.startSandbox(id);
        String pod = OciResources.podCgroup("", id);
        assertThat(Cgroups.readLong(Cgroups.dir("memory", pod).resolve("memory.limit_in_bytes")).orElseThrow())
                .isEqualTo(288L << 20);
        assertThat(Cgroups.readLong(Cgroups.dir("cpu", pod).resolve("cpu.cfs_quota_us")).orElseThrow())
                .isEqualTo(200_000);
        ((dev.berth.spi.SandboxResizing) backend).updateSandboxResources(id, overhead,
                new LinuxResources(0, 0, 0, 512L << 20, 0, "", "", Map.of(), Map.of(), 0));
        assertThat(Cgroups.readLong(Cgroups.dir("memory", pod).resolve("memory.limit_in_bytes")).orElseThrow())
                .isEqualTo(544L << 20);
    }

    @Test
    void ttyContainerLogsFromATerminal() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        String id = newId();
        Path log = base.resolve("logs/tty/0.log");
        ContainerSpec c = Host.container(id, sb, rootfs, List.of("sh", "-c", "tty; exit 0"), log, null,
                ContainerSecurity.DEFAULT);
        backend.createContainer(new ContainerSpec(id, sb, c.name(), 0, c.image(), List.of(), List.of(), "", List.of(),
                List.of(), List.of(), Map.of(), Map.of(), log.toString(), false, false, true, null, null, c.rootfs(),
                null));
        backend.startContainer(id);
        assertThat(awaitExit(id).exitCode()).isZero();
        assertThat(Files.readString(log)).contains("/dev/pts/");
    }

    @Test
    void podSysctlsAndRunAsUserApply() throws Exception {
        // Written into the pod's network and IPC namespaces: by berth (no pause container) or by runc (one).
        String hostShm = Files.readString(Path.of("/proc/sys/kernel/shm_rmid_forced")).strip();
        String hostPorts = Files.readString(Path.of("/proc/sys/net/ipv4/ip_unprivileged_port_start")).strip();
        String flipped = hostShm.equals("1") ? "0" : "1";
        String id = pod(PodSecurity.DEFAULT, Map.of("net.ipv4.ip_unprivileged_port_start", "0",
                "kernel.shm_rmid_forced", flipped));
        ContainerSecurity nobody = new ContainerSecurity(List.of(), List.of(), false, null, OptionalLong.of(65534),
                OptionalLong.of(65534), "", false, List.of(), true, List.of(), List.of(), null, null, null, null);
        String ct = run(id, List.of("sleep", "3600"), null, null, nobody);
        ExecResult r = backend.execSync(ct, List.of("sh", "-c",
                "id -u; id -g; cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/kernel/shm_rmid_forced"),
                Duration.ofSeconds(30));
        assertThat(new String(r.stdout(), StandardCharsets.UTF_8)).isEqualTo("65534\n65534\n0\n" + flipped + "\n");
        assertThat(Files.readString(Path.of("/proc/sys/kernel/shm_rmid_forced")).strip()).as("the node's")
                .isEqualTo(hostShm);
        assertThat(Files.readString(Path.of("/proc/sys/net/ipv4/ip_unprivileged_port_start")).strip())
                .as("the node's").isEqualTo(hostPorts);
    }

    /** A sysctl outside the pod's namespaces, or one the kernel refuses, fails the pod with nothing left. */
    @Test
    void aPodWithABadSysctlIsRefusedAndLeavesNothing() throws Exception {
        for (var bad : List.of(Map.of("vm.swappiness", "10"), Map.of("net.ipv4.no_such_setting", "1"),
                Map.of("net.ipv4.ip_unprivileged_port_start", "not a number"))) {
            String id = newId();
            Path netns = Host.netns(base.resolve("netns").resolve(id.substring(0, 12)));
            String key = bad.keySet().iterator().next();
            assertThatThrownBy(() -> backend.createSandbox(Host.sandbox(id, rootfs, PodSecurity.DEFAULT, netns, bad)))
                    .as(key).isInstanceOfSatisfying(BackendException.class, e -> {
                        // berth names the sysctl; runc (with a pause container) names its file
                        assertThat(e.getMessage()).startsWith("failed to create sandbox \"" + id + "\": ")
                                .containsAnyOf(key, key.replace('.', '/')).doesNotContain("\tat ");
                        if (!expectPause() || key.startsWith("vm.")) {
                            assertThat(e.kind()).isEqualTo(BackendException.Kind.INVALID_ARGUMENT);
                        }
                    });
            FaultTest.assertNothingLeft(base.resolve("ctx"), id, OciResources.podCgroup("", id));
        }
    }

    @Test
    void checkpointWorksOrSaysWhyCriuCannot() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        String id = run(sb, List.of("sleep", "3600"), null, null, ContainerSecurity.DEFAULT);
        Path archive = base.resolve("checkpoints/" + id + ".tar.gz");
        ProcessRunner.Result check = ProcessRunner.run(List.of("criu", "check"), null, Duration.ofSeconds(60));
        if (check.ok()) {
            ((dev.berth.spi.Checkpointing) backend).checkpoint(id, archive);
            assertThat(Files.size(archive)).isPositive();
            assertThat(backend.containerStatus(id).state()).isEqualTo(ContainerStatus.State.RUNNING);
        } else {
            // e.g. criu 3.17 on kernel 6.18: "vdso: Unexpected rt vDSO area bounds"
            assertThatThrownBy(() -> ((dev.berth.spi.Checkpointing) backend).checkpoint(id, archive))
                    .isInstanceOfSatisfying(BackendException.class, e -> {
                        assertThat(e.kind()).isEqualTo(BackendException.Kind.UNIMPLEMENTED);
                        assertThat(e.getMessage()).contains("CRIU does not work on this host");
                    });
            assertThat(archive).doesNotExist();
        }
    }

    @Test
    void aCreatedContainerThatNeverStartedCanBeStoppedAndRemoved() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        String id = newId();
        backend.createContainer(Host.container(id, sb, rootfs, List.of("sleep", "3600"), null, null,
                ContainerSecurity.DEFAULT));
        assertThat(backend.containerStatus(id).state()).isEqualTo(ContainerStatus.State.CREATED);
        backend.stopContainer(id, Duration.ofSeconds(30));
        assertThat(backend.containerStatus(id).state()).isEqualTo(ContainerStatus.State.EXITED);
        assertThatThrownBy(() -> backend.startContainer(id)).isInstanceOfSatisfying(BackendException.class,
                e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.FAILED_PRECONDITION));
        backend.removeContainer(id);
    }

    /**
     * Creates container {@code id} in pod {@code sb} running {@code command} on an overlay over the test's root file
     * system, its upper and work directories new under {@code <base>/<name>-<id>}; returns that directory.
     */
    private Path createOnOverlay(String sb, String id, String name, List<String> command, String... extraOptions)
            throws Exception {
        Path layer = Files.createDirectories(base.resolve(name + "-" + id.substring(0, 8)));
        Path upper = Files.createDirectories(layer.resolve("upper"));
        Path work = Files.createDirectories(layer.resolve("work"));
        List<String> options = new java.util.ArrayList<>(List.of("lowerdir=" + rootfs, "upperdir=" + upper,
                "workdir=" + work));
        options.addAll(List.of(extraOptions));
        var overlay = new dev.berth.spi.MountSpec("overlay", "overlay", "", options);
        ContainerSpec c = Host.container(id, sb, rootfs, command, null, null, ContainerSecurity.DEFAULT);
        backend.createContainer(new ContainerSpec(id, sb, c.name(), 0, c.image(), List.of(), List.of(), "", List.of(),
                List.of(), List.of(), Map.of(), Map.of(), "", false, false, false, null, null, List.of(overlay), null));
        return layer;
    }

    @Test
    void overlayRootfsTakesTheContainersWrites() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        String id = newId();
        Path upper = createOnOverlay(sb, id, "overlay", List.of("sh", "-c", "echo written > /rw/file"))
                .resolve("upper");
        backend.startContainer(id);
        assertThat(awaitExit(id).exitCode()).isZero();
        assertThat(Files.readString(upper.resolve("rw/file"))).isEqualTo("written\n");
        assertThat(rootfs.resolve("rw/file")).doesNotExist();
        backend.removeContainer(id);
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(id);
    }

    @Test
    void aVolatileOverlayRootfsIsMountedVolatileAndGoneAfterRemove() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        String id = newId();
        Path layer = createOnOverlay(sb, id, "volatile", List.of("sh", "-c", "echo kept > /rw/v && sync"), "volatile");
        Path upper = layer.resolve("upper");
        Path work = layer.resolve("work");
        String mount = Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .filter(l -> l.contains(id) && l.contains(" - overlay ")).findFirst().orElseThrow();
        // Linux 5.10 to 6.x shows "volatile"; kernels with overlay's fsync= option show it as "fsync=volatile".
        assertThat(mount).as("the container's root in mountinfo").containsPattern(",(fsync=)?volatile(,|$)");
        assertThat(work.resolve("work/incompat/volatile")).as("overlay marks a volatile upper").isDirectory();
        backend.startContainer(id);
        assertThat(awaitExit(id).exitCode()).isZero();
        assertThat(Files.readString(upper.resolve("rw/v"))).isEqualTo("kept\n");
        backend.removeContainer(id);
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(id);
    }

    @Test
    void containersOfAPodShareDevShm() throws Exception {
        String sb = pod(PodSecurity.DEFAULT);
        String writer = run(sb, List.of("sh", "-c", "echo shared > /dev/shm/x; sleep 3600"), null, null,
                ContainerSecurity.DEFAULT);
        String reader = run(sb, List.of("sleep", "3600"), null, null, ContainerSecurity.DEFAULT);
        await(() -> backend.execSync(writer, List.of("test", "-s", "/dev/shm/x"), Duration.ofSeconds(30))
                .exitCode() == 0, "the writer's file");
        ExecResult r = backend.execSync(reader, List.of("cat", "/dev/shm/x"), Duration.ofSeconds(30));
        assertThat(new String(r.stdout(), StandardCharsets.UTF_8)).isEqualTo("shared\n");
        String other = pod(PodSecurity.DEFAULT);
        String stranger = run(other, List.of("sleep", "3600"), null, null, ContainerSecurity.DEFAULT);
        assertThat(backend.execSync(stranger, List.of("test", "-e", "/dev/shm/x"), Duration.ofSeconds(30))
                .exitCode()).as("another pod's /dev/shm").isNotZero();
    }
}
