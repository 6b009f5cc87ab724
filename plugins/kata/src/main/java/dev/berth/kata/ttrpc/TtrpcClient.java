package dev.berth.kata.ttrpc;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import dev.berth.kata.proto.ttrpc.KeyValue;
import dev.berth.kata.proto.ttrpc.Request;
import dev.berth.kata.proto.ttrpc.Response;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A ttrpc client on one unix-socket connection. Calls from many threads share the connection: each gets an
 * odd stream id, and one reader thread hands every response to the call waiting for that id. Every call has a
 * client-side deadline, because shims may ignore the one sent in the request (Wait does): a call that runs out
 * of time fails with {@code DEADLINE_EXCEEDED} and a late answer is dropped, while other calls carry on.
 *
 * <p>A broken connection fails every pending and later call with {@code UNAVAILABLE}; there is no automatic
 * reconnect (the owner decides whether the peer is gone). The owner hears of it at once, without a call: the
 * {@code broken} listener runs once, on a thread of its own, when the peer closes the connection or it fails (not
 * when the client closes it).
 *
 * <p>Callers never touch the socket: one writer thread sends the frames they queue. A {@link SocketChannel} is
 * closed when a thread blocked in (or entering) one of its operations is interrupted, so if callers wrote
 * themselves, interrupting any of them (an exec's stdin pump, say) would cut the pod's whole connection.
 * An interrupted caller only stops waiting ({@code CANCELLED}).
 */
public final class TtrpcClient implements AutoCloseable {
    private static final String CLOSED_BY_CLIENT = "closed by client";
    private final SocketChannel channel;
    private final List<KeyValue> metadata;
    private final java.util.concurrent.BlockingQueue<Frame> outbox = new java.util.concurrent.LinkedBlockingQueue<>();
    private final Thread writer;
    private final Map<Integer, CompletableFuture<Response>> pending = new ConcurrentHashMap<>();
    private final AtomicInteger nextStream = new AtomicInteger(1);
    private final Thread reader;
    private final java.util.function.Consumer<String> broken;
    private volatile String closedReason;

    private TtrpcClient(SocketChannel channel, Map<String, String> metadata,
                        java.util.function.Consumer<String> broken) {
        this.channel = channel;
        this.broken = broken;
        this.metadata = metadata.entrySet().stream()
                .map(e -> KeyValue.newBuilder().setKey(e.getKey()).setValue(e.getValue()).build())
                .toList();
        this.reader = Thread.ofVirtual().name("ttrpc-reader").unstarted(this::readLoop);
        this.writer = Thread.ofVirtual().name("ttrpc-writer").unstarted(this::writeLoop);
    }

    /** Connects to a unix socket; {@code metadata} goes with every request. */
    public static TtrpcClient connect(Path socket, Map<String, String> metadata) throws TtrpcException {
        return connect(socket, metadata, reason -> { });
    }

    /**
     * Connects to a unix socket; {@code metadata} goes with every request, and {@code broken} hears once, with the
     * reason, when the connection breaks other than by {@link #close}.
     */
    public static TtrpcClient connect(Path socket, Map<String, String> metadata,
                                      java.util.function.Consumer<String> broken) throws TtrpcException {
        try {
            SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket));
            TtrpcClient c = new TtrpcClient(ch, metadata, broken);
            c.reader.start();
            c.writer.start();
            return c;
        } catch (IOException | RuntimeException e) {
            throw new TtrpcException(TtrpcException.UNAVAILABLE,
                    "cannot connect to " + socket + ": " + describe(e));
        }
    }

    /** Whether the connection is still usable as far as the client knows. */
    public boolean isOpen() {
        return closedReason == null;
    }

    /**
     * Calls {@code service/method} and waits at most {@code timeout} for the answer.
     *
     * @throws TtrpcException with the peer's status, or UNAVAILABLE / DEADLINE_EXCEEDED / INTERNAL / RESOURCE_EXHAUSTED
     *     for transport problems
     */
    public <T extends Message> T call(String service, String method, Message request, Parser<T> parser,
                                      Duration timeout) throws TtrpcException {
        byte[] payload = Request.newBuilder()
                .setService(service)
                .setMethod(method)
                .setPayload(request.toByteString())
                .setTimeoutNano(saturatedNanos(timeout))
                .addAllMetadata(metadata)
                .build()
                .toByteArray();
        if (payload.length > Frame.MAX_DATA) {
            throw new TtrpcException(TtrpcException.RESOURCE_EXHAUSTED, "request of " + payload.length
                    + " bytes exceeds the ttrpc limit of " + Frame.MAX_DATA);
        }
        String reason = closedReason;
        if (reason != null) {
            throw new TtrpcException(TtrpcException.UNAVAILABLE, "ttrpc connection closed: " + reason);
        }
        int stream = nextStream.getAndAdd(2) & 0x7fffffff | 1;
        CompletableFuture<Response> answer = new CompletableFuture<>();
        pending.put(stream, answer);
        try {
            outbox.add(Frame.of(stream, Frame.TYPE_REQUEST, payload));
            if (closedReason != null) {
                // The reader may have failed everything before our entry was in the map.
                answer.completeExceptionally(new TtrpcException(TtrpcException.UNAVAILABLE,
                        "ttrpc connection closed: " + closedReason));
            }
            Response response = answer.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            if (response.hasStatus() && response.getStatus().getCode() != 0) {
                throw new TtrpcException(response.getStatus().getCode(), response.getStatus().getMessage());
            }
            return parser.parseFrom(response.getPayload());
        } catch (IOException e) {
            throw new TtrpcException(TtrpcException.INTERNAL, "malformed ttrpc response payload: " + describe(e));
        } catch (TimeoutException e) {
            throw new TtrpcException(TtrpcException.DEADLINE_EXCEEDED,
                    service + "/" + method + " got no answer within " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TtrpcException t) {
                throw t;
            }
            throw new TtrpcException(TtrpcException.INTERNAL, describe(e.getCause()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TtrpcException(TtrpcException.CANCELLED, service + "/" + method + " interrupted");
        } finally {
            pending.remove(stream);
        }
    }

    /** Sends queued frames in order; only this thread writes to the socket, and nobody interrupts it but close. */
    private void writeLoop() {
        try {
            while (closedReason == null) {
                outbox.take().writeTo(channel);
            }
        } catch (InterruptedException e) {
            shutdown(closedReason != null ? closedReason : CLOSED_BY_CLIENT);
        } catch (IOException | RuntimeException e) {
            shutdown("write failed: " + describe(e));
        }
    }

    private void readLoop() {
        try {
            while (true) {
                Frame f = Frame.readFrom(channel);
                CompletableFuture<Response> waiter = pending.get(f.streamId());
                if (waiter == null) {
                    continue; // late answer to a call that timed out, or a stray stream: drop it
                }
                if (f.oversized()) {
                    waiter.completeExceptionally(new TtrpcException(TtrpcException.RESOURCE_EXHAUSTED,
                            "response of " + f.length() + " bytes exceeds the ttrpc limit of " + Frame.MAX_DATA));
                } else if (f.type() != Frame.TYPE_RESPONSE) {
                    waiter.completeExceptionally(new TtrpcException(TtrpcException.INTERNAL,
                            "unexpected ttrpc frame type " + f.type() + " on stream " + f.streamId()));
                } else {
                    try {
                        waiter.complete(Response.parseFrom(f.data()));
                    } catch (InvalidProtocolBufferException e) {
                        waiter.completeExceptionally(new TtrpcException(TtrpcException.INTERNAL,
                                "malformed ttrpc response: " + e.getMessage()));
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            shutdown(closedReason != null ? closedReason : describe(e));
        }
    }

    private void shutdown(String reason) {
        boolean first;
        synchronized (this) {
            first = closedReason == null;
            if (first) {
                closedReason = reason;
            }
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing a broken socket
        }
        TtrpcException gone = new TtrpcException(TtrpcException.UNAVAILABLE, "ttrpc connection closed: " + closedReason);
        pending.values().forEach(f -> f.completeExceptionally(gone));
        if (first && !CLOSED_BY_CLIENT.equals(reason)) {
            Thread.ofVirtual().name("ttrpc-broken").start(() -> broken.accept(reason));
        }
    }

    @Override
    public void close() {
        shutdown(CLOSED_BY_CLIENT);
        reader.interrupt();
        writer.interrupt();
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    static String describe(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }
}
