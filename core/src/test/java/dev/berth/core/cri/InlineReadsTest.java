package dev.berth.core.cri;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.metrics.Metrics;
import dev.berth.core.util.NonBlocking;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.StatusRequest;
import dev.berth.cri.v1.StatusResponse;
import dev.berth.cri.v1.VersionRequest;
import dev.berth.cri.v1.VersionResponse;
import dev.berth.spi.BackendException;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A server set up with {@link InlineReads} answers an {@link InlineRead} on the transport's thread, hands it to the
 * executor (from the start) when it would block, and runs every other call on the executor, for every API version the
 * read is bound in.
 */
class InlineReadsTest {
    /** Version as an inline read: where it "asks a backend" it calls beforeBlocking first, as real code does. */
    static final class Read implements InlineRead<VersionRequest, VersionResponse> {
        final List<Thread> attempts = new CopyOnWriteArrayList<>();
        final List<Boolean> nonBlocking = new CopyOnWriteArrayList<>();
        volatile boolean needsBackend;
        volatile boolean fails;

        @Override
        public MethodDescriptor<VersionRequest, VersionResponse> method() {
            return RuntimeServiceGrpc.getVersionMethod();
        }

        @Override
        public VersionResponse call(VersionRequest req, RpcContext ctx) {
            attempts.add(Thread.currentThread());
            nonBlocking.add(NonBlocking.active());
            if (fails) {
                throw new BackendException(BackendException.Kind.NOT_FOUND, "no such thing");
            }
            if (needsBackend) {
                NonBlocking.beforeBlocking();
            }
            return VersionResponse.newBuilder().setRuntimeName("from " + (needsBackend ? "backend" : "memory")).build();
        }
    }

    /** Status as an ordinary call. */
    static final class Ordinary implements UnaryRpc<StatusRequest, StatusResponse> {
        final AtomicReference<Thread> ranOn = new AtomicReference<>();

        @Override
        public MethodDescriptor<StatusRequest, StatusResponse> method() {
            return RuntimeServiceGrpc.getStatusMethod();
        }

        @Override
        public StatusResponse call(StatusRequest req, RpcContext ctx) {
            ranOn.set(Thread.currentThread());
            return StatusResponse.getDefaultInstance();
        }
    }

    private final Read read = new Read();
    private final Ordinary ordinary = new Ordinary();
    private final AtomicInteger handedOver = new AtomicInteger();
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private Server server;
    private ManagedChannel channel;

    @BeforeEach
    void serve() throws Exception {
        CriServer.Served served = new CriServer(List.of(read, ordinary), List.of(), Metrics.disabled()).served();
        String name = InProcessServerBuilder.generateName();
        var builder = InProcessServerBuilder.forName(name).directExecutor()
                .callExecutor(served.inlineReads().callExecutor(task -> {
                    handedOver.incrementAndGet();
                    threads.execute(task);
                }))
                .fallbackHandlerRegistry(served.onFirstCall());
        served.now().forEach(builder::addService);
        server = builder.build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    }

    @AfterEach
    void close() {
        channel.shutdownNow();
        server.shutdownNow();
        threads.shutdownNow();
    }

    @Test
    void aReadFromMemoryIsAnsweredOnTheTransportThread() {
        var resp = RuntimeServiceGrpc.newBlockingStub(channel).version(VersionRequest.getDefaultInstance());

        assertThat(resp.getRuntimeName()).isEqualTo("from memory");
        assertThat(handedOver).hasValue(0);
        assertThat(read.attempts).hasSize(1).allMatch(t -> !t.isVirtual());
        assertThat(read.nonBlocking).containsExactly(true);
    }

    @Test
    void aReadThatWouldBlockRunsAgainOnTheExecutor() {
        read.needsBackend = true;
        var resp = RuntimeServiceGrpc.newBlockingStub(channel).version(VersionRequest.getDefaultInstance());

        assertThat(resp.getRuntimeName()).isEqualTo("from backend");
        assertThat(handedOver).hasValue(1);
        assertThat(read.attempts).hasSize(2);
        assertThat(read.attempts.get(0).isVirtual()).isFalse();
        assertThat(read.attempts.get(1).isVirtual()).isTrue();
        assertThat(read.nonBlocking).containsExactly(true, false);
    }

    @Test
    void anInlineReadsErrorIsAnsweredWhereItHappened() {
        read.fails = true;
        assertThatThrownBy(() -> RuntimeServiceGrpc.newBlockingStub(channel).version(VersionRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(e.getStatus().getDescription()).contains("no such thing");
                });
        assertThat(handedOver).hasValue(0);
        assertThat(read.attempts).hasSize(1);
    }

    @Test
    void aReadThatWouldBlockWhileTheDaemonClosesIsUnavailable() {
        read.needsBackend = true;
        threads.shutdown();
        assertThatThrownBy(() -> RuntimeServiceGrpc.newBlockingStub(channel).version(VersionRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                    assertThat(e.getStatus().getDescription()).contains("shutting down");
                });
        assertThat(read.attempts).hasSize(1);
    }

    @Test
    void everyOtherCallRunsOnTheExecutor() {
        RuntimeServiceGrpc.newBlockingStub(channel).status(StatusRequest.getDefaultInstance());

        // gRPC hands the call's steps to the executor once or more, depending on how they queue.
        assertThat(handedOver.get()).isPositive();
        assertThat(ordinary.ranOn.get().isVirtual()).isTrue();
    }

    @Test
    void theReadIsInlineInV1alpha2Too() {
        var resp = dev.berth.cri.v1alpha2.RuntimeServiceGrpc.newBlockingStub(channel)
                .version(dev.berth.cri.v1alpha2.VersionRequest.getDefaultInstance());

        assertThat(resp.getRuntimeName()).isEqualTo("from memory");
        assertThat(handedOver).hasValue(0);
        assertThat(read.attempts).hasSize(1).allMatch(t -> !t.isVirtual());
    }
}
