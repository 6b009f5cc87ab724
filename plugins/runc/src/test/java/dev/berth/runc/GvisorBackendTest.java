package dev.berth.runc;

import static dev.berth.spi.testing.HostRequirements.require;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.oci.ProcessRunner;
import dev.berth.spi.BackendHealth;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.ExecResult;
import dev.berth.spi.Recoverable;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxStatus;
import dev.berth.spi.testing.TestingBackendContext;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A gVisor handler (runsc under conmon, berth-runsc in front of it): one pod with several containers runs as one
 * runsc sandbox, in gVisor's kernel, its containers sharing the pod's network and IPC; berth killed with SIGKILL
 * and started again finds the pod running, the exit code and log of a container that exited meanwhile, and
 * removes the pod completely.
 *
 * <p>The network mode is {@code host}: the Debian runsc (2022-12) refuses its own netstack on kernels that show
 * net.core sysctls in every network namespace ("cannot run with network enabled in root network namespace"), as
 * this host's does. With {@code host}, the sandbox process, which joins the pod's network namespace, uses that
 * namespace through the host kernel (see docs/conformance.md).
 */
class GvisorBackendTest {
    static final Map<String, Object> OPTIONS = Map.of("binary", "runsc", "network", "host");
    Path base;
    Path rootfs;
    Path ctx;
    RuntimeBackend backend;
    String sandbox;

    @BeforeEach
    void setUp() throws Exception {
        Host.assumeRuntime("runsc");
        require(RunscShim.PATH.isPresent(), RunscShim.PROGRAM + " was not built");
        base = Host.tempDir();
        ctx = base.resolve("ctx");
        rootfs = Host.busyboxRootfs(base.resolve("rootfs"));
        // runsc's gofer mounts into the root file system itself (runc into a tmpfs /dev), and this one is read-only.
        Files.createDirectories(rootfs.resolve("dev/shm"));
    }

    @AfterEach
    void tearDown() throws Exception {
        if (backend != null) {
            if (sandbox != null) {
                backend.removeSandbox(sandbox);
            }
            backend.close();
        }
        ProcessRunner.run(List.of("runsc", "--root", ctx.resolve("state/runtime").toString(), "list", "-quiet"), null,
                Duration.ofSeconds(30)).stdout().lines().forEach(id -> ProcessRunner.run(List.of("runsc", "--root",
                ctx.resolve("state/runtime").toString(), "delete", "--force", id), null, Duration.ofSeconds(30)));
        Host.deleteTree(base);
    }

    /**
     * A container that never started, and one whose start failed, are stopped and removed without waiting for
     * an exit (runsc refuses to signal a created container); the pod then removes completely.
     */
    @Test
    void containersThatNeverRanAreRemoved() throws Exception {
        backend = new RuncBackendFactory().create("gvisor", OPTIONS, new TestingBackendContext("gvisor", ctx));
        sandbox = RuncBackendTest.newId();
        backend.createSandbox(Host.sandbox(sandbox, rootfs, dev.berth.spi.PodSecurity.DEFAULT,
                Host.netns(base.resolve("netns")), Map.of()));
        backend.startSandbox(sandbox);
        String never = RuncBackendTest.newId();
        backend.createContainer(Host.container(never, sandbox, rootfs, List.of("sleep", "3600"), null, null,
                dev.berth.spi.ContainerSecurity.DEFAULT));
        assertThat(backend.containerStatus(never).state()).isEqualTo(ContainerStatus.State.CREATED);
        String failing = RuncBackendTest.newId();
        backend.createContainer(Host.container(failing, sandbox, rootfs, List.of("/no/such/program"),
                base.resolve("logs/failing.log"), null, dev.berth.spi.ContainerSecurity.DEFAULT));
        assertThatThrownBy(() -> backend.startContainer(failing)).isInstanceOfSatisfying(
                dev.berth.spi.BackendException.class, e -> assertThat(e.getMessage())
                        .startsWith("failed to start container \"" + failing + "\""));
        backend.stopContainer(never, Duration.ofSeconds(10));
        assertThat(backend.containerStatus(never).state()).isEqualTo(ContainerStatus.State.EXITED);
        backend.removeContainer(never);
        backend.removeContainer(failing);
        FaultTest.assertNothingLeft(ctx, never, OciSpecs.cgroupsPath(false, "", sandbox, never));
        String removed = sandbox;
        backend.removeSandbox(removed);
        sandbox = null;
        FaultTest.assertNothingLeft(ctx, removed, OciSpecs.podCgroup("", removed));
        // runsc leaves the gofer of a container whose start failed running until its sandbox ends.
        FaultTest.assertNothingLeft(ctx, failing, OciSpecs.cgroupsPath(false, "", removed, failing));
    }

