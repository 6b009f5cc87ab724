package dev.berth.core.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.UnixSockets;
import dev.berth.core.plugin.TestPluginJar;
import dev.berth.cri.v1.ContainerConfig;
import dev.berth.cri.v1.ContainerMetadata;
import dev.berth.cri.v1.CreateContainerRequest;
import dev.berth.cri.v1.ImageSpec;
import dev.berth.cri.v1.ListContainersRequest;
import dev.berth.cri.v1.ListPodSandboxRequest;
import dev.berth.cri.v1.PodSandboxConfig;
import dev.berth.cri.v1.PodSandboxMetadata;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.StartContainerRequest;
import dev.berth.cri.v1.VersionRequest;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real daemon as a separate JVM on a unix socket, with a real plugin jar: the v1alpha2 contract, garbage on
 * the socket, config errors, and state surviving {@code kill -9}.
 */
class DaemonProcessTest {
    @TempDir
    Path dir;

    Path socket;
    Path config;
    Process daemon;
    final List<ManagedChannel> channels = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        TestPluginJar.build(plugins, "fakeplugin", "fake", "^" + dev.berth.spi.SpiVersion.CURRENT, true);
        socket = dir.resolve("run/berth.sock");
        config = dir.resolve("config.toml");
        Files.writeString(config, """
                socket = "%s"
                state = "%s"
                root = "%s"
                plugins_dir = "%s"
                default_runtime = "fake"
                [runtimes.fake]
                type = "fake"
                [runtimes.fake2]
                type = "fake"
                """.formatted(socket, dir.resolve("state"), dir.resolve("root"), plugins));
    }

    @AfterEach
    void tearDown() {
        channels.forEach(ManagedChannel::shutdownNow);
        if (daemon != null) {
            daemon.destroyForcibly();
        }
    }

    @Test
    void servesV1AndV1alpha2OnARootOnlySocketAndSurvivesGarbage() throws Exception {
        start();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-rw----");
        var v1 = RuntimeServiceGrpc.newBlockingStub(channel());
        var version = v1.version(VersionRequest.getDefaultInstance());
        assertThat(version.getRuntimeName()).isEqualTo("berth");
        assertThat(version.getRuntimeApiVersion()).isEqualTo("v1");

        // A client generated from the v1alpha2 seed proto talks to the same handlers.
        var alpha = dev.berth.cri.v1alpha2.RuntimeServiceGrpc.newBlockingStub(channel());
        String pod = alpha.runPodSandbox(dev.berth.cri.v1alpha2.RunPodSandboxRequest.newBuilder()
                .setConfig(dev.berth.cri.v1alpha2.PodSandboxConfig.newBuilder()
                        .setMetadata(dev.berth.cri.v1alpha2.PodSandboxMetadata.newBuilder().setName("old")
                                .setNamespace("ns").setUid("u1"))
                        .putLabels("era", "alpha2")
                        .setLinux(dev.berth.cri.v1alpha2.LinuxPodSandboxConfig.newBuilder().setSecurityContext(
                                dev.berth.cri.v1alpha2.LinuxSandboxSecurityContext.newBuilder().setNamespaceOptions(
                                        dev.berth.cri.v1alpha2.NamespaceOption.newBuilder()
                                                .setNetwork(dev.berth.cri.v1alpha2.NamespaceMode.NODE)))))
                .setRuntimeHandler("fake2").build()).getPodSandboxId();
        var listed = alpha.listPodSandbox(dev.berth.cri.v1alpha2.ListPodSandboxRequest.getDefaultInstance());
        assertThat(listed.getItemsList()).singleElement().satisfies(p -> {
            assertThat(p.getId()).isEqualTo(pod);
            assertThat(p.getMetadata().getName()).isEqualTo("old");
            assertThat(p.getLabelsMap()).containsEntry("era", "alpha2");
            assertThat(p.getRuntimeHandler()).isEqualTo("fake2");
        });
        var alphaStatus = alpha.podSandboxStatus(dev.berth.cri.v1alpha2.PodSandboxStatusRequest.newBuilder()
                .setPodSandboxId(pod).build());
        assertThat(alphaStatus.getStatus().getState()).isEqualTo(dev.berth.cri.v1alpha2.PodSandboxState.SANDBOX_READY);
        assertThat(v1.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItems(0).getId()).isEqualTo(pod);

        // Garbage bytes on the socket: that connection fails, the daemon keeps serving.
        byte[] junk = new byte[64 * 1024];
        new Random(7).nextBytes(junk);
        for (int i = 0; i < 3; i++) {
            try (SocketChannel raw = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                raw.connect(UnixDomainSocketAddress.of(socket));
                raw.write(ByteBuffer.wrap(junk));
            } catch (IOException expected) {
                // The daemon may close the connection while we are still writing.
            }
        }
        assertThat(v1.version(VersionRequest.getDefaultInstance()).getRuntimeName()).isEqualTo("berth");
        assertThat(daemon.isAlive()).isTrue();
    }

    @Test
    void recordsSurviveKillDashNine() throws Exception {
        start();
        var v1 = RuntimeServiceGrpc.newBlockingStub(channel());
        String pod = v1.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName("p").setNamespace("n").setUid("u"))
                .setLinux(dev.berth.cri.v1.LinuxPodSandboxConfig.newBuilder().setSecurityContext(
                        dev.berth.cri.v1.LinuxSandboxSecurityContext.newBuilder().setNamespaceOptions(
                                dev.berth.cri.v1.NamespaceOption.newBuilder()
                                        .setNetwork(dev.berth.cri.v1.NamespaceMode.NODE))))).build())
                .getPodSandboxId();
        List<String> containers = new ArrayList<>();
        for (String name : List.of("a", "b")) {
            containers.add(v1.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                    .setConfig(ContainerConfig.newBuilder().setMetadata(ContainerMetadata.newBuilder().setName(name))
                            .setImage(ImageSpec.newBuilder().setImage("busybox"))).build()).getContainerId());
        }
        v1.startContainer(StartContainerRequest.newBuilder().setContainerId(containers.get(0)).build());

        daemon.destroyForcibly().waitFor(10, TimeUnit.SECONDS); // SIGKILL
        channels.forEach(ManagedChannel::shutdownNow);
        start();
        v1 = RuntimeServiceGrpc.newBlockingStub(channel());
        assertThat(v1.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList())
                .extracting(p -> p.getId() + "/" + p.getRuntimeHandler()).containsExactly(pod + "/fake");
        var after = v1.listContainers(ListContainersRequest.getDefaultInstance()).getContainersList();
        assertThat(after).extracting(c -> c.getId()).containsExactlyInAnyOrderElementsOf(containers);
        assertThat(after).filteredOn(c -> c.getId().equals(containers.get(0))).singleElement()
                .satisfies(c -> assertThat(c.getState()).isEqualTo(dev.berth.cri.v1.ContainerState.CONTAINER_RUNNING));
    }

    @Test
    void badConfigExitsWithCodeTwoAndOneLine() throws Exception {
        Files.writeString(config, Files.readString(config) + "\n[runtimes.kata]\ntype = \"kata\"\n");
        Process p = command("daemon", "--config", config.toString()).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String err = new String(p.getErrorStream().readAllBytes());
        assertThat(p.exitValue()).isEqualTo(2);
        assertThat(err.strip().lines().filter(l -> l.startsWith("berth:")).toList()).singleElement().satisfies(l ->
                assertThat(l).contains(config + ":12: runtimes.kata.type: no loaded plugin provides backend type "
                        + "\"kata\" (available types: fake)"));
        assertThat(err).doesNotContain("\tat ");
    }

    private void start() throws Exception {
        daemon = command("daemon", "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("daemon.log").toFile()).start();
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        while (Instant.now().isBefore(deadline)) {
            if (!daemon.isAlive()) {
                throw new IllegalStateException("daemon exited: " + Files.readString(dir.resolve("daemon.log")));
            }
            if (Files.exists(socket)) {
                try {
                    RuntimeServiceGrpc.newBlockingStub(channel()).withDeadlineAfter(5, TimeUnit.SECONDS)
                            .version(VersionRequest.getDefaultInstance());
                    return;
                } catch (StatusRuntimeException notYet) {
                    // still starting
                }
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("daemon did not serve within 60s: " + Files.readString(dir.resolve("daemon.log")));
    }

    private ManagedChannel channel() {
        ManagedChannel c = UnixSockets.channel(socket);
        channels.add(c);
        return c;
    }

    private ProcessBuilder command(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-cp", System.getProperty("java.class.path"), "dev.berth.core.cli.Main"));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd);
    }
}
