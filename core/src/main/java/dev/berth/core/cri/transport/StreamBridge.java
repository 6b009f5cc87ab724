package dev.berth.core.cri.transport;

import dev.berth.core.UnixSockets;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalIoHandler;
import io.netty.channel.local.LocalServerChannel;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * gRPC over any {@link DuplexStream} (a Windows named pipe), without a gRPC transport of its own.
 *
 * <p>grpc-java has no named-pipe transport. Rather than write one (a custom Netty channel type over overlapped
 * handles), berth runs its gRPC server on Netty's in-JVM {@code local} transport and splices every accepted pipe
 * connection to a fresh local connection to that server ({@link Splice}: two pump threads). The gRPC server, its
 * HTTP/2 framing, flow control, keepalive and message limits are exactly those of the unix socket; only the bytes
 * arrive through a pump. The local address is private to the JVM: nothing outside the daemon can connect to it,
 * so the pipe's DACL stays the only way in. The client side ({@link #channel}) is the mirror image: a gRPC channel to
 * a private local server whose every connection is spliced to a freshly dialed stream.
 *
 * <p>The pumps are plain Java over {@link DuplexStream}, {@link StreamListener} and {@link StreamDialer}, so all
 * of this is tested on Linux over an in-memory stand-in; only {@code windows.WindowsNamedPipes} makes system calls.
 */
public final class StreamBridge {
    private static final AtomicLong NAMES = new AtomicLong();
    private StreamBridge() {}

    /**
     * The server side: a gRPC server builder on a private local address, and the accept loop that splices each
     * stream a {@link StreamListener} accepts to it. Build and start the server first, then {@link #start}.
     */
    public static final class Server implements AutoCloseable {
        private final LocalAddress address = new LocalAddress("berth-bridge-" + NAMES.incrementAndGet());
        private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, LocalIoHandler.newFactory());
        private final Set<Splice> open = ConcurrentHashMap.newKeySet();
        private volatile StreamListener listener;
        private volatile boolean closed;
        private Thread acceptor;

        /** A builder for the gRPC server the streams reach (plaintext, CRI's message limit). */
        public NettyServerBuilder builder() {
            return NettyServerBuilder.forAddress(address)
                    .channelType(LocalServerChannel.class)
                    .bossEventLoopGroup(group)
                    .workerEventLoopGroup(group)
                    .maxInboundMessageSize(UnixSockets.MAX_MESSAGE_BYTES);
        }

        /** Starts accepting from {@code from}: each stream gets its own connection to the (started) server. */
        public synchronized void start(StreamListener from) {
            if (listener != null) {
                throw new IllegalStateException("already started");
            }
            listener = from;
            acceptor = Thread.ofPlatform().daemon().name("pipe-accept").start(this::acceptLoop);
        }

        private void acceptLoop() {
            while (!closed) {
                DuplexStream stream;
                try {
                    stream = listener.accept();
                } catch (IOException e) {
                    if (!closed) {
                        System.getLogger("berth.transport").log(System.Logger.Level.ERROR,
                                "the pipe listener failed; no new CRI connections are accepted", e);
                    }
                    return;
                }
                splice(stream);
            }
        }

        private void splice(DuplexStream stream) {
            Splice[] holder = new Splice[1];
            Splice s = new Splice(stream, () -> open.remove(holder[0]));
            holder[0] = s;
            open.add(s);
            ChannelFuture f = new Bootstrap().group(group).channel(LocalChannel.class)
                    .handler(s.handler()).connect(address).awaitUninterruptibly();
            if (!f.isSuccess() || closed) {
                f.channel().close();
                s.close();
                return;
            }
            s.start(f.channel());
        }

        /** Connections being pumped now. */
        public int openConnections() {
            return open.size();
        }

        /**
         * Stops accepting, closes every open connection (waiting for those whose close began elsewhere), and shuts
         * the event loops down. Call after the server.
         */
        @Override
        public void close() {
            closed = true;
            StreamListener l = listener;
            if (l != null) {
                try {
                    l.close();
                } catch (IOException e) {
                    // Closing is best effort.
                }
            }
            if (acceptor != null) {
                try {
                    acceptor.join(5000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            List<Splice> splices = List.copyOf(open);
            splices.forEach(Splice::close);
            try {
                for (Splice s : splices) {
                    s.awaitClosed(5000); // a close that its channel's end began first
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            new UnixSockets.EventLoops(List.of(group)).close();
        }
    }

    /**
     * A gRPC channel whose every connection is a stream from {@code dialer}. Its event loop and private local
     * server close when the channel terminates.
     */
    public static ManagedChannel channel(StreamDialer dialer) {
        LocalAddress address = new LocalAddress("berth-dial-" + NAMES.incrementAndGet());
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
        new ServerBootstrap().group(group).channel(LocalServerChannel.class)
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<LocalChannel>() {
                    @Override
                    protected void initChannel(LocalChannel ch) {
                        Thread.ofPlatform().daemon().name("pipe-dial").start(() -> dialed(ch, dialer));
                    }
                })
                .bind(address).syncUninterruptibly();
        ManagedChannel c = NettyChannelBuilder.forAddress(address)
                .channelType(LocalChannel.class)
                .eventLoopGroup(group)
                .maxInboundMessageSize(UnixSockets.MAX_MESSAGE_BYTES)
                .usePlaintext()
                .build();
        // The private server channel closes with its event loop.
        return UnixSockets.owning(c, new UnixSockets.EventLoops(List.of(group)));
    }

    private static void dialed(LocalChannel ch, StreamDialer dialer) {
        DuplexStream stream;
        try {
            stream = dialer.dial();
        } catch (IOException | RuntimeException e) {
            // gRPC sees the connection close and reports UNAVAILABLE.
            ch.close();
            return;
        }
        Splice s = new Splice(stream, () -> {});
        // On the channel's event loop: a handler added from another thread is only pending until its event loop
        // runs handlerAdded, and a read that reached the pipeline meanwhile would pass it by (the gRPC client's
        // preface went to the pipeline's tail and was lost: the server then saw a SETTINGS ack first). Added on
        // the loop, it is in place before the first read, which turning auto-read on starts.
        ch.eventLoop().execute(() -> {
            ch.pipeline().addLast(s.handler());
            s.start(ch);
            ch.config().setAutoRead(true);
        });
    }
}
