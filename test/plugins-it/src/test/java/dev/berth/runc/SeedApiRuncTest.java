package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.streaming.WsTestClient;
import dev.berth.core.testing.RealBackendDaemon;
import dev.berth.seeds.runtime001.AttachRequest;
import dev.berth.seeds.runtime001.ContainerConfig;
import dev.berth.seeds.runtime001.ContainerMetadata;
import dev.berth.seeds.runtime001.ContainerState;
import dev.berth.seeds.runtime001.ContainerStatusRequest;
import dev.berth.seeds.runtime001.CreateContainerRequest;
import dev.berth.seeds.runtime001.ExecRequest;
import dev.berth.seeds.runtime001.ExecSyncRequest;
import dev.berth.seeds.runtime001.ImageSpec;
import dev.berth.seeds.runtime001.LinuxContainerConfig;
import dev.berth.seeds.runtime001.LinuxContainerSecurityContext;
import dev.berth.seeds.runtime001.ListContainersRequest;
import dev.berth.seeds.runtime001.ListPodSandboxRequest;
import dev.berth.seeds.runtime001.PodSandboxConfig;
import dev.berth.seeds.runtime001.PodSandboxMetadata;
import dev.berth.seeds.runtime001.PodSandboxState;
import dev.berth.seeds.runtime001.PortForwardRequest;
import dev.berth.seeds.runtime001.PodSandboxStatusRequest;
import dev.berth.seeds.runtime001.RemoveContainerRequest;
import dev.berth.seeds.runtime001.RemovePodSandboxRequest;
import dev.berth.seeds.runtime001.RunPodSandboxRequest;
import dev.berth.seeds.runtime001.RuntimeServiceGrpc;
import dev.berth.seeds.runtime001.StartContainerRequest;
import dev.berth.seeds.runtime001.StatusRequest;
import dev.berth.seeds.runtime001.StopContainerRequest;
import dev.berth.seeds.runtime001.StopPodSandboxRequest;
import dev.berth.seeds.runtime001.VersionRequest;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Clients generated from the seed documents (core's test copies of the proto2 CRI and the first CRI draft) drive
 * real containers through berth's daemon with the runc backend: the proto2 CRI runs a pod and a container whose
 * log, ExecSync and status are checked, with its security context's user and PID namespace mapped as the
 * contract meant them; its Exec, Attach and PortForward give URLs that berth's streaming server serves against the
 * running container (over WebSocket, with core's test client); the draft's CreatePodSandbox runs a pod through to
 * RemovePodSandbox.
 */
class SeedApiRuncTest {
    private static final Duration LONG = Duration.ofSeconds(30);

    private Path dir;
    private RealBackendDaemon berth;
    private final List<String> pods = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        Host.assumeRuntime("runc");
        do {
            dir = Path.of("/tmp", "sd" + ThreadLocalRandom.current().nextInt(10_000));
        } while (Files.exists(dir));
        Files.createDirectories(dir);
        berth = new RealBackendDaemon(dir, RealBackendDaemon.busyboxRootfs(dir.resolve("rootfs")),
                List.of(new RuncBackendFactory())).withStreaming();
        berth.start("""
                default_runtime = "runc"
                [runtimes.runc]
                type = "runc"
                [runtimes.runc.options]
                root = "%s"
                """.formatted(dir.resolve("runc-root")));
    }

    @AfterEach
    void tearDown() throws Exception {
        try {
            for (String pod : pods) {
                try {
                    berth.stopAndRemovePod(pod);
                } catch (RuntimeException e) {
                    System.err.println("cleanup of pod " + pod + ": " + e.getMessage());
                }
            }
        } finally {
            berth.stop();
            for (long pid : conmonsUnder(dir)) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
            Host.deleteTree(dir);
        }
    }

    private RuntimeServiceGrpc.RuntimeServiceBlockingStub rt() {
        return RuntimeServiceGrpc.newBlockingStub(berth.channel()).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    @Test
    void theProto2CriRunsAPodAndAContainerWithLogsExecSyncAndStatus() throws Exception {
        assertThat(rt().version(VersionRequest.newBuilder().setVersion("0.1.0").build()).getRuntimeApiVersion())
                .isEqualTo("0.1.0");
        Path logs = dir.resolve("logs").resolve("seed");
        PodSandboxConfig podConfig = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName("seed").setNamespace("default")
                        .setUid("uid-seed"))
                .setHostname("seed").setLogDirectory(logs.toString()).putLabels("app", "seed")
                .build();
        String pod = rt().runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(podConfig).build())
                .getPodSandboxId();
        pods.add(pod);
        assertThat(rt().podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(pod).build())
                .getStatus().getState()).isEqualTo(PodSandboxState.SANDBOX_READY);

        String ctr = rt().createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                .setConfig(ContainerConfig.newBuilder()
                        .setMetadata(ContainerMetadata.newBuilder().setName("app"))
                        .setImage(ImageSpec.newBuilder().setImage("busybox"))
                        .addCommand("sh").addArgs("-c").addArgs("echo hello from the proto2 CRI; exec sleep 3600")
                        .setLogPath("app.log")
                        .setLinux(LinuxContainerConfig.newBuilder().setSecurityContext(LinuxContainerSecurityContext
                                .newBuilder().setRunAsUser(1234))))
                .setSandboxConfig(podConfig).build()).getContainerId();
        rt().startContainer(StartContainerRequest.newBuilder().setContainerId(ctr).build());
        var status = rt().containerStatus(ContainerStatusRequest.newBuilder().setContainerId(ctr).build())
                .getStatus();
        assertThat(status.getState()).isEqualTo(ContainerState.CONTAINER_RUNNING);
        assertThat(status.getStartedAt()).isPositive();

        Path log = logs.resolve("app.log");
        assertThat(RealBackendDaemon.await(() -> read(log).contains(" stdout F hello from the proto2 CRI"), LONG))
                .as("the container's line in " + log + ": " + read(log)).isTrue();

        var id = rt().execSync(ExecSyncRequest.newBuilder().setContainerId(ctr).addCmd("busybox").addCmd("id")
                .addCmd("-u").setTimeout(20).build());
        assertThat(id.getExitCode()).isZero();
        assertThat(id.getStdout().toStringUtf8()).as("run_as_user, an optional int64 here").isEqualTo("1234\n");
        // No host_pid: the container has a PID namespace of its own (this contract had no pod-wide one), so its
        // own command is PID 1.
        var init = rt().execSync(ExecSyncRequest.newBuilder().setContainerId(ctr).addCmd("cat")
                .addCmd("/proc/1/cmdline").setTimeout(20).build());
        assertThat(init.getStdout().toStringUtf8()).startsWith("sleep\0" + "3600");
        var fails = rt().execSync(ExecSyncRequest.newBuilder().setContainerId(ctr).addCmd("sh").addCmd("-c")
                .addCmd("echo oops >&2; exit 3").setTimeout(20).build());
        assertThat(fails.getExitCode()).isEqualTo(3);
        assertThat(fails.getStderr().toStringUtf8()).isEqualTo("oops\n");

        assertThat(rt().status(StatusRequest.getDefaultInstance()).getStatus().getConditionsList())
                .anySatisfy(c -> {
                    assertThat(c.getType()).isEqualTo("RuntimeReady");
                    assertThat(c.getStatus()).isTrue();
                });

        rt().stopContainer(StopContainerRequest.newBuilder().setContainerId(ctr).setTimeout(2).build());
        var stopped = rt().containerStatus(ContainerStatusRequest.newBuilder().setContainerId(ctr).build())
                .getStatus();
        assertThat(stopped.getState()).isEqualTo(ContainerState.CONTAINER_EXITED);
        assertThat(stopped.getFinishedAt()).isGreaterThanOrEqualTo(stopped.getStartedAt());
        rt().removeContainer(RemoveContainerRequest.newBuilder().setContainerId(ctr).build());
        assertThat(rt().listContainers(ListContainersRequest.getDefaultInstance()).getContainersList()).isEmpty();
        rt().stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        rt().removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        pods.remove(pod);
        assertThat(rt().listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()).isEmpty();
    }

    @Test
    void theProto2CrisExecAttachAndPortForwardUrlsStreamFromARunningContainer() throws Exception {
        PodSandboxConfig podConfig = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName("streams").setNamespace("default")
                        .setUid("uid-streams"))
                .setHostname("streams").setLogDirectory(dir.resolve("logs").resolve("streams").toString())
                .build();
        String pod = rt().runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(podConfig).build())
                .getPodSandboxId();
        pods.add(pod);
        // One container writes a numbered line every 200 ms (for attach) and one serves a line on a port in the
        // pod's network namespace (for port-forward), each connection answered by a fresh nc. nc keeps the
        // connection until its input ends, so the line is followed by a pause: the client's line must reach an
        // open connection (nc closing at once after its line made the client's send fail now and then).
        String ticker = runningContainer(pod, podConfig, "ticker",
                "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done");
        int port = 18080;
        String server = runningContainer(pod, podConfig, "server",
                "while true; do (echo served from the pod; sleep 5) | busybox nc -l -p " + port + "; done");
        // A forward connects when it opens and ends when the pod refuses, so wait until nc is listening.
        assertThat(RealBackendDaemon.await(() -> rt().execSync(ExecSyncRequest.newBuilder().setContainerId(server)
                .addCmd("sh").addCmd("-c").addCmd("busybox netstat -ltn | grep -q ':" + port + " '")
                .setTimeout(20).build()).getExitCode() == 0, LONG)).as("nc listening on " + port).isTrue();

        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            URI exec = URI.create(rt().exec(ExecRequest.newBuilder().setContainerId(ticker).addCmd("sh")
                    .addCmd("-c").addCmd("echo exec out; echo exec err >&2").build()).getUrl());
            try (WsTestClient c = WsTestClient.connect(group, exec, "v4.channel.k8s.io")) {
                assertThat(c.awaitHandshake()).isEqualTo("v4.channel.k8s.io");
                assertThat(c.inbox.awaitText(1, "exec out\n")).isEqualTo("exec out\n");
                assertThat(c.inbox.awaitText(2, "exec err\n")).isEqualTo("exec err\n");
                assertThat(c.inbox.awaitEnd(3)).as("the status on the error channel").contains("Success");
            }

            URI attach = URI.create(rt().attach(AttachRequest.newBuilder().setContainerId(ticker).build())
                    .getUrl());
            try (WsTestClient c = WsTestClient.connect(group, attach, "v4.channel.k8s.io")) {
                assertThat(c.awaitHandshake()).isEqualTo("v4.channel.k8s.io");
                c.inbox.await("two lines the container wrote after the attach", () ->
                        c.inbox.text(1).split("\n").length >= 3);
                assertThat(c.inbox.text(1)).containsPattern("tick \\d+\ntick \\d+\n");
            }

            URI forward = URI.create(rt().portForward(PortForwardRequest.newBuilder().setPodSandboxId(pod)
                    .addPort(port).build()).getUrl());
            try (WsTestClient c = WsTestClient.connect(group, forward, "v4.channel.k8s.io")) {
                assertThat(c.awaitHandshake()).isEqualTo("v4.channel.k8s.io");
                byte[] prefix = {(byte) (port & 0xff), (byte) (port >> 8)};
                c.inbox.await("the port prefixes", () -> c.inbox.count(0) >= 2 && c.inbox.count(1) >= 2);
                assertThat(c.inbox.bytes(1)).isEqualTo(prefix);
                c.send(0, "hello\n");
                c.inbox.await("the server's line", () -> new String(c.inbox.bytes(0), StandardCharsets.ISO_8859_1)
                        .contains("served from the pod"));
                byte[] got = c.inbox.bytes(0);
                assertThat(new String(got, 2, got.length - 2, StandardCharsets.UTF_8))
                        .isEqualTo("served from the pod\n");
            }
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** A started busybox container running {@code script} under sh. */
    private String runningContainer(String pod, PodSandboxConfig podConfig, String name, String script) {
        String ctr = rt().createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                .setConfig(ContainerConfig.newBuilder()
                        .setMetadata(ContainerMetadata.newBuilder().setName(name))
                        .setImage(ImageSpec.newBuilder().setImage("busybox"))
                        .addCommand("sh").addArgs("-c").addArgs(script)
                        .setLogPath(name + ".log"))
                .setSandboxConfig(podConfig).build()).getContainerId();
        rt().startContainer(StartContainerRequest.newBuilder().setContainerId(ctr).build());
        assertThat(rt().containerStatus(ContainerStatusRequest.newBuilder().setContainerId(ctr).build()).getStatus()
                .getState()).isEqualTo(ContainerState.CONTAINER_RUNNING);
        return ctr;
    }

    @Test
    void theDraftCreatesAPodSandboxThroughToItsRemoval() {
        var draft = dev.berth.seeds.runtime002.RuntimeServiceGrpc.newBlockingStub(berth.channel())
                .withDeadlineAfter(60, TimeUnit.SECONDS);
        String pod = draft.createPodSandbox(dev.berth.seeds.runtime002.CreatePodSandboxRequest.newBuilder()
                .setConfig(dev.berth.seeds.runtime002.PodSandboxConfig.newBuilder()
                        .setMetadata(dev.berth.seeds.runtime002.PodSandboxMetadata.newBuilder().setName("draft")
                                .setNamespace("default").setUid("uid-draft"))
                        .setHostname("draft").setLogDirectory(dir.resolve("logs").resolve("draft").toString()))
                .build()).getPodSandboxId();
        pods.add(pod);
        var status = draft.podSandboxStatus(dev.berth.seeds.runtime002.PodSandboxStatusRequest.newBuilder()
                .setPodSandboxId(pod).build()).getStatus();
        assertThat(status.getState()).isEqualTo(dev.berth.seeds.runtime002.PodSandBoxState.READY);
        assertThat(status.getMetadata().getName()).isEqualTo("draft");
        assertThat(berth.record(pod)).as("berth's record of the pod").isNotNull();
        draft.stopPodSandbox(dev.berth.seeds.runtime002.StopPodSandboxRequest.newBuilder().setPodSandboxId(pod)
                .build());
        assertThat(draft.podSandboxStatus(dev.berth.seeds.runtime002.PodSandboxStatusRequest.newBuilder()
                .setPodSandboxId(pod).build()).getStatus().getState())
                .isEqualTo(dev.berth.seeds.runtime002.PodSandBoxState.NOTREADY);
        draft.removePodSandbox(dev.berth.seeds.runtime002.RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod)
                .build());
        pods.remove(pod);
        assertThat(draft.listPodSandbox(dev.berth.seeds.runtime002.ListPodSandboxRequest.getDefaultInstance())
                .getItemsList()).isEmpty();
    }

    /** A file's text, or "" while it does not exist (shared with {@link SeedContainerdApiRuncTest}). */
    static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (IOException e) {
            return "";
        }
    }

    /** The live conmon processes whose command line names a path under {@code dir}. */
    static List<Long> conmonsUnder(Path dir) throws IOException {
        List<Long> found = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.toList()) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String cmd = Files.readString(p.resolve("cmdline")).replace('\0', ' ');
                    if (cmd.contains("conmon") && cmd.contains(dir.toString() + "/")
                            && dev.berth.oci.Processes.live(Long.parseLong(name))) {
                        found.add(Long.parseLong(name));
                    }
                } catch (IOException | RuntimeException e) {
                    // raced with an exiting process
                }
            }
        }
        return found;
    }
}
