package dev.berth.core.streaming;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.spi.BackendException;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

@Timeout(120)
class StreamingServerTest {

    private static final List<String> CLIENT_GO_PROTOCOLS =
            List.of("v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io");
    private static final ObjectMapper JSON = new ObjectMapper();

    private static EventLoopGroup group;

    private final FakeTargets backend = new FakeTargets();
    private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
    private StreamingServer server;

    @BeforeAll
    static void clients() {
        group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    }

    @AfterAll
    static void stopClients() {
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    private StreamingServer start(StreamingSettings settings) {
        server = new StreamingServer(settings, backend, now::get);
        server.start();
        return server;
    }

    private StreamingServer start() {
        return start(StreamingSettings.defaults());
    }

    @AfterEach
    void stop() {
        backend.exitContainer();
        backend.stallRelease.countDown();
        if (server != null) {
            server.close();
        }
    }

    @Test
    void spdyExecReportsNonZeroExitCodeAsV4Status() throws Exception {
        start();
        URI url = server.execUrl("c1", List.of("exit", "3"), false, false, true, true);
        assertThat(url.toString()).startsWith(server.baseUrl() + "/exec/");
        try (SpdyTestClient c = SpdyTestClient.connect(group, url, CLIENT_GO_PROTOCOLS)) {
            assertThat(c.awaitResponse().status().code()).isEqualTo(101);
            assertThat(c.protocol()).isEqualTo("v4.channel.k8s.io");
            int error = c.open("error");
            int stdout = c.open("stdout");
            int stderr = c.open("stderr");
            JsonNode status = JSON.readTree(c.inbox.awaitEnd(error));
            assertThat(c.inbox.finished(error)).as("error stream FIN").isTrue();
            assertThat(c.inbox.text(stdout)).isEqualTo("out\n");
            assertThat(c.inbox.text(stderr)).isEqualTo("err\n");
            assertThat(c.inbox.finished(stdout)).isTrue();
            assertThat(status.path("status").asText()).isEqualTo("Failure");
            assertThat(status.path("reason").asText()).isEqualTo("NonZeroExitCode");
            JsonNode cause = status.path("details").path("causes").path(0);
            assertThat(cause.path("reason").asText()).isEqualTo("ExitCode");
            assertThat(cause.path("message").asText()).isEqualTo("3");
            c.inbox.await("GOAWAY", () -> c.goAway);
        }
    }

    @Test
    void spdyExecPipesStdinAndReportsSuccess() throws Exception {
        start();
        URI url = server.execUrl("c1", List.of("cat"), false, true, true, false);
        try (SpdyTestClient c = SpdyTestClient.connect(group, url,
                List.of("v5.channel.k8s.io", "v4.channel.k8s.io"))) {
            assertThat(c.protocol()).isEqualTo("v5.channel.k8s.io");
            int error = c.open("error");
            int stdin = c.open("stdin");
            int stdout = c.open("stdout");
            c.awaitReplies(error, stdin, stdout);
            c.send(stdin, "hello ", false);
            c.send(stdin, "world\n", true);
            assertThat(c.inbox.awaitEnd(stdout)).isEqualTo("hello world\n");
            JsonNode status = JSON.readTree(c.inbox.awaitEnd(error));
            assertThat(status.path("status").asText()).isEqualTo("Success");
        }
    }

    @Test
    void spdyStdinLargerThanTheBufferArrivesWhole() throws Exception {
        start(StreamingSettings.defaults().withMaxBufferedBytes(32 * 1024));
        URI url = server.execUrl("c1", List.of("cat"), false, true, true, false);
        try (SpdyTestClient c = SpdyTestClient.connect(group, url, CLIENT_GO_PROTOCOLS)) {
            int error = c.open("error");
            int stdin = c.open("stdin");
            int stdout = c.open("stdout");
            byte[] chunk = new byte[8192];
            java.util.Arrays.fill(chunk, (byte) 'x');
            for (int i = 0; i < 256; i++) { // 2 MiB
                c.send(stdin, chunk, false);
            }
            c.fin(stdin);
            c.inbox.awaitEnd(error);
            assertThat(c.inbox.count(stdout)).isEqualTo(256L * 8192);
            assertThat(server.stats().peakBufferedBytes()).isLessThanOrEqualTo(32 * 1024 + 16 * 1024);
            // The byte counters of the metrics: every stdin byte in, at least every stdout byte out.
            assertThat(server.stats().bytesReceived()).isEqualTo(256L * 8192);
            assertThat(server.stats().bytesSent()).isGreaterThanOrEqualTo(256L * 8192);
        }
    }

    @Test
    void clientInputWaitsForASlowBackendWithoutPilingUp() throws Exception {
        int limit = 32 * 1024;
        start(StreamingSettings.defaults().withMaxBufferedBytes(limit));
        URI url = server.execUrl("c1", List.of("stall"), false, true, true, false);
        try (SpdyTestClient c = SpdyTestClient.connect(group, url, CLIENT_GO_PROTOCOLS)) {
            int error = c.open("error");
            int stdin = c.open("stdin");
            int stdout = c.open("stdout");
            c.inbox.countOnly(stdout);
            byte[] chunk = new byte[8192];
            int chunks = 512; // 4 MiB against a backend that reads nothing yet
            Thread sender = Thread.ofVirtual().start(() -> {
                for (int i = 0; i < chunks; i++) {
                    c.send(stdin, chunk, false);
                }
                c.fin(stdin);
            });
            c.inbox.await("the server to stop reading", () -> server.stats().readPauses() > 0);
            // the pipe holds at most its capacity plus what one socket read delivered
            assertThat(server.stats().peakInboundBytes()).isLessThanOrEqualTo(limit + 64 * 1024 + 8192);
            backend.stallRelease.countDown();
            c.inbox.awaitEnd(error);
            sender.join();
            assertThat(c.inbox.count(stdout)).isEqualTo((long) chunks * chunk.length);
            assertThat(server.stats().peakInboundBytes()).isLessThanOrEqualTo(limit + 64 * 1024 + 8192);
        }
    }

    @Test
    void webSocketInputWaitsForASlowBackendToo() throws Exception {
        int limit = 32 * 1024;
        start(StreamingSettings.defaults().withMaxBufferedBytes(limit));
        URI url = server.execUrl("c1", List.of("stall"), false, true, true, false);
        try (WsTestClient c = WsTestClient.connect(group, url, "v5.channel.k8s.io")) {
            c.awaitHandshake();
            c.inbox.countOnly(KubeProtocol.CH_STDOUT);
            byte[] chunk = new byte[8192];
            int chunks = 512;
            Thread sender = Thread.ofVirtual().start(() -> {
                for (int i = 0; i < chunks; i++) {
                    c.send(KubeProtocol.CH_STDIN, chunk);
                }
                c.closeChannel(KubeProtocol.CH_STDIN);
            });
            c.inbox.await("the server to stop reading", () -> server.stats().readPauses() > 0);
            assertThat(server.stats().peakInboundBytes()).isLessThanOrEqualTo(limit + 64 * 1024 + 8192);
            backend.stallRelease.countDown();
            c.awaitClosed();
            sender.join();
            assertThat(c.inbox.count(KubeProtocol.CH_STDOUT)).isEqualTo((long) chunks * chunk.length);
            assertThat(server.stats().peakInboundBytes()).isLessThanOrEqualTo(limit + 64 * 1024 + 8192);
        }
    }

    @Test
    void spdyTtyResizeReachesTheBackend() throws Exception {
        start();
        URI url = server.execUrl("c1", List.of("sizes", "2"), true, true, true, false);
        try (SpdyTestClient c = SpdyTestClient.connect(group, url, CLIENT_GO_PROTOCOLS)) {
            int error = c.open("error");
            int stdin = c.open("stdin");
            int stdout = c.open("stdout");
            int resize = c.open("resize");
            c.awaitReplies(error, stdin, stdout, resize);
            c.send(resize, "{\"Width\":100,\"Height\":40}", false);
            c.send(resize, "{\"Width\":120,\"Height\":50}\n", false);
            assertThat(c.inbox.awaitEnd(stdout)).isEqualTo("100x40\n120x50\n");
            assertThat(JSON.readTree(c.inbox.awaitEnd(error)).path("status").asText()).isEqualTo("Success");
        }
    }

    @Test
    void spdyLegacyProtocolGetsPlainErrorText() throws Exception {
        start();
        URI url = server.execUrl("c1", List.of("exit", "7"), false, false, true, false);
        try (SpdyTestClient c = SpdyTestClient.connect(group, url, List.of("v3.channel.k8s.io"))) {
            assertThat(c.protocol()).isEqualTo("v3.channel.k8s.io");
            int error = c.open("error");
            c.open("stdout");
            assertThat(c.inbox.awaitEnd(error)).contains("non-zero exit code").contains("7");
        }
    }

    @Test
    void spdyUnknownContainerReportsFailureStatus() throws Exception {
        start();
        URI url = server.execUrl("missing", List.of("cat"), false, false, true, false);
        try (SpdyTestClient c = SpdyTestClient.connect(group, url, CLIENT_GO_PROTOCOLS)) {
            int error = c.open("error");
            c.open("stdout");
            JsonNode status = JSON.readTree(c.inbox.awaitEnd(error));
            assertThat(status.path("status").asText()).isEqualTo("Failure");
            assertThat(status.path("message").asText()).contains("\"missing\" not found");
        }
    }

    @Test
    void spdyUnsupportedProtocolIsForbidden() throws Exception {
        start();
        URI url = server.execUrl("c1", List.of("cat"), false, false, true, false);
        try (SpdyTestClient c = SpdyTestClient.connect(group, url, List.of("v9.channel.k8s.io"))) {
            assertThat(c.awaitResponse().status().code()).isEqualTo(403);
        }
    }

    @Test
    void attachServesSeveralClientsAtOnce() throws Exception {
        start();
        URI first = server.attachUrl("c1", false, false, true, true);
        URI second = server.attachUrl("c1", false, false, true, true);
        try (SpdyTestClient a = SpdyTestClient.connect(group, first, CLIENT_GO_PROTOCOLS);
             WsTestClient b = WsTestClient.connect(group, second, "v5.channel.k8s.io")) {
            int error = a.open("error");
            int stdout = a.open("stdout");
            a.open("stderr");
            assertThat(b.awaitHandshake()).isEqualTo("v5.channel.k8s.io");
            a.inbox.await("two attached clients", () -> backend.attached.size() == 2);
            backend.broadcast("hello\n");
            assertThat(a.inbox.awaitText(stdout, "hello\n")).isEqualTo("hello\n");
            assertThat(b.inbox.awaitText(KubeProtocol.CH_STDOUT, "hello\n")).isEqualTo("hello\n");
            backend.exitContainer();
            assertThat(JSON.readTree(a.inbox.awaitEnd(error)).path("status").asText()).isEqualTo("Success");
            b.inbox.await("status on the error channel", () -> b.inbox.count(KubeProtocol.CH_ERROR) > 0);
            assertThat(JSON.readTree(b.inbox.text(KubeProtocol.CH_ERROR)).path("status").asText())
                    .isEqualTo("Success");
            b.awaitClosed();
            assertThat(b.closeStatus).isEqualTo(1000);
        }
    }

    @Test
    void spdyPortForwardCarriesDataBothWays() throws Exception {
        start();
        try (EchoServer echo = new EchoServer()) {
            URI url = server.portForwardUrl("pod1", List.of(echo.port()));
            try (SpdyTestClient c = SpdyTestClient.connect(group, url, List.of("portforward.k8s.io"))) {
                assertThat(c.protocol()).isEqualTo("portforward.k8s.io");
                String port = Integer.toString(echo.port());
                int error = c.open(Map.of("streamType", "error", "port", port, "requestID", "0"));
                int data = c.open(Map.of("streamType", "data", "port", port, "requestID", "0"));
                byte[] payload = new byte[1 << 20];
                new java.util.Random(7).nextBytes(payload);
                for (int off = 0; off < payload.length; off += 8192) {
                    c.send(data, java.util.Arrays.copyOfRange(payload, off, off + 8192), false);
                }
                c.fin(data);
                c.inbox.await("echo FIN", () -> c.inbox.finished(data));
                assertThat(c.inbox.bytes(data)).isEqualTo(payload);
                c.inbox.await("error stream FIN", () -> c.inbox.finished(error));
                assertThat(c.inbox.text(error)).isEmpty();
                assertThat(backend.forwardedSandboxes).containsExactly("pod1");

                // a second forward on the same connection, to a port nothing listens on
                int error2 = c.open(Map.of("streamType", "error", "port", port, "requestID", "1"));
                int data2 = c.open(Map.of("streamType", "data", "port", port, "requestID", "1"));
                c.send(data2, "ping", false);
                assertThat(c.inbox.awaitText(data2, "ping")).isEqualTo("ping");
                c.fin(data2);
                c.inbox.await("second forward done", () -> c.inbox.finished(error2));
            }
        }
    }

    @Test
    void spdyPortForwardReportsConnectFailureOnErrorStream() throws Exception {
        start();
        int closedPort;
        try (EchoServer gone = new EchoServer()) {
            closedPort = gone.port();
        }
        URI url = server.portForwardUrl("pod1", List.of());
        try (SpdyTestClient c = SpdyTestClient.connect(group, url, List.of("portforward.k8s.io"))) {
            String port = Integer.toString(closedPort);
            int error = c.open(Map.of("streamType", "error", "port", port, "requestID", "0"));
            c.open(Map.of("streamType", "data", "port", port, "requestID", "0"));
            c.inbox.await("error stream FIN", () -> c.inbox.finished(error));
            assertThat(c.inbox.text(error)).contains("port " + closedPort).contains("pod1");
        }
    }

    @Test
    void webSocketV5ExecWithStdinCloseSignalAndExitCode() throws Exception {
        start();
        URI cat = server.execUrl("c1", List.of("cat"), false, true, true, true);
        try (WsTestClient c = WsTestClient.connect(group, cat, "v5.channel.k8s.io,v4.channel.k8s.io")) {
            assertThat(c.awaitHandshake()).isEqualTo("v5.channel.k8s.io");
            c.send(KubeProtocol.CH_STDIN, "abc");
            c.send(KubeProtocol.CH_STDIN, "def");
            c.closeChannel(KubeProtocol.CH_STDIN);
            c.awaitClosed();
            assertThat(c.inbox.text(KubeProtocol.CH_STDOUT)).isEqualTo("abcdef");
            assertThat(JSON.readTree(c.inbox.text(KubeProtocol.CH_ERROR)).path("status").asText())
                    .isEqualTo("Success");
        }
        URI exit = server.execUrl("c1", List.of("exit", "3"), false, false, true, true);
        try (WsTestClient c = WsTestClient.connect(group, exit, "v4.channel.k8s.io")) {
            assertThat(c.awaitHandshake()).isEqualTo("v4.channel.k8s.io");
            c.awaitClosed();
            assertThat(c.inbox.text(KubeProtocol.CH_STDOUT)).isEqualTo("out\n");
            assertThat(c.inbox.text(KubeProtocol.CH_STDERR)).isEqualTo("err\n");
            JsonNode status = JSON.readTree(c.inbox.text(KubeProtocol.CH_ERROR));
            assertThat(status.path("reason").asText()).isEqualTo("NonZeroExitCode");
            assertThat(status.path("details").path("causes").path(0).path("message").asText()).isEqualTo("3");
        }
    }

    @Test
    void webSocketTtyResize() throws Exception {
        start();
        URI url = server.execUrl("c1", List.of("sizes", "1"), true, true, true, false);
        try (WsTestClient c = WsTestClient.connect(group, url, "v5.channel.k8s.io")) {
            c.awaitHandshake();
            c.send(KubeProtocol.CH_RESIZE, "{\"Width\":33,\"Height\":11}");
            c.awaitClosed();
            assertThat(c.inbox.text(KubeProtocol.CH_STDOUT)).isEqualTo("33x11\n");
        }
    }

    @Test
    void webSocketPortForwardPrefixesPortsAndEchoes() throws Exception {
        start();
        try (EchoServer echo = new EchoServer()) {
            int port = echo.port();
            URI url = server.portForwardUrl("pod2", List.of(port));
            try (WsTestClient c = WsTestClient.connect(group, url, "v4.channel.k8s.io")) {
                assertThat(c.awaitHandshake()).isEqualTo("v4.channel.k8s.io");
                byte[] prefix = {(byte) (port & 0xff), (byte) (port >> 8)};
                c.inbox.await("port prefixes", () -> c.inbox.count(0) >= 2 && c.inbox.count(1) >= 2);
                assertThat(c.inbox.bytes(1)).isEqualTo(prefix);
                c.send(0, "hello over websocket");
                c.inbox.await("echo", () -> c.inbox.count(0) >= 2 + 20);
                byte[] got = c.inbox.bytes(0);
                assertThat(java.util.Arrays.copyOfRange(got, 0, 2)).isEqualTo(prefix);
                assertThat(new String(got, 2, got.length - 2, StandardCharsets.UTF_8))
                        .isEqualTo("hello over websocket");
            }
        }
    }

    @Test
    void reusedTokenIsNotFound() throws Exception {
        start();
        URI url = server.execUrl("c1", List.of("exit", "0"), false, false, true, false);
        try (SpdyTestClient c = SpdyTestClient.connect(group, url, CLIENT_GO_PROTOCOLS)) {
            int error = c.open("error");
            c.open("stdout");
            c.inbox.awaitEnd(error);
        }
        assertThat(statusOf(url, "SPDY/3.1")).startsWith("HTTP/1.1 404");
        assertThat(statusOf(url, "websocket")).startsWith("HTTP/1.1 404");
    }

    @Test
    void expiredTokenIsNotFoundAndUnknownTokensLeakNothing() throws Exception {
        start(StreamingSettings.defaults().withTokenTtl(Duration.ofSeconds(5)));
        URI expired = server.execUrl("c1", List.of("cat"), false, false, true, false);
        URI fresh = server.attachUrl("c1", false, false, true, false);
        now.set(now.get().plusSeconds(6));
        URI later = server.execUrl("c1", List.of("exit", "0"), false, false, true, false);
        String unknown = server.baseUrl() + "/exec/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        String reply = statusOf(expired, "SPDY/3.1");
        assertThat(reply).startsWith("HTTP/1.1 404");
        assertThat(statusOf(fresh, "SPDY/3.1")).startsWith("HTTP/1.1 404");
        assertThat(statusOf(URI.create(unknown), "SPDY/3.1")).isEqualTo(reply);
        // a valid token under the wrong path is refused and stays usable
        URI wrongKind = URI.create(later.toString().replace("/exec/", "/attach/"));
        assertThat(statusOf(wrongKind, "SPDY/3.1")).isEqualTo(reply);
        try (SpdyTestClient c = SpdyTestClient.connect(group, later, CLIENT_GO_PROTOCOLS)) {
            assertThat(c.awaitResponse().status().code()).isEqualTo(101);
        }
    }

    @Test
    void idleSessionIsClosed() throws Exception {
        start(StreamingSettings.defaults().withIdleTimeout(Duration.ofSeconds(8)));
        URI url = server.execUrl("c1", List.of("wait"), false, true, true, false);
        try (SpdyTestClient c = SpdyTestClient.connect(group, url, CLIENT_GO_PROTOCOLS)) {
            int error = c.open("error");
            int stdin = c.open("stdin");
            c.open("stdout");
            c.awaitReplies(error, stdin);
            c.awaitClosed(); // nobody speaks: the server closes the session
            c.inbox.await("backend to see the client go", () -> backend.waitsEnded.get() == 1);
            assertThat(server.stats().idleClosed()).isEqualTo(1);
        }
    }

    @Test
    void aConnectionWhoseFirstRequestDoesNotComeWholeIsClosed() throws Exception {
        // A header line now and then keeps the connection from being idle; the request's deadline still ends it.
        start(StreamingSettings.defaults().withIdleTimeout(Duration.ofSeconds(2)));
        URI base = URI.create(server.baseUrl().toString());
        try (java.net.Socket slow = new java.net.Socket(base.getHost(), base.getPort())) {
            slow.setSoTimeout(200);
            var out = slow.getOutputStream();
            out.write("GET /exec/AAAA HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
            long start = System.nanoTime();
            boolean closed = false;
            for (int i = 0; i < 100 && !closed; i++) {
                try {
                    out.write(("X-Slow-" + i + ": 1\r\n").getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    closed = slow.getInputStream().read() < 0;
                } catch (java.net.SocketTimeoutException e) {
                    // still open
                } catch (java.io.IOException e) {
                    closed = true;
                }
            }
            assertThat(closed).as("closed after " + Duration.ofNanos(System.nanoTime() - start)).isTrue();
        }
        assertThat(server.stats().rejected()).isEqualTo(1);
    }

    @Test
    void backendSeesTheClientGo() throws Exception {
        start();
        URI withStdin = server.execUrl("c1", List.of("wait"), false, true, true, false);
        URI withoutStdin = server.execUrl("c1", List.of("wait"), false, false, true, false);
        try (SpdyTestClient a = SpdyTestClient.connect(group, withStdin, CLIENT_GO_PROTOCOLS);
             WsTestClient b = WsTestClient.connect(group, withoutStdin, "v4.channel.k8s.io")) {
            int error = a.open("error");
            int stdin = a.open("stdin");
            a.open("stdout");
            a.awaitReplies(error, stdin);
            b.awaitHandshake();
            a.inbox.await("both sessions to start", () -> server.stats().sessionsStarted() == 2);
            a.close(); // stdin reaches EOF
            a.inbox.await("the first backend to finish", () -> backend.waitsEnded.get() == 1);
            b.close(); // no stdin: the backend thread is interrupted
            b.inbox.await("the second backend to finish", () -> backend.waitsEnded.get() == 2);
            assertThat(backend.waitsInterrupted.get()).isEqualTo(1);
            a.inbox.await("sessions to end", () -> server.stats().sessionsEnded() == 2);
        }
    }

    @Test
    void slowClientDoesNotMakeTheServerBuffer() throws Exception {
        int limit = 64 * 1024;
        long total = 32L << 20;
        start(StreamingSettings.defaults().withMaxBufferedBytes(limit));
        URI url = server.execUrl("c1", List.of("flood", Long.toString(total)), false, false, true, false);
        try (SpdyTestClient c = SpdyTestClient.connect(group, url, CLIENT_GO_PROTOCOLS, null, 64 * 1024)) {
            c.awaitResponse();
            int error = c.open("error");
            c.channel().config().setAutoRead(false); // stop reading before stdout exists
            int stdout = c.open("stdout");
            c.inbox.countOnly(stdout);
            // The backend's writes block once the socket buffers and the server's bound are full.
            c.inbox.await("the backend to block on a slow client", () -> server.stats().writerBlocks() > 0);
            long flooded = backend.flooded.get();
            assertThat(flooded).as("bytes the backend got rid of while nobody read").isLessThan(total);
            assertThat(server.stats().peakBufferedBytes()).isLessThanOrEqualTo(limit + 16 * 1024);

            c.channel().config().setAutoRead(true);
            c.channel().read();
            c.inbox.awaitEnd(error);
            assertThat(c.inbox.count(stdout)).isEqualTo(total);
            assertThat(server.stats().peakBufferedBytes()).isLessThanOrEqualTo(limit + 16 * 1024);
        }
    }

    @Test
    void invalidRequestsGetNoUrl() {
        start();
        assertThatThrownBy(() -> server.execUrl("c1", List.of("sh"), true, true, true, true))
                .isInstanceOf(BackendException.class).hasMessageContaining("tty and stderr")
                .extracting(e -> ((BackendException) e).kind()).isEqualTo(BackendException.Kind.INVALID_ARGUMENT);
        assertThatThrownBy(() -> server.attachUrl("c1", false, false, false, false))
                .isInstanceOf(BackendException.class).hasMessageContaining("one of stdin");
        assertThatThrownBy(() -> server.portForwardUrl("pod", List.of(70000)))
                .isInstanceOf(BackendException.class).hasMessageContaining("70000");
        assertThat(server.stats().rejected()).isZero();
    }

    @Test
    void pingsAreAnswered() throws Exception {
        start();
        URI url = server.portForwardUrl("pod1", List.of());
        try (SpdyTestClient c = SpdyTestClient.connect(group, url, List.of("portforward.k8s.io"))) {
            c.awaitResponse();
            c.ping(1);
            c.inbox.await("pong", () -> c.pongs.get() == 1);
        }
    }

    /** Sends an upgrade request by hand and returns the status line. */
    private static String statusOf(URI url, String upgrade) throws IOException {
        try (Socket s = new Socket(url.getHost(), url.getPort())) {
            s.setSoTimeout(30_000);
            String path = url.getRawPath() + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery());
            String req = "GET " + path + " HTTP/1.1\r\nHost: " + url.getHost() + "\r\nConnection: Upgrade\r\n"
                    + "Upgrade: " + upgrade + "\r\nSec-WebSocket-Version: 13\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n"
                    + "X-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n";
            OutputStream out = s.getOutputStream();
            out.write(req.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            String all = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return all.lines().findFirst().orElse("") + " | " + all.substring(all.indexOf("\r\n\r\n") + 4);
        }
    }
}
