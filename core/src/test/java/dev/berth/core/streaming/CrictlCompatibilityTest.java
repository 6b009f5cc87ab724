package dev.berth.core.streaming;

import dev.berth.core.cli.Logging;
import dev.berth.cri.v1.AttachRequest;
import dev.berth.cri.v1.AttachResponse;
import dev.berth.cri.v1.ContainerMetadata;
import dev.berth.cri.v1.ContainerState;
import dev.berth.cri.v1.ContainerStatus;
import dev.berth.cri.v1.ContainerStatusRequest;
import dev.berth.cri.v1.ContainerStatusResponse;
import dev.berth.cri.v1.ExecRequest;
import dev.berth.cri.v1.ExecResponse;
import dev.berth.cri.v1.PortForwardRequest;
import dev.berth.cri.v1.PortForwardResponse;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.VersionRequest;
import dev.berth.cri.v1.VersionResponse;
import dev.berth.spi.testing.HostRequirements;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Drives the streaming server with the real {@code crictl} (client-go's SPDY executor), through a minimal CRI
 * server that only hands out streaming URLs. Runs when {@code crictl} is on the PATH or named by the
 * {@code BERTH_CRICTL} environment variable; skipped otherwise.
 */
@Timeout(120)
class CrictlCompatibilityTest {

    @TempDir
    Path dir;

    private final FakeTargets backend = new FakeTargets();
    private StreamingServer streaming;
    private Server cri;
    private EventLoopGroup loop;
    private Path crictl;
    private final List<Process> processes = new ArrayList<>();

    static {
        Logging.quietNetty();
    }

    @BeforeEach
    void setUp() throws IOException {
        Optional<Path> found = findCrictl();
        HostRequirements.require(found.isPresent(), "crictl not found (set BERTH_CRICTL)");
        crictl = found.get();
        Files.writeString(dir.resolve("crictl.yaml"), "runtime-endpoint: unix://" + dir.resolve("cri.sock") + "\n");
        streaming = new StreamingServer(StreamingSettings.defaults(), backend);
        streaming.start();
        loop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        cri = NettyServerBuilder.forAddress(new DomainSocketAddress(dir.resolve("cri.sock").toString()))
                .channelType(EpollServerDomainSocketChannel.class)
                .bossEventLoopGroup(loop).workerEventLoopGroup(loop)
                .addService(new Runtime()).build().start();
    }

    @AfterEach
    void tearDown() throws InterruptedException {
        for (Process p : processes) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        backend.exitContainer();
        if (cri != null) {
            cri.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
        if (loop != null) {
            loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
        if (streaming != null) {
            streaming.close();
        }
    }

    private static Optional<Path> findCrictl() {
        String env = System.getenv("BERTH_CRICTL");
        if (env != null && Files.isExecutable(Path.of(env))) {
            return Optional.of(Path.of(env));
        }
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(d, "crictl");
            if (!d.isEmpty() && Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    private Process crictl(String... args) throws IOException {
        Process p = new ProcessBuilder(crictlCommand(args)).redirectErrorStream(true).start();
        processes.add(p);
        return p;
    }

    private List<String> crictlCommand(String... args) {
        List<String> cmd = new ArrayList<>(List.of(crictl.toString(), "--runtime-endpoint",
                "unix://" + dir.resolve("cri.sock"), "--image-endpoint", "unix://" + dir.resolve("cri.sock"),
                "--timeout", "60s", "--config", dir.resolve("crictl.yaml").toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static String finish(Process p, int expectedExit) throws Exception {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("crictl exit code; output: %s", out).isEqualTo(expectedExit);
        return out;
    }

    @Test
    void execReportsTheExitCode() throws Exception {
        // crictl itself exits 1 and names the command's exit code, as kubectl does.
        String out = finish(crictl("exec", "c1", "exit", "3"), 1);
        assertThat(out).contains("out\n", "err\n", "command terminated with exit code 3");
    }

    @Test
    void ttyExecSendsTheTerminalSize() throws Exception {
        Path script = Path.of("/usr/bin/script");
        HostRequirements.require(Files.isExecutable(script), "script(1) from util-linux, which gives crictl a terminal, "
                + "is not installed");
        String cmd = String.join(" ", crictlCommand("exec", "-i", "-t", "c1", "sizes", "1"));
        Process p = new ProcessBuilder(script.toString(), "-qec", "stty cols 77 rows 22; " + cmd, "/dev/null")
                .redirectErrorStream(true).start();
        processes.add(p);
        p.getOutputStream().close();
        assertThat(finish(p, 0)).contains("77x22");
    }

    @Test
    void execPipesStdin() throws Exception {
        Process p = crictl("exec", "-i", "c1", "cat");
        try (OutputStream in = p.getOutputStream()) {
            in.write("piped through crictl\n".getBytes(StandardCharsets.UTF_8));
        }
        assertThat(finish(p, 0)).contains("piped through crictl");
    }

    @Test
    void attachStreamsOutput() throws Exception {
        Process p = crictl("attach", "c1");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (backend.attached.isEmpty() && System.nanoTime() < deadline && p.isAlive()) {
            Thread.sleep(20);
        }
        assertThat(backend.attached).hasSize(1);
        backend.broadcast("attached hello\n");
        backend.exitContainer();
        assertThat(finish(p, 0)).contains("attached hello");
    }

    @Test
    void portForwardReachesTheEchoServer() throws Exception {
        try (EchoServer echo = new EchoServer()) {
            int local = 0;
            Socket socket = null;
            // The free port found here may be taken by another process before crictl binds it; crictl then exits,
            // and the test takes another port (three tries).
            for (int attempt = 0; attempt < 3 && socket == null; attempt++) {
                try (ServerSocket s = new ServerSocket(0)) {
                    local = s.getLocalPort();
                }
                Process p = crictl("port-forward", "pod1", local + ":" + echo.port());
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (socket == null && System.nanoTime() < deadline && p.isAlive()) {
                    try {
                        socket = new Socket("127.0.0.1", local);
                    } catch (IOException notYet) {
                        Thread.sleep(50);
                    }
                }
            }
            assertThat(socket).as("crictl listens on %d", local).isNotNull();
            try (Socket s = socket) {
                s.setSoTimeout(30_000);
                byte[] payload = new byte[256 * 1024];
                new java.util.Random(3).nextBytes(payload);
                Thread writer = Thread.ofVirtual().start(() -> {
                    try {
                        s.getOutputStream().write(payload);
                        s.shutdownOutput();
                    } catch (IOException ignored) {
                        // the read side fails the test
                    }
                });
                InputStream in = s.getInputStream();
                byte[] got = in.readNBytes(payload.length);
                writer.join();
                assertThat(got).isEqualTo(payload);
            }
            assertThat(backend.forwardedSandboxes).contains("pod1");
        }
    }

    /** Just enough of the CRI runtime service for crictl's streaming commands. */
    private final class Runtime extends RuntimeServiceGrpc.RuntimeServiceImplBase {
        @Override
        public void version(VersionRequest request, StreamObserver<VersionResponse> response) {
            response.onNext(VersionResponse.newBuilder().setVersion("0.1.0").setRuntimeName("berth-test")
                    .setRuntimeVersion("0").setRuntimeApiVersion("v1").build());
            response.onCompleted();
        }

        @Override
        public void containerStatus(ContainerStatusRequest request,
                                    StreamObserver<ContainerStatusResponse> response) {
            response.onNext(ContainerStatusResponse.newBuilder().setStatus(ContainerStatus.newBuilder()
                    .setId(request.getContainerId()).setState(ContainerState.CONTAINER_RUNNING)
                    .setMetadata(ContainerMetadata.newBuilder().setName("test"))).build());
            response.onCompleted();
        }

        @Override
        public void exec(ExecRequest r, StreamObserver<ExecResponse> response) {
            response.onNext(ExecResponse.newBuilder().setUrl(streaming.execUrl(r.getContainerId(), r.getCmdList(),
                    r.getTty(), r.getStdin(), r.getStdout(), r.getStderr()).toString()).build());
            response.onCompleted();
        }

        @Override
        public void attach(AttachRequest r, StreamObserver<AttachResponse> response) {
            response.onNext(AttachResponse.newBuilder().setUrl(streaming.attachUrl(r.getContainerId(), r.getTty(),
                    r.getStdin(), r.getStdout(), r.getStderr()).toString()).build());
            response.onCompleted();
        }

        @Override
        public void portForward(PortForwardRequest r, StreamObserver<PortForwardResponse> response) {
            response.onNext(PortForwardResponse.newBuilder().setUrl(streaming.portForwardUrl(r.getPodSandboxId(),
                    r.getPortList()).toString()).build());
            response.onCompleted();
        }
    }
}
