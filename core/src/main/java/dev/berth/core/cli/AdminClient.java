package dev.berth.core.cli;

import dev.berth.admin.v1.AdminServiceGrpc;
import dev.berth.core.UnixSockets;
import dev.berth.core.config.CriEndpoint;
import dev.berth.core.config.HostOs;
import dev.berth.core.cri.transport.CriTransports;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The CLI's way to the running daemon: berth's admin service ({@code berth.admin.v1}) on the daemon's CRI socket.
 */
final class AdminClient implements AutoCloseable {
    private static final long DEADLINE_SECONDS = 10;

    private final ManagedChannel channel;
    private final AdminServiceGrpc.AdminServiceBlockingStub stub;

    private AdminClient(ManagedChannel channel) {
        this.channel = channel;
        this.stub = AdminServiceGrpc.newBlockingStub(channel);
    }

    /** A client if a socket is at {@code socket}, else null (no daemon). */
    static AdminClient connect(Path socket) {
        if (socket == null || !Files.exists(socket)) {
            return null;
        }
        return new AdminClient(UnixSockets.channel(socket));
    }

    /**
     * A client of the daemon at {@code endpoint}, or null when no unix socket is there or (off Windows) the endpoint
     * is a named pipe; a pipe or port nobody serves answers UNAVAILABLE, which {@link #call} reads as no daemon.
     */
    static AdminClient connect(CriEndpoint endpoint) {
        return switch (endpoint) {
            case CriEndpoint.Unix u -> connect(u.path());
            case CriEndpoint.NamedPipe p when !HostOs.isWindows() -> null;
            default -> new AdminClient(CriTransports.channel(endpoint));
        };
    }

    /**
     * Calls the daemon; null when nothing answers on the socket (a stale socket of a stopped daemon) or the daemon
     * predates the admin service. Other errors (e.g. NOT_FOUND) are thrown.
     */
    <T> T call(Function<AdminServiceGrpc.AdminServiceBlockingStub, T> rpc) {
        try {
            return rpc.apply(stub.withDeadlineAfter(DEADLINE_SECONDS, TimeUnit.SECONDS));
        } catch (StatusRuntimeException e) {
            // The admin RPCs never answer UNAVAILABLE themselves: it means nothing listens on the socket.
            var code = e.getStatus().getCode();
            if (code == io.grpc.Status.Code.UNAVAILABLE || code == io.grpc.Status.Code.UNIMPLEMENTED) {
                return null;
            }
            throw e;
        }
    }

    @Override
    public void close() {
        channel.shutdownNow();
    }
}
