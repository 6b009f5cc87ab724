package dev.berth.core.streaming;

import dev.berth.core.streaming.KubeProtocol.Version;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshakerFactory;
import io.netty.handler.codec.spdy.SpdyFrameCodec;
import io.netty.handler.codec.spdy.SpdyVersion;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The first request on a streaming connection: checks the token in the path ({@code /exec/<token>},
 * {@code /attach/<token>}, {@code /portforward/<token>}) and upgrades to SPDY/3.1 or WebSocket. Anything unknown,
 * used or expired gets the same bare 404.
 */
final class HttpEntry extends SimpleChannelInboundHandler<FullHttpRequest> {

    static final int MAX_WEBSOCKET_FRAME = 128 * 1024;

    private static final List<String> REMOTE_COMMAND_SPDY = Arrays.stream(Version.values()).map(v -> v.id).toList();
    private static final List<String> REMOTE_COMMAND_WS =
            List.of(KubeProtocol.WS_V5, KubeProtocol.WS_V4, KubeProtocol.WS_V1);
    private static final List<String> PORT_FORWARD_SPDY = List.of(KubeProtocol.PORT_FORWARD);
    private static final List<String> PORT_FORWARD_WS =
            List.of(KubeProtocol.WS_V4, KubeProtocol.WS_V1, KubeProtocol.PORT_FORWARD);

    private final StreamingServer server;
    /** Closes the connection unless its first request has come whole by then. */
    private ScheduledFuture<?> deadline;

    HttpEntry(StreamingServer server) {
        this.server = server;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        deadline = ctx.executor().schedule(() -> {
            server.stats().countRejected();
            ctx.close();
        }, server.requestTimeoutMillis(), TimeUnit.MILLISECONDS);
        super.channelActive(ctx);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelDeadline();
    }

