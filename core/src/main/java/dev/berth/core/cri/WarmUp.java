package dev.berth.core.cri;

import dev.berth.cri.v1.ContainerStatusRequest;
import dev.berth.cri.v1.ImageServiceGrpc;
import dev.berth.cri.v1.ImageSpec;
import dev.berth.cri.v1.ImageStatusRequest;
import dev.berth.cri.v1.ListContainersRequest;
import dev.berth.cri.v1.ListImagesRequest;
import dev.berth.cri.v1.ListPodSandboxRequest;
import dev.berth.cri.v1.PodSandboxStatusRequest;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.StatusRequest;
import dev.berth.cri.v1.VersionRequest;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The calls a daemon just started makes to itself, over its own socket, so that the kubelet's first calls after a
 * start find compiled code.
 *
 * <p>A JVM runs a method in its interpreter until the method has been called a few hundred times, and a JDK 25 AOT
 * cache keeps loaded classes and profiles, not compiled code. Until then each call costs the transport's thread
 * milliseconds, most of it in Netty's HTTP/2 and gRPC's call set-up, which every RPC shares (docs/performance.md).
 * The warm-up makes the read-only calls a kubelet polls all day ({@code Version}, {@code Status}, the lists, and
 * the status of one pod, container and image when there are any), one at a time, {@code rounds} times each, right
 * after the daemon starts to serve, beside the first real calls.
 *
 * <p>Its calls carry a header with a token drawn at each start; {@link #interceptor} marks them, and a marked call
 * is left out of the RPC log, metrics, traces and the objects' history ({@link #active}). They change nothing.
 */
public final class WarmUp implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(WarmUp.class.getName());
    static final Metadata.Key<String> HEADER = Metadata.Key.of("berth-warm-up", Metadata.ASCII_STRING_MARSHALLER);
    private static final Context.Key<Boolean> ACTIVE = Context.key("berth-warm-up");
    /** A well-formed id that no pod or container has (berth's ids are random). */
    private static final String NO_SUCH_ID = "0".repeat(64);
    private static final long DEADLINE_S = 10;

    /** Null when there are no rounds. */
    private final byte[] token;
    private final int rounds;
    private volatile Thread thread;
    private volatile ManagedChannel channel;
    private volatile boolean closed;
    private boolean started;
    /** Calls made and methods that answered UNIMPLEMENTED; only the warm-up's thread uses them. */
    private int calls;
    private final Set<String> unserved = new HashSet<>();
    private final CompletableFuture<Integer> finished = new CompletableFuture<>();

    /** {@code rounds} of the calls; none for 0. */
    public WarmUp(int rounds) {
        if (rounds < 0) {
            throw new IllegalArgumentException("warm-up rounds must not be negative, got " + rounds);
        }
        this.rounds = rounds;
        if (rounds == 0) {
            this.token = null;
        } else {
            byte[] b = new byte[16];
            new SecureRandom().nextBytes(b);
            this.token = HexFormat.of().formatHex(b).getBytes(StandardCharsets.US_ASCII);
        }
    }

    /** Whether the call on this thread is one of a warm-up's. */
    public static boolean active() {
        return ACTIVE.get() != null;
    }

    /**
     * Marks the warm-up's calls ({@link #active}) and passes every other call on to {@code inner} (the tracing
     * interceptor, or null): a warm-up call is not traced.
     */
    public ServerInterceptor interceptor(ServerInterceptor inner) {
        return new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                              ServerCallHandler<Q, R> next) {
                if (token != null && !finished.isDone() && isToken(headers.get(HEADER))) {
                    return Contexts.interceptCall(Context.current().withValue(ACTIVE, Boolean.TRUE), call, headers,
                            next);
                }
                return inner == null ? next.startCall(call, headers) : inner.interceptCall(call, headers, next);
            }
        };
    }

    private boolean isToken(String value) {
        return value != null && MessageDigest.isEqual(token, value.getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * Starts the calls on a thread of their own, over a channel from {@code channels}; nothing for 0 rounds. Only the
     * first call starts them: a warm-up runs once.
     */
    public synchronized void start(Supplier<ManagedChannel> channels) {
        if (started) {
            return;
        }
        started = true;
        if (rounds == 0 || closed) {
            finished.complete(0);
            return;
        }
        thread = Thread.ofPlatform().daemon().name("berth-warm-up").start(() -> run(channels));
    }

    private void run(Supplier<ManagedChannel> channels) {
        long start = System.nanoTime();
        ManagedChannel ch = null;
        try {
            ch = channels.get();
            channel = ch;
            Metadata headers = new Metadata();
            headers.put(HEADER, new String(token, StandardCharsets.US_ASCII));
            var attach = MetadataUtils.newAttachHeadersInterceptor(headers);
            var runtime = RuntimeServiceGrpc.newBlockingStub(ch).withInterceptors(attach);
            var images = ImageServiceGrpc.newBlockingStub(ch).withInterceptors(attach);
            VersionRequest version = VersionRequest.newBuilder().setVersion("v1").build();
            for (int i = 0; i < rounds && !closed; i++) {
                call("Version", () -> runtime.withDeadlineAfter(DEADLINE_S, TimeUnit.SECONDS).version(version));
                call("Status", () -> runtime.withDeadlineAfter(DEADLINE_S, TimeUnit.SECONDS)
                        .status(StatusRequest.getDefaultInstance()));
                var pods = call("ListPodSandbox", () -> runtime.withDeadlineAfter(DEADLINE_S, TimeUnit.SECONDS)
                        .listPodSandbox(ListPodSandboxRequest.getDefaultInstance()));
                var containers = call("ListContainers", () -> runtime.withDeadlineAfter(DEADLINE_S, TimeUnit.SECONDS)
                        .listContainers(ListContainersRequest.getDefaultInstance()));
                var imageList = call("ListImages", () -> images.withDeadlineAfter(DEADLINE_S, TimeUnit.SECONDS)
                        .listImages(ListImagesRequest.getDefaultInstance()));
                // The first listed pod and container, else an id that no object has: the lookup and the NOT_FOUND
                // answer still run.
                String pod = pods != null && pods.getItemsCount() > 0 ? pods.getItems(0).getId() : NO_SUCH_ID;
                call("PodSandboxStatus", () -> runtime.withDeadlineAfter(DEADLINE_S, TimeUnit.SECONDS)
                        .podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(pod).build()));
                String container = containers != null && containers.getContainersCount() > 0
                        ? containers.getContainers(0).getId() : NO_SUCH_ID;
                call("ContainerStatus", () -> runtime.withDeadlineAfter(DEADLINE_S, TimeUnit.SECONDS)
                        .containerStatus(ContainerStatusRequest.newBuilder().setContainerId(container).build()));
                if (imageList != null && imageList.getImagesCount() > 0) {
                    String image = imageList.getImages(0).getId();
                    call("ImageStatus", () -> images.withDeadlineAfter(DEADLINE_S, TimeUnit.SECONDS).imageStatus(
                            ImageStatusRequest.newBuilder().setImage(ImageSpec.newBuilder().setImage(image)).build()));
                }
            }
            LOG.log(System.Logger.Level.INFO, "warm-up: {0} calls to the daemon itself in {1} ms", calls,
                    (System.nanoTime() - start) / 1_000_000);
        } catch (StatusRuntimeException e) {
            if (!closed) {
                LOG.log(System.Logger.Level.WARNING, "warm-up stopped after {0} calls: {1}", calls, e.getStatus());
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "warm-up stopped after {0} calls: {1}", calls, e.toString());
        } finally {
            if (ch != null) {
                ch.shutdownNow();
            }
            finished.complete(calls);
        }
    }

    /**
     * Makes one call and counts it; null when it answers NOT_FOUND (a pod or container gone meanwhile, or none) or
     * UNIMPLEMENTED (a daemon without an image service), and the latter is not made again. Any other failure ends
     * the warm-up.
     */
    private <T> T call(String method, Supplier<T> rpc) {
        if (unserved.contains(method)) {
            return null;
        }
        calls++;
        try {
            return rpc.get();
        } catch (StatusRuntimeException e) {
            if (e.getStatus().getCode() == Status.Code.UNIMPLEMENTED) {
                unserved.add(method);
                return null;
            }
            if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
                return null;
            }
            throw e;
        }
    }

    /** Completes with the number of calls made once the warm-up has ended (0 when it made none). */
    public CompletionStage<Integer> finished() {
        return finished;
    }

    /** Stops the calls and waits briefly for their thread. */
    @Override
    public void close() {
        closed = true;
        ManagedChannel ch = channel;
        if (ch != null) {
            ch.shutdownNow();
        }
        Thread t = thread;
        if (t != null) {
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        finished.complete(0); // when it never started
    }
}
