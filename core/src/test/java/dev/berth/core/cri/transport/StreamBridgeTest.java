package dev.berth.core.cri.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** gRPC through the stream bridge over the in-memory stand-in for a named pipe. */
class StreamBridgeTest {
    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };
    private static final MethodDescriptor<byte[], byte[]> ECHO = method("Echo", MethodDescriptor.MethodType.UNARY);
    private static final MethodDescriptor<byte[], byte[]> HANG = method("Hang", MethodDescriptor.MethodType.UNARY);
    private static final MethodDescriptor<byte[], byte[]> COLLECT =
            method("Collect", MethodDescriptor.MethodType.CLIENT_STREAMING);

    private final CountDownLatch hangStarted = new CountDownLatch(1);
    private final CountDownLatch hangCancelled = new CountDownLatch(1);
    private InMemoryPipes pipes;
    private StreamBridge.Server bridge;
    private Server server;
    private final List<ManagedChannel> channels = new ArrayList<>();

    private static MethodDescriptor<byte[], byte[]> method(String name, MethodDescriptor.MethodType type) {
        return MethodDescriptor.<byte[], byte[]>newBuilder().setType(type)
                .setFullMethodName("test.Bridge/" + name).setRequestMarshaller(BYTES).setResponseMarshaller(BYTES)
                .build();
    }

    @BeforeEach
    void start() throws IOException {
        pipes = new InMemoryPipes(4096);
        bridge = new StreamBridge.Server();
        ServerServiceDefinition service = ServerServiceDefinition.builder("test.Bridge")
                .addMethod(ECHO, ServerCalls.asyncUnaryCall((req, obs) -> {
                    obs.onNext(req);
                    obs.onCompleted();
                }))
                .addMethod(HANG, ServerCalls.asyncUnaryCall((req, obs) -> {
                    ((ServerCallStreamObserver<byte[]>) obs).setOnCancelHandler(hangCancelled::countDown);
                    hangStarted.countDown();
                }))
                .addMethod(COLLECT, ServerCalls.asyncClientStreamingCall(obs -> new StreamObserver<byte[]>() {
                    private final ByteArrayOutputStream all = new ByteArrayOutputStream();

                    @Override
                    public void onNext(byte[] value) {
                        all.writeBytes(value);
                    }

                    @Override
                    public void onError(Throwable t) {}

                    @Override
                    public void onCompleted() {
                        obs.onNext(all.toByteArray());
                        obs.onCompleted();
                    }
                }))
                .build();
        server = bridge.builder().addService(service).build().start();
        bridge.start(pipes);
    }

    @AfterEach
    void stop() throws InterruptedException {
        channels.forEach(ManagedChannel::shutdownNow);
        server.shutdownNow();
        server.awaitTermination(10, TimeUnit.SECONDS);
        bridge.close();
    }

    private ManagedChannel channel() {
        ManagedChannel c = StreamBridge.channel(pipes);
        channels.add(c);
        return c;
    }

    private static byte[] echo(ManagedChannel c, byte[] request) {
        return ClientCalls.blockingUnaryCall(c, ECHO, CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS),
                request);
    }

    @Test
    void aCallGoesThroughTheBridgeAndBack() {
        ManagedChannel c = channel();
        assertThat(echo(c, "hello".getBytes())).asString().isEqualTo("hello");
        assertThat(pipes.serverEnds()).hasSize(1);
        assertThat(bridge.openConnections()).isEqualTo(1);
    }

    @Test
    void largeMessagesCrossInManySmallPumpRounds() {
        byte[] big = new byte[12 * 1024 * 1024];
        new Random(42).nextBytes(big);
        ManagedChannel c = channel();
        assertThat(echo(c, big)).isEqualTo(big);
        // Past CRI's limit the server refuses the message; the connection stays usable.
        assertThatThrownBy(() -> echo(c, new byte[17 * 1024 * 1024]))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
        assertThat(echo(c, "after".getBytes())).asString().isEqualTo("after");
    }

    @Test
    void aClientStreamEndsWithItsHalfClose() throws Exception {
        ManagedChannel c = channel();
        var answer = new java.util.concurrent.CompletableFuture<byte[]>();
        StreamObserver<byte[]> req = ClientCalls.asyncClientStreamingCall(c.newCall(COLLECT, CallOptions.DEFAULT),
                new StreamObserver<>() {
                    @Override
                    public void onNext(byte[] value) {
                        answer.complete(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        answer.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {}
                });
        req.onNext("a".getBytes());
        req.onNext("b".getBytes());
        req.onNext("c".getBytes());
        assertThat(answer).isNotDone();
        req.onCompleted();
        assertThat(answer.get(30, TimeUnit.SECONDS)).asString().isEqualTo("abc");
    }

    @Test
    void aClientThatGoesAwayMidCallCancelsTheCallAndFreesTheConnection() throws Exception {
        ManagedChannel c = channel();
        var call = c.newCall(HANG, CallOptions.DEFAULT);
        var result = ClientCalls.futureUnaryCall(call, new byte[0]);
        assertThat(hangStarted.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(bridge.openConnections()).isEqualTo(1);
        // The client process dies: its end of the pipe closes with no HTTP/2 goodbye.
        pipes.clientEnds().getFirst().close();
        assertThat(hangCancelled.await(30, TimeUnit.SECONDS)).isTrue();
        await(() -> bridge.openConnections() == 0);
        assertThat(pipes.serverEnds().getFirst().closed()).isTrue();
        assertThatThrownBy(() -> result.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(StatusRuntimeException.class)
                .cause().satisfies(e -> assertThat(((StatusRuntimeException) e).getStatus().getCode())
                        .isEqualTo(Status.Code.UNAVAILABLE));
        // The server keeps accepting: a new client reconnects.
        assertThat(echo(channel(), "again".getBytes())).asString().isEqualTo("again");
    }

    @Test
    void manyConcurrentConnectionsEachGetTheirOwnAnswers() throws Exception {
        int clients = 24;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                ManagedChannel c = channel();
                int n = i;
                results.add(pool.submit(() -> {
                    for (int j = 0; j < 20; j++) {
                        byte[] req = new byte[1000 * (n + 1) + j];
                        new Random(n * 100L + j).nextBytes(req);
                        if (!java.util.Arrays.equals(echo(c, req), req)) {
                            return false;
                        }
                    }
                    return true;
                }));
            }
            for (Future<Boolean> r : results) {
                assertThat(r.get(60, TimeUnit.SECONDS)).isTrue();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(pipes.serverEnds()).hasSize(clients);
        assertThat(bridge.openConnections()).isEqualTo(clients);
        channels.forEach(ManagedChannel::shutdownNow);
        await(() -> bridge.openConnections() == 0);
        assertThat(pipes.serverEnds()).allMatch(InMemoryPipes.End::closed);
    }

    @Test
    void closingTheBridgeStopsAcceptingAndClosesOpenConnections() throws Exception {
        ManagedChannel c = channel();
        assertThat(echo(c, "x".getBytes())).hasSize(1);
        server.shutdownNow();
        server.awaitTermination(10, TimeUnit.SECONDS);
        bridge.close();
        assertThat(bridge.openConnections()).isZero();
        assertThat(pipes.serverEnds()).allMatch(InMemoryPipes.End::closed);
        assertThatThrownBy(pipes::dial).isInstanceOf(IOException.class);
    }

    @Test
    void aDialThatFailsIsUnavailable() {
        pipes.close();
        assertThatThrownBy(() -> echo(channel(), new byte[1])).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    }

    /** Waits (up to 30 s, not a timing assertion) for what a closing connection's threads do next. */
    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(condition.getAsBoolean()).isTrue();
    }
}