    /** runsc 2022-12 refuses capabilities newer than CAP_AUDIT_READ; a container that asks for all of them starts. */
    @Test
    void aContainerWithEveryCapabilityStarts() throws Exception {
        backend = new RuncBackendFactory().create("gvisor", OPTIONS, new TestingBackendContext("gvisor", ctx));
        sandbox = RuncBackendTest.newId();
        backend.createSandbox(Host.sandbox(sandbox, rootfs, dev.berth.spi.PodSecurity.DEFAULT,
                Host.netns(base.resolve("netns")), Map.of()));
        backend.startSandbox(sandbox);
        var d = dev.berth.spi.ContainerSecurity.DEFAULT;
        var all = new dev.berth.spi.ContainerSecurity(List.of("ALL"), List.of(), false, d.namespaces(),
                d.runAsUser(), d.runAsGroup(), "", false, List.of(), false, List.of(), List.of(), d.seccomp(),
                d.apparmor(), d.selinux(), d.supplementalGroupsPolicy());
        String id = RuncBackendTest.newId();
        backend.createContainer(Host.container(id, sandbox, rootfs, List.of("sleep", "3600"), null, null, all));
        backend.startContainer(id);
        assertThat(backend.containerStatus(id).state()).isEqualTo(ContainerStatus.State.RUNNING);
        ExecResult caps = backend.execSync(id, List.of("grep", "CapEff", "/proc/self/status"), Duration.ofSeconds(30));
        assertThat(new String(caps.stdout(), StandardCharsets.UTF_8)).as("CAP_SYS_ADMIN among them")
                .matches("(?s)CapEff:\\s+[0-9a-f]*[2367abef][0-9a-f]{5}\\s*");
    }

    @Test
    void onePodIsOneSandboxAndOutlivesBerth() throws Exception {
        Path netns = Host.netns(base.resolve("netns"));
        // An interface only the pod's network namespace has: both containers must see it.
        ProcessRunner.Result dummy = ProcessRunner.run(List.of("nsenter", "--net=" + netns, "ip", "link", "add", "berthgvt0",
                "type", "veth", "peer", "name", "berthgvt1"), null, Duration.ofSeconds(30));
        assertThat(dummy.ok()).as(dummy.errorText()).isTrue();

        Process daemon = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                GvisorDriver.class.getName(), ctx.toString(), rootfs.toString(), netns.toString())
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
        String first = ids[1];
        String second = ids[2];
        String exiting = ids[3];
        Path exitFile = ctx.resolve("state/exits").resolve(exiting);
        RuncBackendTest.await(() -> Files.exists(exitFile), "exit file of the short container");

        backend = new RuncBackendFactory().create("gvisor", OPTIONS, new TestingBackendContext("gvisor", ctx));
        Recoverable.Report report = ((Recoverable) backend).recover(List.of(sandbox), List.of(first, second, exiting));
        assertThat(report.lost()).isEmpty();
        BackendHealth health = backend.health();
        assertThat(health.checks()).anySatisfy(c -> assertThat(c.what()).startsWith("gVisor runsc version"));
        assertThat(health.ready()).as(health.checks().toString()).isTrue();

        SandboxStatus pod = backend.sandboxStatus(sandbox);
        assertThat(pod.state()).isEqualTo(SandboxStatus.State.READY);
        assertThat(backend.containerStatus(first).state()).isEqualTo(ContainerStatus.State.RUNNING);
        assertThat(backend.containerStatus(second).state()).isEqualTo(ContainerStatus.State.RUNNING);

        // One sandbox: runsc reports every container of the pod in the pause container's sandbox process, and
        // that is the only gVisor kernel (runsc-sandbox process) under this handler's root.
        String root = ctx.resolve("state/runtime").toString();
        for (String id : List.of(sandbox, first, second)) {
            var state = OciSpecs.JSON.readTree(ProcessRunner.run(List.of("runsc", "--root", root, "state", id), null,
                    Duration.ofSeconds(30)).stdout());
            assertThat(state.path("pid").asLong()).as("sandbox pid of " + id).isEqualTo(pod.pid());
        }
        ProcessRunner.Result kernels = ProcessRunner.run(List.of("pgrep", "-f", "^runsc-sandbox --root=" + root + " "), null,
                Duration.ofSeconds(30));
        assertThat(kernels.stdout().lines().toList()).containsExactly(Long.toString(pod.pid()));

