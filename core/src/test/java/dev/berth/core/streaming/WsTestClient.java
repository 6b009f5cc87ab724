package dev.berth.core.streaming;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketClientHandshakerFactory;
import io.netty.handler.codec.http.websocketx.WebSocketFrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketVersion;
import io.netty.handler.ssl.SslContext;

import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A WebSocket client of the Kubernetes channel protocol: binary messages prefixed by the channel byte. */
public final class WsTestClient implements AutoCloseable {

    public final Inbox inbox = new Inbox();
    /** The subprotocol the server chose, or the HTTP status code of a refused upgrade, as text. */
    final CompletableFuture<String> handshake = new CompletableFuture<>();
    volatile int closeStatus = -1;
    private final Channel channel;
    private final WebSocketClientHandshaker handshaker;
    private int continuing = -1;

    private WsTestClient(EventLoopGroup group, URI url, String protocols, SslContext ssl) throws Exception {
        URI ws = new URI(url.getScheme().equals("https") ? "wss" : "ws", url.getRawAuthority(), url.getRawPath(),
                url.getRawQuery(), null);
        handshaker = WebSocketClientHandshakerFactory.newHandshaker(ws, WebSocketVersion.V13, protocols, false,
                new DefaultHttpHeaders(), 1 << 20);
        channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (ssl != null) {
                            ch.pipeline().addLast(ssl.newHandler(ch.alloc(), url.getHost(), url.getPort()));
                        }
                        ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(64 * 1024),
                                new Handler());
                    }
                }).connect(url.getHost(), url.getPort()).sync().channel();
        channel.closeFuture().addListener(f -> {
            inbox.close();
            if (!handshaker.isHandshakeComplete()) {
                handshake.completeExceptionally(new IllegalStateException("connection closed"));
            }
        });
        // On the event loop: from another thread, the listener that adds Netty's frame encoder to the pipeline may
        // be added after the write completed, so it runs as a later loop task; if the server's 101 is read first,
        // finishHandshake has removed the HTTP codec, the listener finds no codec and no encoder is ever added.
        channel.eventLoop().submit(() -> handshaker.handshake(channel)).sync();
    }

    public static WsTestClient connect(EventLoopGroup group, URI url, String protocols) throws Exception {
        return new WsTestClient(group, url, protocols, null);
    }

    static WsTestClient connect(EventLoopGroup group, URI url, String protocols, SslContext ssl) throws Exception {
        return new WsTestClient(group, url, protocols, ssl);
    }

    public String awaitHandshake() throws Exception {
        String protocol = handshake.get(Inbox.WAIT.toSeconds(), TimeUnit.SECONDS);
        // Netty adds the frame encoder from the listener of the upgrade request's write, not in finishHandshake;
        // a frame sent before it is in the pipeline would reach the socket unencoded.
        if (protocol == null || !protocol.matches("\\d+")) {
            inbox.await("the WebSocket frame encoder", () -> !channel.isActive() || channel.pipeline().toMap()
                    .values().stream().anyMatch(h -> h instanceof WebSocketFrameEncoder));
        }
        return protocol;
    }

    public void send(int ch, byte[] data) {
        ByteBuf buf = Unpooled.buffer(data.length + 1);
        buf.writeByte(ch);
        buf.writeBytes(data);
        channel.writeAndFlush(new BinaryWebSocketFrame(buf)).syncUninterruptibly();
    }

    public void send(int ch, String text) {
        send(ch, text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /** The v5 close signal for a channel. */
    public void closeChannel(int ch) {
        channel.writeAndFlush(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {(byte) 255, (byte) ch})))
                .syncUninterruptibly();
    }

    void awaitClosed() throws Exception {
        inbox.await("connection close", inbox::closed);
    }

    Channel channel() {
        return channel;
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }

    private final class Handler extends SimpleChannelInboundHandler<Object> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, Object msg) {
            if (!handshaker.isHandshakeComplete()) {
                FullHttpResponse res = (FullHttpResponse) msg;
                if (res.status().code() != 101) {
                    handshake.complete(Integer.toString(res.status().code()));
                    ctx.close();
                    return;
                }
                handshaker.finishHandshake(ctx.channel(), res);
                // finishHandshake removes the HTTP codec in a later event-loop task; send only after it
                String protocol = handshaker.actualSubprotocol();
                ctx.channel().eventLoop().execute(() -> handshake.complete(protocol));
                return;
            }
            switch (msg) {
                case BinaryWebSocketFrame frame -> {
                    ByteBuf content = frame.content();
                    if (!content.isReadable()) {
                        return;
                    }
                    int ch = content.readUnsignedByte();
                    continuing = frame.isFinalFragment() ? -1 : ch;
                    append(ch, content);
                }
                case ContinuationWebSocketFrame frame -> {
                    if (continuing >= 0) {
                        append(continuing, frame.content());
                    }
                }
                case CloseWebSocketFrame close -> {
                    closeStatus = close.statusCode();
                    ctx.writeAndFlush(new CloseWebSocketFrame(close.statusCode(), ""));
                    ctx.close();
                }
                default -> { }
            }
        }

        private void append(int ch, ByteBuf content) {
            byte[] bytes = new byte[content.readableBytes()];
            content.readBytes(bytes);
            inbox.append(ch, bytes);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            handshake.completeExceptionally(cause);
            ctx.close();
        }
    }
}
