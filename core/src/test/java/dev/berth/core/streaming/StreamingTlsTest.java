package dev.berth.core.streaming;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.spi.testing.HostRequirements;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The streaming server with a certificate and key from its settings; the test makes them with openssl. */
@Timeout(120)
class StreamingTlsTest {

    @TempDir
    Path dir;

    private final FakeTargets backend = new FakeTargets();
    private EventLoopGroup group;
    private StreamingServer server;
    private SslContext client;

    @BeforeEach
    void setUp() throws Exception {
        Path openssl = Path.of("/usr/bin/openssl");
        HostRequirements.require(Files.isExecutable(openssl), "openssl, which makes the test certificate, is not "
                + "installed");
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        Process p = new ProcessBuilder(openssl.toString(), "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                "-keyout", key.toString(), "-out", cert.toString(), "-days", "1", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        server = new StreamingServer(StreamingSettings.defaults().withTls(cert, key), backend);
        server.start();
        client = SslContextBuilder.forClient().trustManager(cert.toFile()).build();
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    }

    @AfterEach
    void tearDown() {
        if (server != null) {
            server.close();
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void spdyAndWebSocketExecOverTls() throws Exception {
        assertThat(server.baseUrl().getScheme()).isEqualTo("https");
        URI spdyUrl = server.execUrl("c1", List.of("cat"), false, true, true, false);
        try (SpdyTestClient c = SpdyTestClient.connect(group, spdyUrl, List.of("v4.channel.k8s.io"), client, 0)) {
            int error = c.open("error");
            int stdin = c.open("stdin");
            int stdout = c.open("stdout");
            c.awaitReplies(error, stdin, stdout);
            c.send(stdin, "over tls", true);
            assertThat(c.inbox.awaitEnd(stdout)).isEqualTo("over tls");
            assertThat(new ObjectMapper().readTree(c.inbox.awaitEnd(error)).path("status").asText())
                    .isEqualTo("Success");
        }
        URI wsUrl = server.execUrl("c1", List.of("exit", "4"), false, false, true, true);
        try (WsTestClient c = WsTestClient.connect(group, wsUrl, "v5.channel.k8s.io", client)) {
            assertThat(c.awaitHandshake()).isEqualTo("v5.channel.k8s.io");
            c.awaitClosed();
            assertThat(c.inbox.text(KubeProtocol.CH_STDOUT)).isEqualTo("out\n");
            assertThat(new ObjectMapper().readTree(c.inbox.text(KubeProtocol.CH_ERROR)).path("details")
                    .path("causes").path(0).path("message").asText()).isEqualTo("4");
        }
    }
}
