package dev.berth.core;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * grpc-java over epoll unix domain sockets, server and client side. Netty does not shut down event loop groups
 * it is given, so whoever builds a server or channel here also owns its event loops: {@link EventLoops#close}
 * after the server has terminated, and a channel from {@link #channel} closes its own when it terminates.
 */
public final class UnixSockets {
    /** CRI messages are small; this bounds what one request may make berth buffer. */
    public static final int MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

    private UnixSockets() {}

    /** Event loop groups that must be shut down once the server or channel using them has terminated. */
    public record EventLoops(List<EventLoopGroup> groups) implements AutoCloseable {
        public EventLoops {
            groups = List.copyOf(groups);
        }

        /** Whether every group has finished shutting down. */
        public boolean terminated() {
            return groups.stream().allMatch(EventLoopGroup::isTerminated);
        }

        /** Shuts every group down without a quiet period and waits (up to five seconds) for its threads. */
        @Override
        public void close() {
            groups.forEach(g -> g.shutdownGracefully(0, 5, TimeUnit.SECONDS));
            for (EventLoopGroup g : groups) {
                g.terminationFuture().awaitUninterruptibly(5, TimeUnit.SECONDS);
            }
        }
    }

    /** A server builder on {@code socket} and the event loops it will run on. */
    public record Server(NettyServerBuilder builder, EventLoops eventLoops) {}

    public static Server server(Path socket) {
        EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        EventLoopGroup worker = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
        NettyServerBuilder b = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollServerDomainSocketChannel.class)
                .bossEventLoopGroup(boss)
                .workerEventLoopGroup(worker)
                .maxInboundMessageSize(MAX_MESSAGE_BYTES);
        return new Server(b, new EventLoops(List.of(boss, worker)));
    }

    /** A plaintext channel to {@code socket}; its event loop is shut down when the channel terminates. */
    public static ManagedChannel channel(Path socket) {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        ManagedChannel c = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(group)
                .maxInboundMessageSize(MAX_MESSAGE_BYTES)
                .usePlaintext()
                .build();
        return new OwningChannel(c, new EventLoops(List.of(group)));
    }

    /** {@code channel}, which closes {@code eventLoops} once it has terminated (for other transports' channels). */
    public static ManagedChannel owning(ManagedChannel channel, EventLoops eventLoops) {
        return new OwningChannel(channel, eventLoops);
    }

    /** A channel that closes its event loops once it has terminated. */
    static final class OwningChannel extends ManagedChannel {
        private final ManagedChannel delegate;
        private final EventLoops eventLoops;

        OwningChannel(ManagedChannel delegate, EventLoops eventLoops) {
            this.delegate = delegate;
            this.eventLoops = eventLoops;
        }

        EventLoops eventLoops() {
            return eventLoops;
        }

        @Override
        public ManagedChannel shutdown() {
            delegate.shutdown();
            closeWhenTerminated();
            return this;
        }

        @Override
        public ManagedChannel shutdownNow() {
            delegate.shutdownNow();
            closeWhenTerminated();
            return this;
        }

        private void closeWhenTerminated() {
            Thread.ofVirtual().name("unix-channel-close").start(() -> {
                try {
                    delegate.awaitTermination(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                eventLoops.close();
            });
        }

        @Override
        public boolean isShutdown() {
            return delegate.isShutdown();
        }

        @Override
        public boolean isTerminated() {
            return delegate.isTerminated() && eventLoops.terminated();
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
            long deadline = System.nanoTime() + unit.toNanos(timeout);
            if (!delegate.awaitTermination(timeout, unit)) {
                return false;
            }
            for (EventLoopGroup g : eventLoops.groups()) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !g.awaitTermination(left, TimeUnit.NANOSECONDS)) {
                    return g.isTerminated();
                }
            }
            return true;
        }

        @Override
        public <Q, R> ClientCall<Q, R> newCall(MethodDescriptor<Q, R> method, CallOptions options) {
            return delegate.newCall(method, options);
        }

        @Override
        public String authority() {
            return delegate.authority();
        }
    }
}
