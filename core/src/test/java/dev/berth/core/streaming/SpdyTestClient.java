package dev.berth.core.streaming;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.spdy.DefaultSpdyDataFrame;
import io.netty.handler.codec.spdy.DefaultSpdyPingFrame;
import io.netty.handler.codec.spdy.DefaultSpdyRstStreamFrame;
import io.netty.handler.codec.spdy.DefaultSpdySynStreamFrame;
import io.netty.handler.codec.spdy.SpdyDataFrame;
import io.netty.handler.codec.spdy.SpdyFrameCodec;
import io.netty.handler.codec.spdy.SpdyGoAwayFrame;
import io.netty.handler.codec.spdy.SpdyPingFrame;
import io.netty.handler.codec.spdy.SpdyRstStreamFrame;
import io.netty.handler.codec.spdy.SpdyStreamStatus;
import io.netty.handler.codec.spdy.SpdySynReplyFrame;
import io.netty.handler.codec.spdy.SpdyVersion;
import io.netty.handler.ssl.SslContext;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A SPDY/3 client speaking like client-go: upgrade with {@code X-Stream-Protocol-Version}, then open streams with
 * a {@code streamtype} header. It does not do SPDY flow control, as client-go does not.
 */
final class SpdyTestClient implements AutoCloseable {

    final Inbox inbox = new Inbox();
    final Set<Integer> replied = ConcurrentHashMap.newKeySet();
    final CompletableFuture<FullHttpResponse> response = new CompletableFuture<>();
    final AtomicInteger pongs = new AtomicInteger();
    volatile boolean goAway;
    private final AtomicInteger nextStream = new AtomicInteger(1);
    private final Channel channel;

    private SpdyTestClient(EventLoopGroup group, URI url, List<String> protocols, SslContext ssl, int receiveBuffer)
            throws InterruptedException {
        Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (ssl != null) {
                            ch.pipeline().addLast(ssl.newHandler(ch.alloc(), url.getHost(), url.getPort()));
                        }
                        ch.pipeline().addLast("http", new HttpClientCodec());
                        ch.pipeline().addLast("aggregator", new HttpObjectAggregator(64 * 1024));
                        ch.pipeline().addLast("upgrade", new Upgrade());
                    }
                });
        if (receiveBuffer > 0) {
            b.option(ChannelOption.SO_RCVBUF, receiveBuffer);
        }
        channel = b.connect(url.getHost(), url.getPort()).sync().channel();
        String path = url.getRawPath() + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery());
        DefaultFullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, path);
        req.headers().set(HttpHeaderNames.HOST, url.getHost() + ":" + url.getPort());
        req.headers().set(HttpHeaderNames.CONNECTION, "Upgrade");
        req.headers().set(HttpHeaderNames.UPGRADE, "SPDY/3.1");
        req.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0);
        for (String p : protocols) {
            req.headers().add("X-Stream-Protocol-Version", p);
        }
        channel.writeAndFlush(req);
        channel.closeFuture().addListener(f -> {
            inbox.close();
            response.completeExceptionally(new IllegalStateException("connection closed"));
        });
    }

    static SpdyTestClient connect(EventLoopGroup group, URI url, List<String> protocols) throws Exception {
        return connect(group, url, protocols, null, 0);
    }

    static SpdyTestClient connect(EventLoopGroup group, URI url, List<String> protocols, SslContext ssl,
                                  int receiveBuffer) throws Exception {
        return new SpdyTestClient(group, url, protocols, ssl, receiveBuffer);
    }

    /** Waits for the upgrade answer. */
    FullHttpResponse awaitResponse() throws Exception {
        return response.get(Inbox.WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    String protocol() throws Exception {
        return awaitResponse().headers().get("X-Stream-Protocol-Version");
    }

    Channel channel() {
        return channel;
    }

    /** Opens a stream once the upgrade is through, as client-go does. */
    int open(Map<String, String> headers) {
        try {
            if (awaitResponse().status().code() != 101) {
                throw new IllegalStateException("no upgrade: " + awaitResponse().status());
            }
        } catch (Exception e) {
            throw new IllegalStateException("upgrade failed", e);
        }
        int id = nextStream.getAndAdd(2);
        DefaultSpdySynStreamFrame syn = new DefaultSpdySynStreamFrame(id, 0, (byte) 0);
        headers.forEach((k, v) -> syn.headers().set(k.toLowerCase(java.util.Locale.ROOT), v));
        channel.writeAndFlush(syn);
        return id;
    }

    int open(String streamType) {
        return open(Map.of("streamType", streamType));
    }

    void send(int id, byte[] data, boolean fin) {
        DefaultSpdyDataFrame frame = new DefaultSpdyDataFrame(id, Unpooled.wrappedBuffer(data));
        frame.setLast(fin);
        channel.writeAndFlush(frame).syncUninterruptibly();
    }

    void send(int id, String text, boolean fin) {
        send(id, text.getBytes(java.nio.charset.StandardCharsets.UTF_8), fin);
    }

    void fin(int id) {
        send(id, new byte[0], true);
    }

    void reset(int id) {
        channel.writeAndFlush(new DefaultSpdyRstStreamFrame(id, SpdyStreamStatus.CANCEL));
    }

    void ping(int id) {
        channel.writeAndFlush(new DefaultSpdyPingFrame(id));
    }

    void awaitReplies(int... ids) throws Exception {
        inbox.await("SYN_REPLY", () -> {
            for (int id : ids) {
                if (!replied.contains(id)) {
                    return false;
                }
            }
            return true;
        });
    }

    void awaitClosed() throws Exception {
        inbox.await("connection close", inbox::closed);
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    private final class Upgrade extends SimpleChannelInboundHandler<FullHttpResponse> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse res) {
            FullHttpResponse copy = new io.netty.handler.codec.http.DefaultFullHttpResponse(res.protocolVersion(),
                    res.status(), Unpooled.EMPTY_BUFFER, res.headers().copy(), res.trailingHeaders().copy());
            if (res.status().code() == 101) {
                var p = ctx.pipeline();
                p.addAfter("http", "spdy-codec", new SpdyFrameCodec(SpdyVersion.SPDY_3_1));
                p.addAfter("spdy-codec", "frames", new Frames());
                p.remove(this);
                p.remove("aggregator");
                p.remove("http");
            }
            response.complete(copy);
        }
    }

    private final class Frames extends SimpleChannelInboundHandler<Object> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
            switch (msg) {
                case SpdySynReplyFrame reply -> {
                    replied.add(reply.streamId());
                    inbox.append(reply.streamId(), new byte[0]);
                }
                case SpdyDataFrame data -> {
                    byte[] bytes = new byte[data.content().readableBytes()];
                    data.content().readBytes(bytes);
                    inbox.append(data.streamId(), bytes);
                    if (data.isLast()) {
                        inbox.finish(data.streamId());
                    }
                }
                case SpdyRstStreamFrame rst -> inbox.reset(rst.streamId());
                case SpdyGoAwayFrame ignored -> goAway = true;
                case SpdyPingFrame ignored -> pongs.incrementAndGet();
                default -> { }
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
