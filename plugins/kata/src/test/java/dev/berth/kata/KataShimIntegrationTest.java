package dev.berth.kata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.oci.FileTrees;
import dev.berth.oci.ProcessRunner;
import dev.berth.oci.Processes;
import dev.berth.spi.BackendEvent;
import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.ExecResult;
import dev.berth.spi.ImageConfig;
import dev.berth.spi.LinuxResources;
import dev.berth.spi.PodMetricsSource;
import dev.berth.spi.Recoverable;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxStatus;
import dev.berth.spi.StatsProvider;
import dev.berth.spi.testing.HostRequirements;
import dev.berth.spi.testing.TestingBackendContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Whole-backend scenarios against the real containerd-shim-runc-v2 (handler shimv2-runc): logs, exit codes,
 * events, exec, stats, update, two containers on one shim, recovery by a new backend instance, and a shim
 * killed under a running pod.
 */
class KataShimIntegrationTest {
    private static final Duration LONG = Duration.ofSeconds(30);
    private Path dir;
    private Path busybox;
    private TestingBackendContext context;
    private KataBackend backend;
    private final List<String> sandboxes = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        HostRequirements.require(ShimHost.usable(), "needs root, busybox, runc and containerd-shim-runc-v2");
        dir = Files.createTempDirectory("berth-kata-it");
        busybox = ShimHost.busyboxRootfs(dir);
        context = new TestingBackendContext("shimv2-runc", dir);
        backend = newBackend();
    }

    private KataBackend newBackend() {
        return (KataBackend) new KataBackendFactory().create("shimv2-runc",
                Map.of("shim", ShimHost.RUNC_SHIM, "stop_timeout", "20s"), context);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (backend == null) {
            return;
        }
        try {
            for (String id : sandboxes) {
                backend.removeSandbox(id);
            }
        } finally {
            backend.close();
            List<Long> left = ShimHost.processesWith(context.stateDir().toString());
            List<String> mounts = FileTrees.mountsUnder(dir);
            ShimHost.sweep(context.stateDir(), dir);
            FileTrees.deleteTree(dir);
            assertThat(left).as("shim processes left behind").isEmpty();
            assertThat(mounts).as("mounts left behind").isEmpty();
        }
    }

    private static String newId() {
        byte[] b = new byte[32];
        ThreadLocalRandom.current().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private String runPod() {
        String id = newId();
        sandboxes.add(id);
        SandboxStatus created = backend.createSandbox(ShimHost.sandbox(id, busybox));
        assertThat(created.state()).isEqualTo(SandboxStatus.State.NOTREADY);
        backend.startSandbox(id);
        assertThat(backend.sandboxStatus(id).state()).isEqualTo(SandboxStatus.State.READY);
        return id;
    }

    private ContainerSpec container(String id, String sandboxId, String name, List<String> cmd, String logPath) {
        ImageConfig image = new ImageConfig("sha256:busybox", "busybox", List.of(), cmd, List.of("FROM_IMAGE=1"),
                "", "", 0, 0, List.of(), "", Map.of());
        return new ContainerSpec(id, sandboxId, name, 0, image, List.of(), List.of(), "", List.of("FROM_REQUEST=2"),
                List.of(), List.of(), Map.of(), Map.of(), logPath, false, false, false, null, null,
                ShimHost.rootfsOf(busybox), null);
    }

    private String runContainer(String sandboxId, String name, List<String> cmd, String logPath) {
        String id = newId();
        assertThat(backend.createContainer(container(id, sandboxId, name, cmd, logPath)).state())
                .isEqualTo(ContainerStatus.State.CREATED);
        backend.startContainer(id);
        return id;
    }

    private ContainerStatus awaitExit(RuntimeBackend b, String id) {
        assertThat(ShimHost.poll(() -> b.containerStatus(id).state() == ContainerStatus.State.EXITED, LONG))
                .as("container exits").isTrue();
        return b.containerStatus(id);
    }

    private static String shimPid(RuntimeBackend b, String sandboxId) {
        return b.sandboxStatus(sandboxId).info().get("shim_pid");
    }

    /** A create that fails removes the log it made, and keeps one that was there before (an earlier attempt's). */
    @Test
    void aFailedCreateLeavesNoLogItMade() throws Exception {
        String sb = runPod();
        Path made = dir.resolve("logs/failed.log");
        assertThatThrownBy(() -> backend.createContainer(container(newId(), sb, "failed",
                List.of("/no/such/program"), made.toString()))).isInstanceOf(BackendException.class)
                .hasMessageContaining("/no/such/program");
        assertThat(made).as("the log the failed create made").doesNotExist();
        Path kept = Files.writeString(Files.createDirectories(dir.resolve("logs")).resolve("kept.log"),
                "an earlier attempt's line\n");
        assertThatThrownBy(() -> backend.createContainer(container(newId(), sb, "failed",
                List.of("/no/such/program"), kept.toString()))).isInstanceOf(BackendException.class);
        assertThat(kept).as("a log that was there before the create").hasContent("an earlier attempt's line");
    }

    /**
     * What the runtime behind the shim refuses of the request is the request's problem, as under the runc type: a
     * missing program and a directory as the command are FAILED_PRECONDITION at create, and at exec.
     */
    @Test
    void theRuntimesRefusalsOfTheRequestAreFailedPrecondition() throws Exception {
        String sb = runPod();
        for (String program : List.of("/no/such/program", "/")) {
            assertThatThrownBy(() -> backend.createContainer(container(newId(), sb, "refused", List.of(program), "")))
                    .isInstanceOfSatisfying(BackendException.class, e -> {
                        assertThat(e.kind()).as(e.getMessage()).isEqualTo(BackendException.Kind.FAILED_PRECONDITION);
                        assertThat(e.getMessage()).contains(program);
                    });
        }
        String id = runContainer(sb, "app", List.of("sleep", "600"), "");
        assertThatThrownBy(() -> backend.execSync(id, List.of("/"), java.time.Duration.ofSeconds(30)))
                .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.kind()).as(e.getMessage())
                        .isEqualTo(BackendException.Kind.FAILED_PRECONDITION));
    }

    /** SpecReading: the bundles' config.json, as the shim was given them. */
    @Test
    void theRuntimeSpecsAreTheBundlesAsTheShimHadThem() throws Exception {
        String sb = runPod();
        String id = runContainer(sb, "app", List.of("sleep", "600"), "");
        var specs = (dev.berth.spi.SpecReading) backend;
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var container = json.readTree(specs.containerRuntimeSpec(id).orElseThrow());
        assertThat(container.path("process").path("args").toString()).isEqualTo("[\"sleep\",\"600\"]");
        assertThat(container).isEqualTo(json.readTree(
                context.stateDir().resolve("bundles").resolve(id).resolve("config.json").toFile()));
        var sandbox = json.readTree(specs.sandboxRuntimeSpec(sb).orElseThrow());
        assertThat(sandbox).isEqualTo(json.readTree(
                context.stateDir().resolve("bundles").resolve(sb).resolve("config.json").toFile()));
        assertThatThrownBy(() -> specs.containerRuntimeSpec(newId())).isInstanceOfSatisfying(
                BackendException.class, e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.NOT_FOUND));
        assertThatThrownBy(() -> specs.sandboxRuntimeSpec(newId())).isInstanceOfSatisfying(
                BackendException.class, e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.NOT_FOUND));
    }

    @Test
    void logsExitCodesAndExitEvents() throws Exception {
        String sb = runPod();
        Path logFile = dir.resolve("logs/app.log");
        String id = runContainer(sb, "app", List.of("sh", "-c",
                "echo out-line; echo err-line >&2; printf 'no newline'; echo $FROM_IMAGE$FROM_REQUEST; exit 3"),
                logFile.toString());
        ContainerStatus st = awaitExit(backend, id);
        assertThat(st.exitCode()).isEqualTo(3);
        assertThat(st.reason()).isEqualTo("Error");
        assertThat(st.finishedAt()).isNotNull().isAfterOrEqualTo(st.startedAt());
        assertThat(ShimHost.poll(() -> context.published().stream()
                .anyMatch(e -> e.type() == BackendEvent.Type.STOPPED && e.containerId().equals(id)), LONG))
                .as("exit event from the shim through the events server").isTrue();
        assertThat(ShimHost.poll(() -> lines(logFile).size() >= 3, LONG)).isTrue();
        List<String> lines = lines(logFile);
        String ts = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z";
        assertThat(lines).anyMatch(l -> l.matches(ts + " stdout F out-line"));
        assertThat(lines).anyMatch(l -> l.matches(ts + " stderr F err-line"));
        assertThat(lines).anyMatch(l -> l.matches(ts + " stdout F no newline12"));

        String ok = runContainer(sb, "ok", List.of("true"), "");
        ContainerStatus okStatus = awaitExit(backend, ok);
        assertThat(okStatus.exitCode()).isZero();
        assertThat(okStatus.reason()).isEqualTo("Completed");
        backend.removeContainer(id);
        backend.removeContainer(ok);
        assertThat(Files.exists(context.stateDir().resolve("bundles").resolve(id))).isFalse();
    }

    @Test
    @org.junit.jupiter.api.Timeout(120) // a lost EOF would otherwise hang the attach, and the build
    void attachFeedsStdinAndStdinOnceEndsItWithoutALogPath() throws Exception {
        String sb = runPod();
        String id = newId();
        ContainerSpec plain = container(id, sb, "reader", List.of("sh", "-c", "read l; echo got:$l; read m || echo eof"),
                "");
        ContainerSpec reader = new ContainerSpec(plain.id(), plain.sandboxId(), plain.name(), 0, plain.image(),
                List.of(), List.of(), "", List.of(), List.of(), List.of(), Map.of(), Map.of(), "", true, true, false,
                null, null, plain.rootfs(), null);
        backend.createContainer(reader);
        backend.startContainer(id);
        var out = new java.io.ByteArrayOutputStream();
        ((dev.berth.spi.StreamingIo) backend).attach(id, new dev.berth.spi.StreamingIo.Streams(
                new java.io.ByteArrayInputStream("ping\n".getBytes(StandardCharsets.UTF_8)), out,
                new java.io.ByteArrayOutputStream(), false, new java.util.concurrent.LinkedBlockingQueue<>()));
        assertThat(out.toString(StandardCharsets.UTF_8)).as("stdin reached the process, and stdin_once closed it")
                .contains("got:ping").contains("eof");
        assertThat(awaitExit(backend, id).exitCode()).isZero();
    }

    @Test
    void reopenLogAfterRotationWritesToTheNewFile() throws Exception {
        String sb = runPod();
        Path logFile = dir.resolve("logs/rotating.log");
        String id = runContainer(sb, "rotating", List.of("sh", "-c",
                "i=0; while true; do i=$((i+1)); echo line-$i; sleep 0.05; done"), logFile.toString());
        assertThat(ShimHost.poll(() -> lines(logFile).size() >= 2, LONG)).isTrue();
        Path rotated = dir.resolve("logs/rotating.log.1");
        Files.move(logFile, rotated);
        ((dev.berth.spi.LogReopening) backend).reopenLog(id);
        assertThat(ShimHost.poll(() -> Files.exists(logFile) && lines(logFile).size() >= 2, LONG))
                .as("lines go to the new file").isTrue();
        List<String> old = lines(rotated);
        List<String> fresh = lines(logFile);
        int lastOld = Integer.parseInt(old.getLast().replaceAll(".* F line-", ""));
        int firstNew = Integer.parseInt(fresh.getFirst().replaceAll(".* F line-", ""));
        assertThat(firstNew).as("no line lost or doubled across the rotation").isEqualTo(lastOld + 1);

        backend.stopContainer(id, java.time.Duration.ofSeconds(5));
        assertThatThrownBy(() -> ((dev.berth.spi.LogReopening) backend).reopenLog(id))
                .isInstanceOfSatisfying(BackendException.class,
                        e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.FAILED_PRECONDITION));
    }

    @Test
    void interactiveExecWithStdinTtyAndResize() throws Exception {
        String sb = runPod();
        String id = runContainer(sb, "shell", List.of("sleep", "3600"), "");
        var out = new java.io.ByteArrayOutputStream();
        var err = new java.io.ByteArrayOutputStream();
        int code = backend.exec(id, List.of("sh", "-c", "cat; echo done >&2; exit 6"),
                new dev.berth.spi.StreamingIo.Streams(new java.io.ByteArrayInputStream("typed input\n".getBytes()),
                        out, err, false, new java.util.concurrent.LinkedBlockingQueue<>()));
        assertThat(code).isEqualTo(6);
        assertThat(out.toString()).as("stdin reached cat, and CloseIO ended it").isEqualTo("typed input\n");
        assertThat(err.toString()).isEqualTo("done\n");

        var resize = new java.util.concurrent.LinkedBlockingQueue<dev.berth.spi.StreamingIo.TerminalSize>();
        resize.add(new dev.berth.spi.StreamingIo.TerminalSize(100, 40));
        var ttyOut = new java.io.ByteArrayOutputStream();
        int ttyCode = backend.exec(id, List.of("sh", "-c",
                "for i in $(seq 100); do [ \"$(stty size)\" = \"40 100\" ] && echo RESIZED && exit 0; sleep 0.1; done; stty size; exit 1"),
                new dev.berth.spi.StreamingIo.Streams(null, ttyOut, null, true, resize));
        assertThat(ttyOut.toString()).contains("RESIZED\r\n");
        assertThat(ttyCode).isZero();

        // A size queued before the exec starts is the console's size from the first instruction on.
        var first = new java.util.concurrent.LinkedBlockingQueue<dev.berth.spi.StreamingIo.TerminalSize>();
        first.add(new dev.berth.spi.StreamingIo.TerminalSize(77, 33));
        var sizeOut = new java.io.ByteArrayOutputStream();
        assertThat(backend.exec(id, List.of("stty", "size"),
                new dev.berth.spi.StreamingIo.Streams(null, sizeOut, null, true, first))).isZero();
        assertThat(sizeOut.toString()).isEqualTo("33 77\r\n");
    }

    @Test
    void attachStreamsOutputUntilTheContainerExits() throws Exception {
        String sb = runPod();
        String id = runContainer(sb, "talker", List.of("sh", "-c",
                "while [ ! -e /tmp/stop-" + "talker ]; do echo tick; echo tock >&2; sleep 0.1; done; exit 0"),
                dir.resolve("logs/talker.log").toString());
        var out = new java.io.ByteArrayOutputStream();
        var err = new java.io.ByteArrayOutputStream();
        var session = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
        try (session) {
            var done = session.submit(() -> backend.attach(id, new dev.berth.spi.StreamingIo.Streams(null,
                    syncOut(out), syncOut(err), false,
                    new java.util.concurrent.LinkedBlockingQueue<>())));
            assertThat(ShimHost.poll(() -> text(out).contains("tick") && text(err).contains("tock"), LONG)).isTrue();
            // the container's rootfs is shared by the test's containers; a unique name keeps this one's stop file apart
            assertThat(backend.execSync(id, List.of("touch", "/tmp/stop-talker"), LONG).exitCode()).isZero();
            done.get(60, java.util.concurrent.TimeUnit.SECONDS);
        }
        assertThat(backend.containerStatus(id).state()).isEqualTo(ContainerStatus.State.EXITED);
        Files.deleteIfExists(busybox.resolve("tmp/stop-talker"));
    }

    private static java.io.OutputStream syncOut(java.io.ByteArrayOutputStream b) {
        return new java.io.OutputStream() {
            @Override
            public void write(int x) {
                synchronized (b) {
                    b.write(x);
                }
            }

            @Override
            public void write(byte[] buf, int off, int len) {
                synchronized (b) {
                    b.write(buf, off, len);
                }
            }
        };
    }

    private static String text(java.io.ByteArrayOutputStream b) {
        synchronized (b) {
            return b.toString();
        }
    }

    @Test
    void anOomKilledContainerSaysSo() {
        String sb = runPod();
        String id = newId();
        ContainerSpec plain = container(id, sb, "hog", List.of("sh", "-c", "x=0123456789; while true; do x=$x$x; done"), "");
        LinuxResources small = new LinuxResources(0, 0, 0, 32L << 20, 0, "", "", Map.of(), Map.of(), 32L << 20);
        ContainerSpec hog = new ContainerSpec(plain.id(), plain.sandboxId(), plain.name(), 0, plain.image(),
                List.of(), List.of(), "", List.of(), List.of(), List.of(), Map.of(), Map.of(), "", false, false, false,
                small, null, plain.rootfs(), null);
        backend.createContainer(hog);
        backend.startContainer(id);
        ContainerStatus st = awaitExit(backend, id);
        assertThat(st.exitCode()).isEqualTo(137);
        assertThat(ShimHost.poll(() -> context.published().stream().anyMatch(e ->
                e.type() == BackendEvent.Type.STOPPED && e.containerId().equals(id)), LONG)).as("STOPPED").isTrue();
        // Core reads the status once on STOPPED and keeps it: the OOM must be known by then, whatever the order
        // of the shim's /tasks/oom and /tasks/exit.
        assertThat(backend.containerStatus(id).reason()).isEqualTo("OOMKilled");
        backend.removeContainer(id);
    }

    @Test
    void ttyContainerLogsThroughItsTerminal() {
        String sb = runPod();
        Path logFile = dir.resolve("logs/tty.log");
        String id = newId();
        ContainerSpec plain = container(id, sb, "tty", List.of("sh", "-c", "echo on-tty; echo also >&2; exit 4"),
                logFile.toString());
        ContainerSpec tty = new ContainerSpec(plain.id(), plain.sandboxId(), plain.name(), 0, plain.image(),
                List.of(), List.of(), "", List.of(), List.of(), List.of(), Map.of(), Map.of(), plain.logPath(),
                false, false, true, null, null, plain.rootfs(), null);
        backend.createContainer(tty);
        backend.startContainer(id);
        assertThat(awaitExit(backend, id).exitCode()).isEqualTo(4);
        assertThat(ShimHost.poll(() -> lines(logFile).size() >= 2, LONG)).isTrue();
        // A terminal merges stderr into stdout and ends lines with CR LF.
        assertThat(lines(logFile)).allMatch(l -> l.contains(" stdout F "));
        assertThat(raw(logFile)).contains(" stdout F on-tty\r\n").contains(" stdout F also\r\n");
        backend.removeContainer(id);
    }

    private static String raw(Path f) {
        try {
            return Files.readString(f);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String readTrimmed(Path f) {
        try {
            return Files.readString(f).strip();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static List<String> lines(Path f) {
        try {
            return Files.exists(f) ? Files.readAllLines(f, StandardCharsets.UTF_8) : List.of();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void execSyncStatsUpdateAndExecTimeout() throws Exception {
        String sb = runPod();
        String id = runContainer(sb, "worker", List.of("sleep", "3600"), "");
        ExecResult r = backend.execSync(id, List.of("sh", "-c", "echo to-out; echo to-err >&2; exit 7"), LONG);
        assertThat(new String(r.stdout(), StandardCharsets.UTF_8)).isEqualTo("to-out\n");
        assertThat(new String(r.stderr(), StandardCharsets.UTF_8)).isEqualTo("to-err\n");
        assertThat(r.exitCode()).isEqualTo(7);
        assertThat(new String(backend.execSync(id, List.of("sh", "-c", "echo $FROM_REQUEST"), LONG).stdout(),
                StandardCharsets.UTF_8)).isEqualTo("2\n");

        assertThatThrownBy(() -> backend.execSync(id, List.of("sleep", "60"), Duration.ofSeconds(1)))
                .isInstanceOfSatisfying(BackendException.class,
                        e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.DEADLINE_EXCEEDED));
        assertThat(backend.containerStatus(id).state()).isEqualTo(ContainerStatus.State.RUNNING);
        assertThat(new String(backend.execSync(id, List.of("ps"), LONG).stdout(), StandardCharsets.UTF_8))
                .as("the timed-out exec was killed").doesNotContain("sleep 60");

        StatsProvider.Usage u = backend.containerStats(id).usage();
        assertThat(u.cpuUsageCoreNanoSeconds()).isPositive();
        assertThat(u.memoryUsageBytes()).isPositive();
        assertThat(u.memoryWorkingSetBytes()).isBetween(0L, u.memoryUsageBytes());
        assertThat(u.processCount()).isGreaterThanOrEqualTo(1);
        // The pod's figure sums its containers', read a moment later; the container's memory moves meanwhile (the
        // execs above just ended), so compare with the lower of the container's readings before and after.
        StatsProvider.SandboxUsage pod = backend.sandboxStats(sb);
        long after = backend.containerStats(id).usage().memoryUsageBytes();
        assertThat(pod.usage().memoryUsageBytes()).isGreaterThanOrEqualTo(Math.min(u.memoryUsageBytes(), after));

        backend.updateContainer(id, new LinuxResources(100000, 50000, 512, 64L << 20, 0, "", "", Map.of(), Map.of(), 0));
        Path memLimit = Path.of("/sys/fs/cgroup/memory/berth-kata-" + id + "/memory.limit_in_bytes");
        if (Files.exists(Path.of("/sys/fs/cgroup/memory/memory.limit_in_bytes"))) { // a cgroup v1 memory hierarchy
            assertThat(readTrimmed(memLimit)).isEqualTo(Long.toString(64L << 20));
            assertThat(readTrimmed(Path.of("/sys/fs/cgroup/cpu/berth-kata-" + id + "/cpu.cfs_quota_us"))).isEqualTo("50000");
        }
        assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(((dev.berth.spi.SpecReading) backend).containerRuntimeSpec(id)
                .orElseThrow()).path("linux").path("resources").path("memory").path("limit").asLong())
                .as("the spec a verbose status shows, after the update").isEqualTo(64L << 20);
        assertThat(backend.execSync(id, List.of("true"), LONG).exitCode()).isZero();
        assertThatThrownBy(() -> backend.execSync(id, List.of("/no/such/binary"), LONG))
                .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.getMessage())
                        .startsWith("failed to exec in container \"" + id + "\": ").contains("/no/such/binary"));
        assertThat(backend.execSync(id, List.of("echo", "still works"), LONG).exitCode()).isZero();
    }

    /** The cgroup files the shim reads for a container: v1 controllers where mounted, else the v2 directory. */
    private static final class CgroupFiles {
        final String id;
        final boolean v1 = Files.isDirectory(Path.of("/sys/fs/cgroup/cpuacct"));

        CgroupFiles(String id) {
            this.id = id;
        }

        Path file(String controller, String name) {
            return v1 ? Path.of("/sys/fs/cgroup", controller, "berth-kata-" + id, name)
                    : Path.of("/sys/fs/cgroup", "berth-kata-" + id, name);
        }

        long key(String controller, String name, String key) {
            try {
                return Files.readAllLines(file(controller, name)).stream().map(l -> l.split(" "))
                        .filter(f -> f.length == 2 && f[0].equals(key)).mapToLong(f -> Long.parseLong(f[1]))
                        .findFirst().orElseThrow(() -> new AssertionError("no " + key + " in " + name));
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        /** total, user and system CPU in ns; memory usage, rss, cache, inactive file; tasks. */
        long[] read() {
            if (v1) {
                return new long[] {Long.parseLong(readTrimmed(file("cpuacct", "cpuacct.usage"))),
                        key("cpuacct", "cpuacct.stat", "user") * 10_000_000L,
                        key("cpuacct", "cpuacct.stat", "system") * 10_000_000L,
                        Long.parseLong(readTrimmed(file("memory", "memory.usage_in_bytes"))),
                        key("memory", "memory.stat", "total_rss"), key("memory", "memory.stat", "total_cache"),
                        key("memory", "memory.stat", "total_inactive_file"),
                        Long.parseLong(readTrimmed(file("pids", "pids.current")))};
            }
            return new long[] {key("", "cpu.stat", "usage_usec") * 1000, key("", "cpu.stat", "user_usec") * 1000,
                    key("", "cpu.stat", "system_usec") * 1000, Long.parseLong(readTrimmed(file("", "memory.current"))),
                    key("", "memory.stat", "anon"), key("", "memory.stat", "file"),
                    key("", "memory.stat", "inactive_file"), Long.parseLong(readTrimmed(file("", "pids.current")))};
        }
    }

    /** {@code actual} lies within 5% of the file readings taken just before and just after it. */
    private static void within5(String what, long before, long actual, long after) {
        assertThat(actual).as(what + " (cgroup files read " + before + " before and " + after + " after)")
                .isBetween((long) (Math.min(before, after) * 0.95), (long) Math.ceil(Math.max(before, after) * 1.05));
    }

    private static PodMetricsSource.InterfaceMetrics iface(PodMetricsSource.PodMetrics m, String name) {
        return m.interfaces().stream().filter(i -> i.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no interface " + name + " in " + m.interfaces()));
    }

    private void sh(String netns, String script) throws Exception {
        ProcessRunner.Result r = ProcessRunner.run(List.of("nsenter", "--net=" + netns, "sh", "-c", script), null,
                LONG, Map.of(), dir);
        assertThat(r.exitCode()).as(script + ": " + r.errorText()).isZero();
    }

    @Test
    void podMetricsComeFromTheShimAndAgreeWithTheCgroupFilesAndCountTrafficBetweenTwoPods() throws Exception {
        String a = runPod();
        String b = runPod();
        // Sleeps a moment, then holds 32 MiB in a shell variable and burns CPU until killed.
        String id = runContainer(a, "burner", List.of("sh", "-c",
                "sleep 1; a=$(yes | head -c 33554432); while :; do :; done"), "");
        var first = backend.podMetrics(a).containers();
        assertThat(first).extracting(PodMetricsSource.ContainerMetrics::containerId).containsExactly(id);
        assertThat(ShimHost.poll(() -> {
            var m = backend.podMetrics(a).containers().getFirst();
            return m.usage().cpuUsageCoreNanoSeconds() > 2_000_000_000L && m.usage().memoryRssBytes() > 30L << 20;
        }, Duration.ofSeconds(60))).as("the container burns 2 s of CPU and holds 30 MiB").isTrue();

        CgroupFiles files = new CgroupFiles(id);
        long[] f0 = files.read();
        var m = backend.podMetrics(a).containers().getFirst();
        long[] f1 = files.read();
        assertThat(m.usage().cpuUsageCoreNanoSeconds()).as("CPU rises")
                .isGreaterThan(first.getFirst().usage().cpuUsageCoreNanoSeconds());
        assertThat(m.usage().memoryRssBytes()).as("memory rises")
                .isGreaterThan(first.getFirst().usage().memoryRssBytes());
        within5("cpu", f0[0], m.usage().cpuUsageCoreNanoSeconds(), f1[0]);
        within5("user cpu", f0[1], m.cpuUserNanoSeconds(), f1[1]);
        within5("system cpu", f0[2], m.cpuSystemNanoSeconds(), f1[2]);
        within5("memory usage", f0[3], m.usage().memoryUsageBytes(), f1[3]);
        within5("rss", f0[4], m.usage().memoryRssBytes(), f1[4]);
        assertThat(m.memoryCacheBytes()).as("cache").isBetween(Math.min(f0[5], f1[5]) - (1L << 20),
                Math.max(f0[5], f1[5]) + (1L << 20));
        within5("working set", f0[3] - f0[6], m.usage().memoryWorkingSetBytes(), f1[3] - f1[6]);
        assertThat(m.threadCount()).as("tasks").isBetween(Math.min(f0[7], f1[7]), Math.max(f0[7], f1[7]));
        assertThat(m.usage().processCount()).as("the shim counts tasks only").isEqualTo(-1);

        // The runc shim sends no interfaces: they come from the pods' namespaces, joined here by a veth pair.
        String nsA = "/proc/" + backend.sandboxStatus(a).pid() + "/ns/net";
        String nsB = "/proc/" + backend.sandboxStatus(b).pid() + "/ns/net";
        sh(nsA, "ip link add kA type veth peer name kB netns " + nsB
                + " && ip addr add 10.254.78.1/30 dev kA && ip link set kA up");
        sh(nsB, "ip addr add 10.254.78.2/30 dev kB && ip link set kB up");
        var beforeA = iface(backend.podMetrics(a), "kA");
        var beforeB = iface(backend.podMetrics(b), "kB");
        sh(nsA, "/bin/busybox ping -c 5 -i 0.2 -s 1000 10.254.78.2");
        var afterA = iface(backend.podMetrics(a), "kA");
        var afterB = iface(backend.podMetrics(b), "kB");
        assertThat(afterA.txPackets() - beforeA.txPackets()).as("echo requests sent").isGreaterThanOrEqualTo(5);
        assertThat(afterA.rxPackets() - beforeA.rxPackets()).as("echo replies received").isGreaterThanOrEqualTo(5);
        assertThat(afterA.txBytes() - beforeA.txBytes()).isGreaterThanOrEqualTo(5 * 1000);
        assertThat(afterB.rxBytes() - beforeB.rxBytes()).isGreaterThanOrEqualTo(5 * 1000);

        backend.stopContainer(id, Duration.ofSeconds(1));
        assertThat(backend.podMetrics(a).containers()).as("an exited container is left out").isEmpty();
        assertThatThrownBy(() -> backend.podMetrics(newId())).isInstanceOfSatisfying(BackendException.class,
                e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.NOT_FOUND));
    }

    @Test
    void twoContainersShareOnePodShim() throws Exception {
        String sb = runPod();
        String shim = shimPid(backend, sb);
        Path socket = dev.berth.kata.shim.ShimLauncher.socketFromBundle(context.stateDir().resolve("bundles").resolve(sb));
        String a = runContainer(sb, "a", List.of("sleep", "3600"), "");
        String b = runContainer(sb, "b", List.of("sleep", "3600"), "");
        assertThat(ShimHost.processesWith(context.stateDir().toString())).as("one shim for the pod").hasSize(1)
                .containsExactly(Long.parseLong(shim));
        Map<String, String> hostnames = Map.of(
                a, new String(backend.execSync(a, List.of("hostname"), LONG).stdout(), StandardCharsets.UTF_8),
                b, new String(backend.execSync(b, List.of("hostname"), LONG).stdout(), StandardCharsets.UTF_8));
        assertThat(hostnames.get(a)).isEqualTo("kata-test\n").isEqualTo(hostnames.get(b));
        backend.stopSandbox(sb, Duration.ofSeconds(1));
        assertThat(backend.containerStatus(a).state()).isEqualTo(ContainerStatus.State.EXITED);
        assertThat(backend.containerStatus(b).state()).isEqualTo(ContainerStatus.State.EXITED);
        assertThat(backend.sandboxStatus(sb).state()).isEqualTo(SandboxStatus.State.NOTREADY);
        backend.removeContainer(a);
        backend.removeContainer(b);
        backend.removeSandbox(sb);
        sandboxes.remove(sb);
        assertThat(ShimHost.processesWith(context.stateDir().toString())).as("shim shut down").isEmpty();
        assertThat(socket).as("the shim removed its socket").doesNotExist();
    }

    @Test
    void aNewBackendInstanceRecoversThenStopsAndRemoves() throws Exception {
        String sb = runPod();
        Path logFile = dir.resolve("logs/ticker.log");
        String id = runContainer(sb, "ticker", List.of("sh", "-c", "while true; do echo tick; sleep 0.2; done"),
                logFile.toString());
        String shim = shimPid(backend, sb);
        assertThat(ShimHost.poll(() -> !lines(logFile).isEmpty(), LONG)).isTrue();

        backend.close(); // as if berth went away: the pod keeps running
        assertThat(Processes.live(Long.parseLong(shim))).isTrue();
        backend = newBackend();
        Recoverable.Report report = backend.recover(List.of(sb), List.of(id, "f".repeat(64)));
        assertThat(report.lost()).containsExactly("f".repeat(64));
        assertThat(backend.sandboxStatus(sb).state()).isEqualTo(SandboxStatus.State.READY);
        assertThat(shimPid(backend, sb)).isEqualTo(shim);
        assertThat(backend.containerStatus(id).state()).isEqualTo(ContainerStatus.State.RUNNING);
        int before = lines(logFile).size();
        assertThat(ShimHost.poll(() -> lines(logFile).size() > before + 2, LONG)).as("log copying resumed").isTrue();
        assertThat(backend.execSync(id, List.of("echo", "back"), LONG).exitCode()).isZero();

        backend.stopContainer(id, Duration.ofSeconds(1));
        assertThat(backend.containerStatus(id).state()).isEqualTo(ContainerStatus.State.EXITED);
        backend.removeContainer(id);
        backend.removeSandbox(sb);
        sandboxes.remove(sb);
        assertThat(ShimHost.processesWith(context.stateDir().toString())).isEmpty();
    }

    @Test
    void killMinusNineOfBerthThenRecoveryThenStopAndRemove() throws Exception {
        backend.close(); // the crashing "berth" below owns the events socket until it dies
        String sb = newId();
        String id = newId();
        Path logFile = dir.resolve("logs/crash.log");
        Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
        Process berth = new ProcessBuilder(javaBin.toString(), "--sun-misc-unsafe-memory-access=allow", "-cp",
                System.getProperty("java.class.path"), CrashingBerth.class.getName(), dir.toString(),
                busybox.toString(), sb, id, logFile.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("crashing-berth.out").toFile()).start();
        try {
            assertThat(ShimHost.poll(() -> {
                try {
                    return Files.readString(dir.resolve("crashing-berth.out")).contains("READY") || !berth.isAlive();
                } catch (java.io.IOException e) {
                    return false;
                }
            }, Duration.ofSeconds(90))).isTrue();
            assertThat(Files.readString(dir.resolve("crashing-berth.out"))).contains("READY");
            // The crashing berth must have copied some output before it dies, or "copying resumed" proves nothing.
            assertThat(ShimHost.poll(() -> !lines(logFile).isEmpty(), LONG)).as("the first berth copied output").isTrue();
        } finally {
            sandboxes.add(sb);
            berth.destroyForcibly(); // SIGKILL
            berth.waitFor();
        }
        backend = newBackend();
        assertThat(backend.recover(List.of(sb), List.of(id)).lost()).isEmpty();
        assertThat(backend.sandboxStatus(sb).state()).isEqualTo(SandboxStatus.State.READY);
        assertThat(backend.containerStatus(id).state()).isEqualTo(ContainerStatus.State.RUNNING);
        int before = lines(logFile).size();
        assertThat(before).isPositive();
        assertThat(ShimHost.poll(() -> lines(logFile).size() > before + 2, LONG)).as("log copying resumed").isTrue();
        assertThat(lines(logFile)).allMatch(l -> l.matches("\\S+ stdout [FP] .*") || l.isEmpty());
        assertThat(lines(logFile)).anyMatch(l -> l.endsWith(" stdout F tick"));

        // The container's stdin outlived berth (the shim holds the FIFO): a new attach still reaches it.
        var detached = new java.util.concurrent.atomic.AtomicBoolean();
        java.io.OutputStream sink = new java.io.OutputStream() {
            @Override
            public void write(int b) throws java.io.IOException {
                if (detached.get()) {
                    throw new java.io.IOException("client gone");
                }
            }
        };
        Thread attach = Thread.ofVirtual().start(() -> ((dev.berth.spi.StreamingIo) backend).attach(id,
                new dev.berth.spi.StreamingIo.Streams(new java.io.ByteArrayInputStream(
                        "after-restart\n".getBytes(StandardCharsets.UTF_8)), sink, sink, false,
                        new java.util.concurrent.LinkedBlockingQueue<>())));
        assertThat(ShimHost.poll(() -> lines(logFile).stream().anyMatch(l -> l.endsWith(" stdout F got:after-restart")),
                LONG)).as("stdin written after the restart reached the container").isTrue();
        detached.set(true);
        attach.join(Duration.ofSeconds(30));
        assertThat(lines(logFile)).noneMatch(l -> l.contains("EOF-SEEN"));
        backend.stopSandbox(sb, Duration.ofSeconds(1));
        assertThat(backend.containerStatus(id).state()).isEqualTo(ContainerStatus.State.EXITED);
        backend.removeContainer(id);
        backend.removeSandbox(sb);
        sandboxes.remove(sb);
        assertThat(ShimHost.processesWith(context.stateDir().toString())).isEmpty();
    }

    /** The STOPPED events published for {@code id} (a container's, or a sandbox's own with both ids the same). */
    private List<BackendEvent> stoppedOf(String id) {
        return context.published().stream()
                .filter(e -> e.type() == BackendEvent.Type.STOPPED && e.containerId().equals(id)).toList();
    }

    @Test
    void theEndOfAPodsSandboxTaskIsPublishedOnceAndItsRemovalPublishesNothing() throws Exception {
        assertThat(backend).isInstanceOf(dev.berth.spi.SandboxEventSource.class);
        assertThatThrownBy(() -> backend.reportsEnd(newId())).isInstanceOfSatisfying(BackendException.class,
                e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.NOT_FOUND));
        String sb = runPod();
        assertThat(backend.reportsEnd(sb)).isTrue();
        long pause = backend.sandboxStatus(sb).pid();
        assertThat(pause).isPositive();
        assertThat(stoppedOf(sb)).isEmpty();
        ProcessHandle.of(pause).orElseThrow().destroyForcibly();

        assertThat(ShimHost.poll(() -> !stoppedOf(sb).isEmpty(), LONG))
                .as("the sandbox task's exit, published without a status call").isTrue();
        BackendEvent end = stoppedOf(sb).getFirst();
        assertThat(end.sandboxId()).isEqualTo(sb);
        assertThat(backend.sandboxStatus(sb).state()).isEqualTo(SandboxStatus.State.NOTREADY);
        backend.stopSandbox(sb, Duration.ZERO);
        backend.removeSandbox(sb);
        sandboxes.remove(sb);
        Thread.sleep(500); // an event from the shim's shutdown would come within this
        assertThat(stoppedOf(sb)).as("once, and nothing from the removal's shim shutdown").hasSize(1);
    }

    @Test
    void aKilledShimIsReportedAndCleanedUp() throws Exception {
        String sb = runPod();
        String done = runContainer(sb, "done", List.of("true"), "");
        assertThat(awaitExit(backend, done).exitCode()).isZero();
        assertThat(ShimHost.poll(() -> !stoppedOf(done).isEmpty(), LONG)).isTrue();
        String id = runContainer(sb, "victim", List.of("sleep", "3600"), dir.resolve("logs/victim.log").toString());
        long containerPid = backend.containerStatus(id).pid();
        assertThat(containerPid).isPositive();
        long shim = Long.parseLong(shimPid(backend, sb));
        Path socket = dev.berth.kata.shim.ShimLauncher.socketFromBundle(context.stateDir().resolve("bundles").resolve(sb));
        assertThat(socket).exists();
        assertThat(backend.sandboxStatus(sb).info()).containsEntry("shim_address", "unix://" + socket)
                .doesNotContainKey("shim_lost");
        assertThat(backend.containerStatus(id).info()).as("a container names the shim that runs it")
                .containsEntry("sandbox_id", sb).containsEntry("shim_pid", Long.toString(shim))
                .containsEntry("shim_address", "unix://" + socket);
        assertThat(stoppedOf(sb)).isEmpty();
        assertThat(stoppedOf(id)).isEmpty();
        ProcessHandle.of(shim).orElseThrow().destroyForcibly();
        assertThat(Processes.awaitExit(shim, LONG)).isTrue();

        // Heard from the closed connection, before any call: the pod's end and its running container's.
        assertThat(ShimHost.poll(() -> !stoppedOf(sb).isEmpty() && !stoppedOf(id).isEmpty(), LONG))
                .as("the shim's end is published without a call").isTrue();
        assertThat(stoppedOf(sb)).hasSize(1).allMatch(e -> e.sandboxId().equals(sb));
        assertThat(stoppedOf(done)).as("a container that had exited is not reported again").hasSize(1);
        ContainerStatus doneAfter = backend.containerStatus(done);
        assertThat(doneAfter.exitCode()).as("it keeps the exit the shim reported").isZero();
        assertThat(doneAfter.reason()).isEqualTo("Completed");
        assertThat(doneAfter.info()).containsKey("shim_lost");

        assertThat(ShimHost.poll(() -> backend.sandboxStatus(sb).state() == SandboxStatus.State.NOTREADY, LONG)).isTrue();
        assertThat(backend.sandboxStatus(sb).info()).containsKey("shim_lost");
        ContainerStatus st = awaitExit(backend, id);
        assertThat(st.info()).containsKey("shim_lost");
        assertThat(st.exitCode()).isEqualTo(255);
        assertThat(st.reason()).isEqualTo("Error");
        assertThat(st.message()).contains("shim");
        backend.stopContainer(id, Duration.ZERO);
        backend.removeContainer(id);
        backend.removeContainer(done);
        backend.removeSandbox(sb);
        sandboxes.remove(sb);
        assertThat(stoppedOf(sb)).as("the removal publishes nothing more").hasSize(1);
        assertThat(ShimHost.poll(() -> !Processes.live(containerPid), LONG))
                .as("the shim's delete action killed the orphaned container").isTrue();
        assertThat(Files.exists(context.stateDir().resolve("bundles").resolve(sb))).isFalse();
        assertThat(Path.of("/run/containerd/runc/berth", id)).doesNotExist();
        assertThat(socket).as("the dead shim's socket file is removed").doesNotExist();
    }
}
