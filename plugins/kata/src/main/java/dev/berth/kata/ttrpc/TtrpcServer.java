package dev.berth.kata.ttrpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.berth.kata.proto.rpc.Status;
import dev.berth.kata.proto.ttrpc.Request;
import dev.berth.kata.proto.ttrpc.Response;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A small ttrpc server on a unix socket, with the same frame codec as {@link TtrpcClient}. Each request runs
 * on its own virtual thread, so a slow handler never holds up other calls on the connection. Unknown methods
 * get {@code UNIMPLEMENTED}; a request frame over the limit gets {@code RESOURCE_EXHAUSTED}.
 */
public final class TtrpcServer implements AutoCloseable {

    /** Handles one unary call: the request payload in, the response payload out. */
    @FunctionalInterface
    public interface Handler {
        byte[] handle(Request request) throws Exception;
    }

    private final ServerSocketChannel server;
    private final Path socket;
    private final Map<String, Handler> handlers;
    private final Set<SocketChannel> connections = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private TtrpcServer(ServerSocketChannel server, Path socket, Map<String, Handler> handlers) {
        this.server = server;
        this.socket = socket;
        this.handlers = Map.copyOf(handlers);
    }

    /**
     * Binds {@code socket} (replacing a stale socket file) and serves {@code handlers}, keyed
     * {@code "service/method"}.
     */
    public static TtrpcServer start(Path socket, Map<String, Handler> handlers) throws IOException {
        Files.deleteIfExists(socket);
        ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        ch.bind(UnixDomainSocketAddress.of(socket));
        TtrpcServer s = new TtrpcServer(ch, socket, handlers);
        Thread.ofVirtual().name("ttrpc-accept").start(s::acceptLoop);
        return s;
    }

    public Path socket() {
        return socket;
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                SocketChannel c = server.accept();
                connections.add(c);
                Thread.ofVirtual().name("ttrpc-conn").start(() -> serve(c));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(SocketChannel c) {
        ReentrantLock writeLock = new ReentrantLock();
        try (c) {
            while (!closed) {
                Frame f = Frame.readFrom(c);
                if (f.type() != Frame.TYPE_REQUEST) {
                    continue;
                }
                if (f.oversized()) {
                    reply(c, writeLock, f.streamId(), error(TtrpcException.RESOURCE_EXHAUSTED,
                            "request of " + f.length() + " bytes exceeds the ttrpc limit"));
                    continue;
                }
                Thread.ofVirtual().name("ttrpc-call").start(() -> reply(c, writeLock, f.streamId(), dispatch(f.data())));
            }
        } catch (IOException e) {
            // peer went away or sent garbage: drop the connection
        } finally {
            connections.remove(c);
        }
    }

    private Response dispatch(byte[] data) {
        Request req;
        try {
            req = Request.parseFrom(data);
        } catch (InvalidProtocolBufferException e) {
            return error(TtrpcException.INVALID_ARGUMENT, "malformed ttrpc request: " + e.getMessage());
        }
        Handler h = handlers.get(req.getService() + "/" + req.getMethod());
        if (h == null) {
            boolean knownService = handlers.keySet().stream().anyMatch(k -> k.startsWith(req.getService() + "/"));
            return error(TtrpcException.UNIMPLEMENTED, knownService
                    ? "method " + req.getMethod() + " not implemented"
                    : "service " + req.getService() + " not implemented");
        }
        try {
            return Response.newBuilder().setStatus(Status.newBuilder().setCode(0))
                    .setPayload(ByteString.copyFrom(h.handle(req))).build();
        } catch (TtrpcException e) {
            return error(e.code(), e.getMessage());
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            return error(TtrpcException.INVALID_ARGUMENT, "malformed request payload: " + e.getMessage());
        } catch (Exception e) {
            return error(TtrpcException.INTERNAL, TtrpcClient.describe(e));
        }
    }

    private static Response error(int code, String message) {
        return Response.newBuilder().setStatus(Status.newBuilder().setCode(code).setMessage(message)).build();
    }

    private static void reply(SocketChannel c, ReentrantLock writeLock, int stream, Response r) {
        writeLock.lock();
        try {
            Frame.of(stream, Frame.TYPE_RESPONSE, r.toByteArray()).writeTo(c);
        } catch (IOException e) {
            // the caller is gone; nothing to tell
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // already closed
        }
        for (SocketChannel c : connections) {
            try {
                c.close();
            } catch (IOException ignored) {
                // already closed
            }
        }
        try {
            Files.deleteIfExists(socket);
        } catch (IOException ignored) {
            // best effort
        }
    }
}