        // gVisor's kernel answers the syscalls: its dmesg, its uname.
        ExecResult dmesg = backend.execSync(first, List.of("dmesg"), Duration.ofSeconds(30));
        assertThat(new String(dmesg.stdout(), StandardCharsets.UTF_8)).contains("Starting gVisor");

        // An exec that times out ends inside the sandbox too (not only the host's runsc exec).
        assertThatThrownBy(() -> backend.execSync(first, List.of("sleep", "31"), Duration.ofSeconds(1)))
                .isInstanceOfSatisfying(dev.berth.spi.BackendException.class,
                        e -> assertThat(e.kind()).isEqualTo(dev.berth.spi.BackendException.Kind.DEADLINE_EXCEEDED));
        ExecResult ps = backend.execSync(first, List.of("ps", "-o", "args"), Duration.ofSeconds(30));
        assertThat(new String(ps.stdout(), StandardCharsets.UTF_8)).as("processes in the container")
                .contains("sleep 3600").doesNotContain("sleep 31");

        // A streaming exec with a terminal gets one inside gVisor, of the client's size, and its exit code.
        RuncBackendTest.Collector term = new RuncBackendTest.Collector();
        var resize = new java.util.concurrent.LinkedBlockingQueue<dev.berth.spi.StreamingIo.TerminalSize>();
        resize.add(new dev.berth.spi.StreamingIo.TerminalSize(100, 30));
        int code = ((dev.berth.spi.StreamingIo) backend).exec(first, List.of("sh", "-c",
                "stty size; read l; echo got:$l; exit 4"), new dev.berth.spi.StreamingIo.Streams(
                new java.io.ByteArrayInputStream("typed\n".getBytes(StandardCharsets.UTF_8)), term, null, true,
                resize));
        assertThat(code).isEqualTo(4);
        assertThat(term.text()).contains("30 100").contains("got:typed");

        // The pod's network: both containers see the interface only the pod's namespace has.
        for (String id : List.of(first, second)) {
            ExecResult links = backend.execSync(id, List.of("cat", "/proc/net/dev"), Duration.ofSeconds(30));
            assertThat(new String(links.stdout(), StandardCharsets.UTF_8)).as("interfaces in " + id)
                    .contains("berthgvt0");
        }
        // The pod's IPC: what one container puts in /dev/shm the other reads.
        assertThat(backend.execSync(first, List.of("sh", "-c", "echo shared > /dev/shm/gv"), Duration.ofSeconds(30))
                .exitCode()).isZero();
        ExecResult shm = backend.execSync(second, List.of("cat", "/dev/shm/gv"), Duration.ofSeconds(30));
        assertThat(new String(shm.stdout(), StandardCharsets.UTF_8).strip()).isEqualTo("shared");

        // Exit code and log of the container that exited while berth was down.
        ContainerStatus exited = backend.containerStatus(exiting);
        assertThat(exited.state()).isEqualTo(ContainerStatus.State.EXITED);
        assertThat(exited.exitCode()).isEqualTo(7);
        assertThat(Files.readAllLines(ctx.resolve("logs/exiting.log")).stream().map(l -> CriLog.parse(l).message()))
                .containsExactly("before", "while berth is down");
        assertThat(Files.readAllLines(ctx.resolve("logs/first.log")).stream().map(l -> CriLog.parse(l).message()))
                .containsExactly("hello from gvisor");

        backend.stopContainer(second, Duration.ofSeconds(1));
        ContainerStatus stopped = backend.containerStatus(second);
        assertThat(stopped.state()).isEqualTo(ContainerStatus.State.EXITED);
        assertThat(stopped.exitCode()).as("SIGTERM ends sleep in gVisor").isEqualTo(143);
        assertThat(backend.containerStatus(first).state()).isEqualTo(ContainerStatus.State.RUNNING);

        backend.removeSandbox(sandbox);
        String removed = sandbox;
        sandbox = null;
        ProcessRunner.Result list = ProcessRunner.run(List.of("runsc", "--root", root, "list", "-quiet"), null,
                Duration.ofSeconds(30));
        assertThat(list.ok()).as(list.errorText()).isTrue();
        assertThat(list.stdout().strip()).isEmpty();
        assertThat(ProcessRunner.run(List.of("pgrep", "-f", "^runsc-sandbox --root=" + root + " "), null,
                Duration.ofSeconds(30)).stdout()).isEmpty();
        for (String id : List.of(removed, first, second, exiting)) {
            FaultTest.assertNothingLeft(ctx, id, id.equals(removed) ? OciSpecs.podCgroup("", id)
                    : OciSpecs.cgroupsPath(false, "", removed, id));
        }
    }
}
