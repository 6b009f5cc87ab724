package dev.berth.core.streaming;

import dev.berth.spi.BackendException;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.time.InstantSource;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The streaming server behind the CRI {@code Exec}, {@code Attach} and {@code PortForward} calls: each call gets a
 * URL with a random single-use token, and the client (kubelet, crictl) upgrades that URL to SPDY/3.1 or WebSocket
 * and speaks the Kubernetes streaming protocols there. Backends are called on virtual threads, never on Netty's.
 */
public final class StreamingServer implements AutoCloseable {

    static final long REQUEST_TIMEOUT_MILLIS = 30_000;
    private static final long TOKEN_PURGE_SECONDS = 30;

    private final StreamingSettings settings;
    private final StreamTargets targets;
    private final TokenRegistry tokens;
    private final StreamingStats stats = new StreamingStats();
    private final ChannelGroup connections = new DefaultChannelGroup("berth-streaming", GlobalEventExecutor.INSTANCE);
    private final ReentrantLock lifecycle = new ReentrantLock();
    private EventLoopGroup bossGroup;
    private EventLoopGroup workerGroup;
    private Channel serverChannel;
    private volatile URI baseUrl;

    public StreamingServer(StreamingSettings settings, StreamTargets targets) {
        this(settings, targets, InstantSource.system());
    }