    private void cancelDeadline() {
        if (deadline != null) {
            deadline.cancel(false);
            deadline = null;
        }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        cancelDeadline();
        if (!ctx.channel().isActive()) {
            return; // the rest of a request cut short by the close: there is no one to answer
        }
        if (!req.decoderResult().isSuccess()) {
            reject(ctx, HttpResponseStatus.BAD_REQUEST, "bad request");
            return;
        }
        QueryStringDecoder uri = new QueryStringDecoder(req.uri());
        String[] parts = uri.path().split("/");
        if (parts.length != 3 || !parts[0].isEmpty()) {
            notFound(ctx);
            return;
        }
        if (!HttpMethod.GET.equals(req.method()) && !HttpMethod.POST.equals(req.method())) {
            notFound(ctx);
            return;
        }
        Optional<StreamRequest> found = server.tokens().consume(parts[1], parts[2]);
        if (found.isEmpty()) {
            notFound(ctx);
            return;
        }
        StreamRequest request = found.get();
        String upgrade = req.headers().get(HttpHeaderNames.UPGRADE, "");
        if (upgrade.equalsIgnoreCase("websocket")) {
            upgradeWebSocket(ctx, req, request, uri);
        } else if (upgrade.equalsIgnoreCase(KubeProtocol.SPDY_UPGRADE)
                && req.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)) {
            upgradeSpdy(ctx, req, request);
        } else {
            reject(ctx, HttpResponseStatus.BAD_REQUEST, "unable to upgrade: missing upgrade headers in request");
        }
    }

    private void upgradeSpdy(ChannelHandlerContext ctx, FullHttpRequest req, StreamRequest request) {
        boolean portForward = request instanceof StreamRequest.PortForward;
        List<String> supported = portForward ? PORT_FORWARD_SPDY : REMOTE_COMMAND_SPDY;
        List<String> offered = req.headers().getAll(KubeProtocol.HEADER_PROTOCOL_VERSION);
        String protocol = null;
        if (!offered.isEmpty()) {
            Optional<String> chosen = KubeProtocol.negotiate(offered, supported);
            if (chosen.isEmpty()) {
                reject(ctx, HttpResponseStatus.FORBIDDEN, "unable to upgrade: unable to negotiate protocol: "
                        + "client supports " + offered + ", server supports " + supported);
                return;
            }
            protocol = chosen.get();
        }
        DefaultHttpResponse switching = new DefaultHttpResponse(HttpVersion.HTTP_1_1,
                HttpResponseStatus.SWITCHING_PROTOCOLS);
        switching.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
        switching.headers().set(HttpHeaderNames.UPGRADE, KubeProtocol.SPDY_UPGRADE);
        if (protocol != null) {
            switching.headers().set(KubeProtocol.HEADER_PROTOCOL_VERSION, protocol);
        }
        ctx.writeAndFlush(switching);

        ChannelPipeline p = ctx.pipeline();
        SpdyConnection spdy = new SpdyConnection(ctx.channel(), server.newGate(), server.stats());
        ReadThrottle throttle = new ReadThrottle(ctx.channel(), server.stats());
        if (request instanceof StreamRequest.PortForward pf) {
            spdy.listener(new SpdyPortForward(spdy, pf, server.targets(), throttle, server.bufferBytes(),
                    server.stats()));
        } else {
            Version version = protocol == null ? Version.V1 : Version.of(protocol).orElseThrow();
            SpdyRemoteCommand[] holder = new SpdyRemoteCommand[1];
            Wire wire = new Wire() { // the session needs the wire before the adapter exists
                @Override
                public void write(int channel, byte[] b, int off, int len) throws java.io.IOException {
                    holder[0].write(channel, b, off, len);
                }

                @Override
                public void closeChannel(int channel) {
                    holder[0].closeChannel(channel);
                }

                @Override
                public void finish() {
                    holder[0].finish();
                }
            };
            RemoteCommandSession session = new RemoteCommandSession(request, version, wire, throttle,
                    server.bufferBytes(), server.targets(), server.stats());
            holder[0] = new SpdyRemoteCommand(spdy, session);
            spdy.listener(holder[0]);
        }
        String codec = p.context(HttpServerCodec.class).name();
        p.addBefore(codec, "read-throttle", throttle);
        p.addAfter(codec, "spdy-codec", new SpdyFrameCodec(SpdyVersion.SPDY_3_1));
        p.addAfter("spdy-codec", "spdy", spdy);
        p.remove(this);
        p.remove(HttpObjectAggregator.class);
        p.remove(HttpServerCodec.class);
    }

    private void upgradeWebSocket(ChannelHandlerContext ctx, FullHttpRequest req, StreamRequest request,
                                  QueryStringDecoder uri) {
        boolean portForward = request instanceof StreamRequest.PortForward;
        List<String> offered = req.headers().getAll(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL);
        Optional<String> chosen = KubeProtocol.negotiate(offered, portForward ? PORT_FORWARD_WS : REMOTE_COMMAND_WS);
        if (chosen.isEmpty()) {
            reject(ctx, HttpResponseStatus.BAD_REQUEST, "unable to upgrade: no supported WebSocket subprotocol in "
                    + offered);
            return;
        }
        List<Integer> ports = List.of();
        if (request instanceof StreamRequest.PortForward pf) {
            ports = webSocketPorts(pf, uri);
            if (ports.isEmpty()) {
                reject(ctx, HttpResponseStatus.BAD_REQUEST, "query parameter \"port\" is required");
                return;
            }
        }
        String location = (server.settings().tls() ? "wss://" : "ws://") + req.headers().get(HttpHeaderNames.HOST)
                + req.uri();
        WebSocketServerHandshaker handshaker = new WebSocketServerHandshakerFactory(location, chosen.get(), false,
                MAX_WEBSOCKET_FRAME).newHandshaker(req);
        if (handshaker == null) {
            WebSocketServerHandshakerFactory.sendUnsupportedVersionResponse(ctx.channel())
                    .addListener(ChannelFutureListener.CLOSE);
            return;
        }
        String protocol = chosen.get();
        WebSocketConnection ws = new WebSocketConnection(ctx.channel(), server.newGate(), server.stats(),
                protocol.equals(KubeProtocol.WS_V5));
        ReadThrottle throttle = new ReadThrottle(ctx.channel(), server.stats());
        Runnable start;
        if (request instanceof StreamRequest.PortForward pf) {
            WebSocketPortForward forward = new WebSocketPortForward(ws, pf.sandboxId(), ports, server.targets(),
                    throttle, server.bufferBytes(), server.stats());
            ws.listener(forward);
            start = forward::start;
        } else {
            Version version = protocol.equals(KubeProtocol.WS_V5) ? Version.V5
                    : protocol.equals(KubeProtocol.WS_V4) ? Version.V4 : Version.V1;
            RemoteCommandSession session = new RemoteCommandSession(request, version, ws, throttle,
                    server.bufferBytes(), server.targets(), server.stats());
            ws.listener(new WebSocketConnection.Listener() {
                @Override
                public void onData(int channel, io.netty.buffer.ByteBuf data) {
                    session.onData(channel, data);
                }

                @Override
                public void onClose(int channel) {
                    session.onClose(channel);
                }

                @Override
                public void onDisconnect() {
                    session.onDisconnect();
                }
            });
            start = session::start;
        }
        ctx.pipeline().addBefore(ctx.pipeline().context(HttpServerCodec.class).name(), "read-throttle", throttle);
        ctx.pipeline().replace(this, "websocket", ws);
        handshaker.handshake(ctx.channel(), req).addListener(f -> {
            if (f.isSuccess()) {
                start.run();
            } else {
                ctx.channel().close();
            }
        });
    }

    /** The ports in the query ({@code ?port=80&port=8080}) or else the request's own. */
    private static List<Integer> webSocketPorts(StreamRequest.PortForward pf, QueryStringDecoder uri) {
        List<String> query = uri.parameters().getOrDefault("port", List.of());
        if (query.isEmpty()) {
            return pf.ports();
        }
        List<Integer> ports = new ArrayList<>();
        for (String value : query) {
            for (String part : value.split(",")) {
                int port;
                try {
                    port = Integer.parseInt(part.trim());
                } catch (NumberFormatException e) {
                    return List.of();
                }
                if (port <= 0 || port > 65535 || (!pf.ports().isEmpty() && !pf.ports().contains(port))) {
                    return List.of();
                }
                ports.add(port);
            }
        }
        return ports;
    }

    private void notFound(ChannelHandlerContext ctx) {
        reject(ctx, HttpResponseStatus.NOT_FOUND, "404 page not found");
    }

    private void reject(ChannelHandlerContext ctx, HttpResponseStatus status, String message) {
        server.stats().countRejected();
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer(message + "\n", StandardCharsets.UTF_8));
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
        res.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, res.content().readableBytes());
        res.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (Connections.isIdle(evt)) {
            ctx.close();
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Connections.log(ctx.channel(), cause);
        ctx.close();
    }
}
