package dev.berth.core.cri.transport;

import dev.berth.core.UnixSockets;
import dev.berth.core.config.CriEndpoint;
import io.grpc.ManagedChannel;
import io.grpc.ServerBuilder;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * The CRI endpoints other than the unix socket ({@link UnixSockets}): a Windows named pipe through
 * {@link StreamBridge}, and plaintext TCP. The config's {@code socket} picks one ({@link CriEndpoint}).
 */
public final class CriTransports {
    private static final System.Logger LOG = System.getLogger("berth.transport");

    private CriTransports() {}

    /** A server being set up: build and start {@link #builder()}'s server, then {@link #started()}. */
    public interface Serving extends AutoCloseable {
        ServerBuilder<?> builder();

        /** Called once the gRPC server has started: opens the endpoint to clients where that comes last. */
        void started() throws IOException;

        /** Releases what the transport holds; call after the gRPC server has terminated. */
        @Override
        void close();
    }

    /** The server side of a named-pipe or TCP endpoint (a unix socket goes through {@link UnixSockets}). */
    public static Serving server(CriEndpoint endpoint) {
        return switch (endpoint) {
            case CriEndpoint.NamedPipe p -> pipeServer(p);
            case CriEndpoint.Tcp t -> tcpServer(t);
            case CriEndpoint.Unix u -> throw new IllegalArgumentException("a unix socket is served by UnixSockets");
        };
    }

    /** A client channel to any endpoint. */
    public static ManagedChannel channel(CriEndpoint endpoint) {
        return switch (endpoint) {
            case CriEndpoint.Unix u -> UnixSockets.channel(u.path());
            case CriEndpoint.NamedPipe p -> StreamBridge.channel(NamedPipes.dialer(p.pipe()));
            case CriEndpoint.Tcp t -> NettyChannelBuilder.forAddress(t.bindHost(), t.port())
                    .maxInboundMessageSize(UnixSockets.MAX_MESSAGE_BYTES).usePlaintext().build();
        };
    }

    private static Serving pipeServer(CriEndpoint.NamedPipe p) {
        StreamBridge.Server bridge = new StreamBridge.Server();
        return new Serving() {
            @Override
            public ServerBuilder<?> builder() {
                return bridge.builder();
            }

            @Override
            public void started() throws IOException {
                // The pipe is created only now, so a client never connects before the server can answer.
                bridge.start(NamedPipes.listen(p.pipe()));
                LOG.log(System.Logger.Level.INFO, "CRI named pipe {0}: Administrators and SYSTEM only ({1})", p.pipe(),
                        PipeSecurity.SDDL);
            }

            @Override
            public void close() {
                bridge.close();
            }
        };
    }

    private static Serving tcpServer(CriEndpoint.Tcp t) {
        return new Serving() {
            @Override
            public ServerBuilder<?> builder() {
                return NettyServerBuilder.forAddress(new InetSocketAddress(t.bindHost(), t.port()))
                        .maxInboundMessageSize(UnixSockets.MAX_MESSAGE_BYTES);
            }

            @Override
            public void started() {
                exposureWarning(t).ifPresent(w -> LOG.log(System.Logger.Level.WARNING, w));
            }

            @Override
            public void close() {
                // gRPC's shared event loops; nothing of our own.
            }
        };
    }

    /**
     * The warning a TCP endpoint deserves: none on loopback (no host given, or a loopback address), else that anyone
     * who reaches the port controls every container, as CRI over TCP has neither TLS nor authentication here.
     */
    static Optional<String> exposureWarning(CriEndpoint.Tcp t) {
        boolean loopback;
        try {
            loopback = t.host().isEmpty() || InetAddress.getByName(t.host()).isLoopbackAddress();
        } catch (UnknownHostException e) {
            loopback = false;
        }
        return loopback ? Optional.empty() : Optional.of("CRI is served on " + t + " without TLS or authentication: "
                + "whoever reaches this address controls every container on the node. Use a unix socket or named "
                + "pipe, or tcp://:PORT for loopback only.");
    }
}
