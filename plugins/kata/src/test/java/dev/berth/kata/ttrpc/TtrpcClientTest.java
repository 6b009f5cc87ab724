package dev.berth.kata.ttrpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import com.google.protobuf.StringValue;
import dev.berth.kata.proto.rpc.Status;
import dev.berth.kata.proto.ttrpc.Request;
import dev.berth.kata.proto.ttrpc.Response;
import dev.berth.spi.BackendException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ttrpc client and server against each other, and the client against a misbehaving raw peer. */
class TtrpcClientTest {
    private static final Duration LONG = Duration.ofSeconds(20);
    @TempDir
    Path dir;
    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final CountDownLatch release = new CountDownLatch(1);

    @AfterEach
    void tearDown() throws Exception {
        release.countDown();
        for (AutoCloseable c : closeables.reversed()) {
            c.close();
        }
    }

    private TtrpcServer echoServer(Map<String, String> seenMetadata) throws IOException {
        Map<String, TtrpcServer.Handler> h = new HashMap<>();
        h.put("test.Echo/Say", req -> {
            req.getMetadataList().forEach(kv -> seenMetadata.put(kv.getKey(), kv.getValue()));
            String text = StringValue.parseFrom(req.getPayload()).getValue();
            return StringValue.of("echo: " + text).toByteArray();
        });
        h.put("test.Echo/Fail", req -> {
            throw new TtrpcException(TtrpcException.NOT_FOUND, "container not created: not found");
        });
        h.put("test.Echo/Hang", req -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new byte[0];
        });
        TtrpcServer s = TtrpcServer.start(dir.resolve("s.sock"), h);
        closeables.add(s);
        return s;
    }

    private TtrpcClient client(Path socket) throws TtrpcException {
        TtrpcClient c = TtrpcClient.connect(socket, Map.of("containerd-namespace-ttrpc", "berth"));
        closeables.add(c);
        return c;
    }

    private static String say(TtrpcClient c, String text, Duration timeout) throws TtrpcException {
        return c.call("test.Echo", "Say", StringValue.of(text), StringValue.parser(), timeout).getValue();
    }

    @Test
    void normalCallCarriesPayloadAndMetadata() throws Exception {
        Map<String, String> seen = new ConcurrentHashMap<>();
        TtrpcServer s = echoServer(seen);
        TtrpcClient c = client(s.socket());
        assertThat(say(c, "hi", LONG)).isEqualTo("echo: hi");
        assertThat(say(c, "again", LONG)).isEqualTo("echo: again");
        assertThat(seen).containsEntry("containerd-namespace-ttrpc", "berth");
    }

    @Test
    void concurrentCallsShareOneConnection() throws Exception {
        TtrpcServer s = echoServer(new ConcurrentHashMap<>());
        TtrpcClient c = client(s.socket());
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<String>> answers = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                String text = "n" + i;
                answers.add(pool.submit(() -> say(c, text, LONG)));
            }
            for (int i = 0; i < 50; i++) {
                assertThat(answers.get(i).get(30, TimeUnit.SECONDS)).isEqualTo("echo: n" + i);
            }
        }
    }

    @Test
    void errorStatusBecomesExceptionWithMappedKind() throws Exception {
        TtrpcServer s = echoServer(new ConcurrentHashMap<>());
        TtrpcClient c = client(s.socket());
        assertThatThrownBy(() -> c.call("test.Echo", "Fail", Empty.getDefaultInstance(), Empty.parser(), LONG))
                .isInstanceOfSatisfying(TtrpcException.class, e -> {
                    assertThat(e.code()).isEqualTo(TtrpcException.NOT_FOUND);
                    BackendException b = e.toBackend("stop container", "abc");
                    assertThat(b.kind()).isEqualTo(BackendException.Kind.NOT_FOUND);
                    assertThat(b.getMessage()).isEqualTo(
                            "failed to stop container \"abc\": container not created: not found");
                });
        assertThatThrownBy(() -> c.call("test.Echo", "Nope", Empty.getDefaultInstance(), Empty.parser(), LONG))
                .isInstanceOfSatisfying(TtrpcException.class,
                        e -> assertThat(e.code()).isEqualTo(TtrpcException.UNIMPLEMENTED));
        assertThatThrownBy(() -> c.call("other.Svc", "X", Empty.getDefaultInstance(), Empty.parser(), LONG))
                .isInstanceOfSatisfying(TtrpcException.class, e -> {
                    assertThat(e.code()).isEqualTo(TtrpcException.UNIMPLEMENTED);
                    assertThat(e.toBackend("x", "y").kind()).isEqualTo(BackendException.Kind.UNIMPLEMENTED);
                });
        assertThat(say(c, "still fine", LONG)).isEqualTo("echo: still fine");
    }

    @Test
    void hangingCallHitsItsDeadlineWhileOtherCallsContinue() throws Exception {
        TtrpcServer s = echoServer(new ConcurrentHashMap<>());
        TtrpcClient c = client(s.socket());
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<?> hung = pool.submit(() -> c.call("test.Echo", "Hang", Empty.getDefaultInstance(),
                    Empty.parser(), Duration.ofMillis(300)));
            assertThat(say(c, "meanwhile", LONG)).isEqualTo("echo: meanwhile");
            assertThatThrownBy(() -> hung.get(30, TimeUnit.SECONDS)).cause()
                    .isInstanceOfSatisfying(TtrpcException.class, e -> {
                        assertThat(e.code()).isEqualTo(TtrpcException.DEADLINE_EXCEEDED);
                        assertThat(e.toBackend("wait for container", "c").kind())
                                .isEqualTo(BackendException.Kind.DEADLINE_EXCEEDED);
                    });
        }
        assertThat(say(c, "after", LONG)).isEqualTo("echo: after");
        release.countDown(); // the late answer to the expired call must be dropped quietly
        assertThat(say(c, "late answer dropped", LONG)).isEqualTo("echo: late answer dropped");
    }

    @Test
    void interruptingACallerCancelsOnlyThatCall() throws Exception {
        TtrpcServer s = echoServer(new ConcurrentHashMap<>());
        TtrpcClient c = client(s.socket());
        // Interrupts landing before, during and after the caller's send: with callers writing to the socket
        // themselves, any of them closed the shared channel (ClosedByInterruptException).
        for (int i = 0; i < 50; i++) {
            String text = "interrupted " + i;
            Thread caller = Thread.ofPlatform().start(() -> {
                Thread.currentThread().interrupt();
                try {
                    say(c, text, LONG);
                } catch (Exception expected) {
                    // CANCELLED, or an answer that arrived first: either is fine
                }
            });
            caller.join();
            Thread hung = Thread.ofPlatform().start(() -> {
                try {
                    c.call("test.Echo", "Hang", Empty.getDefaultInstance(), Empty.parser(), LONG);
                } catch (TtrpcException expected) {
                    // cancelled by the interrupt below
                }
            });
            hung.interrupt();
            hung.join();
        }
        assertThat(c.isOpen()).as("the connection survives its callers' interrupts").isTrue();
        assertThat(say(c, "still connected", LONG)).isEqualTo("echo: still connected");
    }

    @Test
    void oversizedRequestIsRefusedBeforeSending() throws Exception {
        TtrpcServer s = echoServer(new ConcurrentHashMap<>());
        TtrpcClient c = client(s.socket());
        StringValue huge = StringValue.of("x".repeat(Frame.MAX_DATA + 1));
        assertThatThrownBy(() -> c.call("test.Echo", "Say", huge, StringValue.parser(), LONG))
                .isInstanceOfSatisfying(TtrpcException.class,
                        e -> assertThat(e.code()).isEqualTo(TtrpcException.RESOURCE_EXHAUSTED));
        assertThat(say(c, "small", LONG)).isEqualTo("echo: small");
    }

    /** A peer that reads request frames and answers each according to {@code script}. */
    private Path rawPeer(Consumer<RawConn> script) throws IOException {
        Path sock = dir.resolve("raw.sock");
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(sock));
        closeables.add(server);
        Thread.ofVirtual().start(() -> {
            try (SocketChannel conn = server.accept()) {
                script.accept(new RawConn(conn));
            } catch (IOException | java.io.UncheckedIOException e) {
                // the client went away: the script is over
            }
        });
        return sock;
    }

    record RawConn(SocketChannel ch) {
        Frame next() {
            try {
                return Frame.readFrom(ch);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        void send(Frame f) {
            try {
                f.writeTo(ch);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        void sendRaw(ByteBuffer b) {
            try {
                while (b.hasRemaining()) {
                    ch.write(b);
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        void answer(int stream, String text) {
            send(Frame.of(stream, Frame.TYPE_RESPONSE, Response.newBuilder().setStatus(Status.newBuilder())
                    .setPayload(StringValue.of(text).toByteString()).build().toByteArray()));
        }
    }

    @Test
    void garbledResponseFailsThatCallOnly() throws Exception {
        Path sock = rawPeer(conn -> {
            Frame first = conn.next();
            assertThat(first.streamId() % 2).isEqualTo(1);
            assertThat(first.type()).isEqualTo(Frame.TYPE_REQUEST);
            // A Response frame whose body is not a protobuf message at all.
            conn.send(Frame.of(first.streamId(), Frame.TYPE_RESPONSE, new byte[] {(byte) 0xff, (byte) 0xff, 0x07}));
            Frame second = conn.next();
            assertThat(second.streamId()).isEqualTo(first.streamId() + 2);
            conn.answer(second.streamId(), "ok");
            conn.next(); // wait for the client to go
        });
        TtrpcClient c = client(sock);
        assertThatThrownBy(() -> say(c, "a", LONG)).isInstanceOfSatisfying(TtrpcException.class, e -> {
            assertThat(e.code()).isEqualTo(TtrpcException.INTERNAL);
            assertThat(e.getMessage()).contains("malformed ttrpc response");
        });
        assertThat(say(c, "b", LONG)).isEqualTo("ok");
    }

    @Test
    void oversizedResponseIsDiscardedAndTheConnectionStaysUsable() throws Exception {
        Path sock = rawPeer(conn -> {
            Frame first = conn.next();
            int len = Frame.MAX_DATA + 10;
            ByteBuffer b = ByteBuffer.allocate(Frame.HEADER_SIZE + len);
            b.putInt(len).putInt(first.streamId()).put(Frame.TYPE_RESPONSE).put((byte) 0).position(b.capacity()).flip();
            conn.sendRaw(b);
            Frame second = conn.next();
            conn.answer(second.streamId(), "small again");
            conn.next();
        });
        TtrpcClient c = client(sock);
        assertThatThrownBy(() -> say(c, "a", LONG)).isInstanceOfSatisfying(TtrpcException.class,
                e -> assertThat(e.code()).isEqualTo(TtrpcException.RESOURCE_EXHAUSTED));
        assertThat(say(c, "b", LONG)).isEqualTo("small again");
    }

    @Test
    void corruptHeaderDropsTheConnection() throws Exception {
        Path sock = rawPeer(conn -> {
            conn.next();
            ByteBuffer b = ByteBuffer.allocate(Frame.HEADER_SIZE);
            b.putInt(0xfffffff0).putInt(1).put((byte) 9).put((byte) 0).flip();
            conn.sendRaw(b);
            conn.next();
        });
        TtrpcClient c = client(sock);
        assertThatThrownBy(() -> say(c, "a", LONG)).isInstanceOfSatisfying(TtrpcException.class,
                e -> assertThat(e.code()).isEqualTo(TtrpcException.UNAVAILABLE));
        assertThat(c.isOpen()).isFalse();
    }

    @Test
    void connectionLossFailsPendingAndLaterCalls() throws Exception {
        CountDownLatch gotRequest = new CountDownLatch(1);
        Path sock = rawPeer(conn -> {
            conn.next();
            gotRequest.countDown();
            // return: the peer closes the socket without answering
        });
        TtrpcClient c = client(sock);
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<String> pendingCall = pool.submit(() -> say(c, "never answered", LONG));
            assertThat(gotRequest.await(20, TimeUnit.SECONDS)).isTrue();
            assertThatThrownBy(() -> pendingCall.get(30, TimeUnit.SECONDS)).cause()
                    .isInstanceOfSatisfying(TtrpcException.class, e -> {
                        assertThat(e.code()).isEqualTo(TtrpcException.UNAVAILABLE);
                        assertThat(e.toBackend("start container", "x").kind())
                                .isEqualTo(BackendException.Kind.UNAVAILABLE);
                    });
        }
        assertThat(c.isOpen()).isFalse();
        assertThatThrownBy(() -> say(c, "later", LONG)).isInstanceOfSatisfying(TtrpcException.class,
                e -> assertThat(e.code()).isEqualTo(TtrpcException.UNAVAILABLE));
    }

    @Test
    void thePeerGoingAwayIsHeardOnceWithoutACallAndTheClientsOwnCloseIsNot() throws Exception {
        CountDownLatch peerMayGo = new CountDownLatch(1);
        Path sock = rawPeer(conn -> {
            try {
                peerMayGo.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            // return: the peer closes the socket; no call is pending
        });
        java.util.concurrent.BlockingQueue<String> heard = new java.util.concurrent.LinkedBlockingQueue<>();
        TtrpcClient c = TtrpcClient.connect(sock, Map.of(), heard::add);
        closeables.add(c);
        assertThat(heard.poll(200, TimeUnit.MILLISECONDS)).as("nothing while the peer is there").isNull();
        peerMayGo.countDown();
        assertThat(heard.poll(20, TimeUnit.SECONDS)).as("the peer's close, heard without a call").isNotNull();
        assertThat(c.isOpen()).isFalse();
        c.close();
        assertThat(heard.poll(200, TimeUnit.MILLISECONDS)).as("heard once").isNull();

        TtrpcServer s = echoServer(new ConcurrentHashMap<>());
        TtrpcClient mine = TtrpcClient.connect(s.socket(), Map.of(), heard::add);
        assertThat(say(mine, "x", LONG)).isEqualTo("echo: x");
        mine.close();
        assertThat(heard.poll(500, TimeUnit.MILLISECONDS)).as("the client's own close is no news").isNull();
    }

    @Test
    void serverAnswersOversizedAndGarbledRequestsAndKeepsServing() throws Exception {
        TtrpcServer s = echoServer(new ConcurrentHashMap<>());
        try (SocketChannel raw = SocketChannel.open(UnixDomainSocketAddress.of(s.socket()))) {
            int len = Frame.MAX_DATA + 1;
            ByteBuffer b = ByteBuffer.allocate(Frame.HEADER_SIZE + len);
            b.putInt(len).putInt(1).put(Frame.TYPE_REQUEST).put((byte) 0).position(b.capacity()).flip();
            while (b.hasRemaining()) {
                raw.write(b);
            }
            Frame answer = Frame.readFrom(raw);
            assertThat(answer.streamId()).isEqualTo(1);
            assertThat(Response.parseFrom(answer.data()).getStatus().getCode()).isEqualTo(TtrpcException.RESOURCE_EXHAUSTED);

            Frame.of(3, Frame.TYPE_REQUEST, new byte[] {(byte) 0xff, 0x01}).writeTo(raw);
            Frame garbled = Frame.readFrom(raw);
            assertThat(garbled.streamId()).isEqualTo(3);
            assertThat(Response.parseFrom(garbled.data()).getStatus().getCode()).isEqualTo(TtrpcException.INVALID_ARGUMENT);

            Frame.of(5, Frame.TYPE_REQUEST, Request.newBuilder().setService("test.Echo").setMethod("Say")
                    .setPayload(StringValue.of("raw").toByteString()).build().toByteArray()).writeTo(raw);
            Response ok = Response.parseFrom(Frame.readFrom(raw).data());
            assertThat(ok.getStatus().getCode()).isZero();
            assertThat(StringValue.parseFrom(ok.getPayload()).getValue()).isEqualTo("echo: raw");
        }
    }

    @Test
    void connectingToNothingIsUnavailable() {
        assertThatThrownBy(() -> TtrpcClient.connect(dir.resolve("absent.sock"), Map.of()))
                .isInstanceOfSatisfying(TtrpcException.class,
                        e -> assertThat(e.code()).isEqualTo(TtrpcException.UNAVAILABLE));
    }

    @Test
    void frameHeaderIsTenBytesBigEndian() throws Exception {
        var out = new java.io.ByteArrayOutputStream();
        Frame.of(0x01020305, Frame.TYPE_REQUEST, new byte[] {42, 43}).writeTo(java.nio.channels.Channels.newChannel(out));
        assertThat(out.toByteArray()).containsExactly(0, 0, 0, 2, 1, 2, 3, 5, 1, 0, 42, 43);
        Frame back = Frame.readFrom(java.nio.channels.Channels.newChannel(
                new java.io.ByteArrayInputStream(out.toByteArray())));
        assertThat(back.streamId()).isEqualTo(0x01020305);
        assertThat(back.data()).containsExactly(42, 43);
        assertThat(Request.newBuilder().setPayload(ByteString.EMPTY).build()).isNotNull();
    }
}
