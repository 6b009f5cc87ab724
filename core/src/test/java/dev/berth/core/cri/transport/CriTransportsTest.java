package dev.berth.core.cri.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.Daemon;
import dev.berth.core.config.ConfigLoader;
import dev.berth.core.config.CriEndpoint;
import dev.berth.core.environment.Node;
import dev.berth.core.plugin.PluginHost;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.VersionRequest;
import dev.berth.spi.testing.FakeBackendFactory;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CRI daemon over the stream bridge and over TCP; named pipes refused off Windows. */
class CriTransportsTest {
    @TempDir
    Path dir;

    private Daemon daemon() throws Exception {
        Path file = dir.resolve("config.toml");
        Files.writeString(file, "state = \"" + dir.resolve("state") + "\"\nroot = \"" + dir.resolve("root")
                + "\"\ndefault_runtime = \"fake\"\n[runtimes.fake]\ntype = \"fake\"\n");
        return Daemon.create(ConfigLoader.load(file, true), PluginHost.of(List.of(new FakeBackendFactory())),
                Node.none());
    }

    @Test
    void theCriServiceAnswersThroughTheBridge() throws Exception {
        InMemoryPipes pipes = new InMemoryPipes(1024);
        StreamBridge.Server bridge = new StreamBridge.Server();
        Daemon d = daemon();
        ManagedChannel c = StreamBridge.channel(pipes);
        try {
            d.serve(bridge.builder());
            bridge.start(pipes);
            assertThat(RuntimeServiceGrpc.newBlockingStub(c).version(VersionRequest.getDefaultInstance())
                    .getRuntimeName()).isEqualTo("berth");
        } finally {
            c.shutdownNow();
            d.close();
            bridge.close();
        }
        assertThat(pipes.serverEnds()).hasSize(1).allMatch(InMemoryPipes.End::closed);
    }

    @Test
    void tcpWithoutAHostServesOnLoopbackOnly() throws Exception {
        Daemon d = daemon();
        CriTransports.Serving serving = CriTransports.server(new CriEndpoint.Tcp("", 0));
        Server server = serving.builder().addService(io.grpc.ServerServiceDefinition.builder("none").build())
                .build().start();
        try {
            serving.started();
            var bound = (InetSocketAddress) server.getListenSockets().getFirst();
            assertThat(bound.getAddress().isLoopbackAddress()).isTrue();
        } finally {
            server.shutdownNow();
            serving.close();
            d.close();
        }
    }

    @Test
    void theDaemonServesCriOverTcp() throws Exception {
        // Port 0 would be a different port for the client: take a free one first.
        int port;
        try (var s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Daemon d = daemon();
        ManagedChannel c = CriTransports.channel(new CriEndpoint.Tcp("", port));
        try {
            d.serve(new CriEndpoint.Tcp("", port));
            assertThat(RuntimeServiceGrpc.newBlockingStub(c).version(VersionRequest.getDefaultInstance())
                    .getRuntimeName()).isEqualTo("berth");
        } finally {
            c.shutdownNow();
            d.close();
        }
    }

    @Test
    void onlyANonLoopbackTcpAddressIsWarnedAbout() {
        assertThat(CriTransports.exposureWarning(new CriEndpoint.Tcp("", 1))).isEmpty();
        assertThat(CriTransports.exposureWarning(new CriEndpoint.Tcp("127.0.0.1", 1))).isEmpty();
        assertThat(CriTransports.exposureWarning(new CriEndpoint.Tcp("::1", 1))).isEmpty();
        assertThat(CriTransports.exposureWarning(new CriEndpoint.Tcp("0.0.0.0", 10010)))
                .hasValueSatisfying(w -> assertThat(w).contains("tcp://0.0.0.0:10010").contains("without TLS"));
        assertThat(CriTransports.exposureWarning(new CriEndpoint.Tcp("10.1.2.3", 1))).isPresent();
    }

    @Test
    void aNamedPipeOffWindowsIsRefusedSayingSo() throws Exception {
        Daemon d = daemon();
        try {
            assertThatThrownBy(() -> d.serve(new CriEndpoint.NamedPipe("\\\\.\\pipe\\berth-test")))
                    .isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining("only on Windows");
        } finally {
            d.close();
        }
        assertThatThrownBy(() -> NamedPipes.dialer("\\\\.\\pipe\\berth-test"))
                .isInstanceOf(UnsupportedOperationException.class);
    }
}