    /** With a clock of the caller's, so token expiry can be tested without waiting. */
    public StreamingServer(StreamingSettings settings, StreamTargets targets, InstantSource clock) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.targets = Objects.requireNonNull(targets, "targets");
        this.tokens = new TokenRegistry(Objects.requireNonNull(clock, "clock"), settings.tokenTtl());
    }

    /** Binds the port; {@link #baseUrl()} is known afterwards. */
    public void start() {
        lifecycle.lock();
        try {
            startLocked();
        } finally {
            lifecycle.unlock();
        }
    }

    private void startLocked() {
        if (serverChannel != null) {
            throw new IllegalStateException("streaming server already started");
        }
        SslContext ssl = null;
        if (settings.tls()) {
            try {
                ssl = SslContextBuilder.forServer(settings.tlsCert().toFile(), settings.tlsKey().toFile()).build();
            } catch (javax.net.ssl.SSLException | IllegalArgumentException e) {
                throw new IllegalStateException("failed to load streaming TLS certificate \"" + settings.tlsCert()
                        + "\": " + e.getMessage(), e);
            }
        }
        SslContext sslContext = ssl;
        bossGroup = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("berth-streaming-accept", true),
                NioIoHandler.newFactory());
        workerGroup = new MultiThreadIoEventLoopGroup(2, new DefaultThreadFactory("berth-streaming-io", true),
                NioIoHandler.newFactory());
        long idleMillis = settings.idleTimeout().toMillis();
        int watermark = settings.maxBufferedBytes();
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(bossGroup, workerGroup)
                .channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOW_HALF_CLOSURE, false)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                        new WriteBufferWaterMark(watermark / 2, watermark))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.add(ch);
                        ChannelPipeline p = ch.pipeline();
                        if (sslContext != null) {
                            p.addLast("tls", sslContext.newHandler(ch.alloc()));
                        }
                        p.addLast("idle", new IdleStateHandler(0, 0, idleMillis, TimeUnit.MILLISECONDS));
                        p.addLast("http", new HttpServerCodec());
                        p.addLast("http-aggregator", new HttpObjectAggregator(64 * 1024));
                        p.addLast("entry", new HttpEntry(StreamingServer.this));
                    }
                });
        try {
            serverChannel = bootstrap.bind(settings.address(), settings.port()).sync().channel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new IllegalStateException("interrupted while binding the streaming server", e);
        } catch (RuntimeException e) {
            close();
            throw new IllegalStateException("failed to bind streaming server to " + settings.address() + ":"
                    + settings.port() + ": " + e.getMessage(), e);
        }
        InetSocketAddress bound = (InetSocketAddress) serverChannel.localAddress();
        baseUrl = URI.create((settings.tls() ? "https" : "http") + "://" + urlHost(bound.getAddress()) + ":"
                + bound.getPort());
        workerGroup.scheduleAtFixedRate(tokens::purgeExpired, TOKEN_PURGE_SECONDS, TOKEN_PURGE_SECONDS,
                TimeUnit.SECONDS);
    }

    /** A wildcard bind is announced as loopback: the kubelet runs on the same node. */
    private static String urlHost(InetAddress address) {
        if (address.isAnyLocalAddress()) {
            return address instanceof Inet6Address ? "[::1]" : "127.0.0.1";
        }
        String host = address.getHostAddress();
        return address instanceof Inet6Address ? "[" + host.replaceAll("%.*$", "") + "]" : host;
    }

    public URI baseUrl() {
        URI url = baseUrl;
        if (url == null) {
            throw new IllegalStateException("streaming server not started");
        }
        return url;
    }

    /**
     * A single-use URL for an interactive command in a container.
     *
     * @throws BackendException {@code INVALID_ARGUMENT} for an empty id or command, tty together with stderr (a
     *                          terminal has one output), or no stream at all, as the kubelet's own checks
     */
    public URI execUrl(String containerId, List<String> cmd, boolean tty, boolean stdin, boolean stdout,
                       boolean stderr) {
        checkStreams("exec in", containerId, tty, stdin, stdout, stderr);
        if (cmd == null || cmd.isEmpty()) {
            throw BackendException.invalid("failed to exec in container \"" + containerId + "\": no command");
        }
        // The URL carries only the token: commands may hold secrets, and URLs end up in logs.
        return url(new StreamRequest.Exec(containerId, cmd, tty, stdin, stdout, stderr));
    }

    /**
     * A single-use URL for the stdio of a container's main process.
     *
     * @throws BackendException {@code INVALID_ARGUMENT} as for {@link #execUrl}
     */
    public URI attachUrl(String containerId, boolean tty, boolean stdin, boolean stdout, boolean stderr) {
        checkStreams("attach to", containerId, tty, stdin, stdout, stderr);
        return url(new StreamRequest.Attach(containerId, tty, stdin, stdout, stderr));
    }

    /**
     * A single-use URL for port-forwarding into a pod; an empty list allows any port the client names.
     *
     * @throws BackendException {@code INVALID_ARGUMENT} for an empty id or a port outside 1–65535
     */
    public URI portForwardUrl(String sandboxId, List<Integer> ports) {
        if (sandboxId == null || sandboxId.isEmpty()) {
            throw BackendException.invalid("failed to forward ports: no pod sandbox id");
        }
        for (Integer port : ports) {
            if (port == null || port <= 0 || port > 65535) {
                throw BackendException.invalid("failed to forward ports to pod sandbox \"" + sandboxId
                        + "\": port " + port + " is out of range");
            }
        }
        return url(new StreamRequest.PortForward(sandboxId, ports));
    }

    private static void checkStreams(String verb, String containerId, boolean tty, boolean stdin, boolean stdout,
                                     boolean stderr) {
        if (containerId == null || containerId.isEmpty()) {
            throw BackendException.invalid("failed to " + verb + " container: no container id");
        }
        String failed = "failed to " + verb + " container \"" + containerId + "\": ";
        if (tty && stderr) {
            throw BackendException.invalid(failed + "tty and stderr cannot both be true");
        }
        if (!stdin && !stdout && !stderr) {
            throw BackendException.invalid(failed + "one of stdin, stdout, or stderr must be set");
        }
    }

    private URI url(StreamRequest request) {
        URI base = baseUrl();
        return URI.create(base + "/" + request.kind() + "/" + tokens.issue(request));
    }

    public StreamingStats stats() {
        return stats;
    }

    /** Closes the listener and every session; backends see their clients go away. */
    @Override
    public void close() {
        lifecycle.lock();
        try {
            closeLocked();
        } finally {
            lifecycle.unlock();
        }
    }

    private void closeLocked() {
        if (serverChannel != null) {
            serverChannel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        connections.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        if (bossGroup != null) {
            bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        }
        if (workerGroup != null) {
            workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    TokenRegistry tokens() {
        return tokens;
    }

    StreamTargets targets() {
        return targets;
    }

    StreamingSettings settings() {
        return settings;
    }

    int bufferBytes() {
        return settings.maxBufferedBytes();
    }

    /**
     * How long a connection may take to send its whole first request (30 s, or the idle timeout if shorter): a
     * client that connects and then sends nothing, or a header line now and then, holds a connection and a file
     * descriptor only that long.
     */
    long requestTimeoutMillis() {
        return Math.min(settings.idleTimeout().toMillis(), REQUEST_TIMEOUT_MILLIS);
    }

    OutboundGate newGate() {
        return new OutboundGate(settings.maxBufferedBytes(), stats);
    }
}
