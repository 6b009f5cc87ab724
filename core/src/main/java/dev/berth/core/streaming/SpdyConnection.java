package dev.berth.core.streaming;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.spdy.DefaultSpdyDataFrame;
import io.netty.handler.codec.spdy.DefaultSpdyGoAwayFrame;
import io.netty.handler.codec.spdy.DefaultSpdyPingFrame;
import io.netty.handler.codec.spdy.DefaultSpdyRstStreamFrame;
import io.netty.handler.codec.spdy.DefaultSpdySynReplyFrame;
import io.netty.handler.codec.spdy.DefaultSpdyWindowUpdateFrame;
import io.netty.handler.codec.spdy.SpdyDataFrame;
import io.netty.handler.codec.spdy.SpdyGoAwayFrame;
import io.netty.handler.codec.spdy.SpdyHeaders;
import io.netty.handler.codec.spdy.SpdyPingFrame;
import io.netty.handler.codec.spdy.SpdyRstStreamFrame;
import io.netty.handler.codec.spdy.SpdyStreamStatus;
import io.netty.handler.codec.spdy.SpdySynStreamFrame;
import io.netty.util.ReferenceCountUtil;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * The server side of a SPDY/3 connection after the HTTP upgrade, as Kubernetes clients use it: the client opens
 * every stream, the server replies to each, and data flows both ways on them. Frames come from Netty's
 * {@code SpdyFrameCodec}; this class only does the stream bookkeeping.
 *
 * <p>Flow control: client-go's SPDY library neither sends nor honours WINDOW_UPDATE, so the server does not wait
 * for send windows (it relies on TCP and the {@link OutboundGate}); it does grant receive windows as data arrives, so
 * a client that honours them keeps going, while a full {@link InboundPipe} stops reading the socket.
 */
final class SpdyConnection extends StreamConnection<SpdyConnection.Listener> {

    /** Receives stream events on the event loop. */
    interface Listener extends Ends {
        /** A new stream; return false to refuse it. {@code fin} means the client will not send data on it. */
        boolean onStream(int streamId, SpdyHeaders headers, boolean fin);

        /** Data for a stream; the listener does not keep {@code data}. */
        void onData(int streamId, ByteBuf data, boolean fin);

        void onReset(int streamId);
    }

    static final int MAX_FRAME = 16 * 1024;
    private static final int WINDOW_GRANT = 32 * 1024;

    private int lastClientStream;
    private final Map<Integer, Integer> unacknowledged = new HashMap<>();
    private int sessionUnacknowledged;
    private boolean goingAway;

    SpdyConnection(Channel channel, OutboundGate gate, StreamingStats stats) {
        super(channel, gate, stats);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            switch (msg) {
                case SpdySynStreamFrame syn -> onSynStream(ctx, syn);
                case SpdyDataFrame data -> onData(ctx, data);
                case SpdyRstStreamFrame rst -> {
                    unacknowledged.remove(rst.streamId());
                    listener.onReset(rst.streamId());
                }
                case SpdyPingFrame ping -> {
                    if ((ping.id() & 1) == 1) { // the client's ping: echo it
                        ctx.writeAndFlush(new DefaultSpdyPingFrame(ping.id()));
                    }
                }
                case SpdyGoAwayFrame ignored -> {
                    goingAway = true;
                    ctx.close();
                }
                default -> { } // SETTINGS, WINDOW_UPDATE, HEADERS: nothing to do
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onSynStream(ChannelHandlerContext ctx, SpdySynStreamFrame syn) {
        int id = syn.streamId();
        if ((id & 1) == 0 || id <= lastClientStream || goingAway) {
            ctx.writeAndFlush(new DefaultSpdyRstStreamFrame(id, SpdyStreamStatus.PROTOCOL_ERROR));
            return;
        }
        lastClientStream = id;
        DefaultSpdySynReplyFrame reply = new DefaultSpdySynReplyFrame(id);
        // Never an empty header block: Go's SPDY framer cannot parse one.
        String type = syn.headers().getAsString(KubeProtocol.HEADER_STREAM_TYPE);
        reply.headers().set(KubeProtocol.HEADER_STREAM_TYPE, type == null ? "" : type);
        ctx.writeAndFlush(reply);
        if (!listener.onStream(id, syn.headers(), syn.isLast() || syn.isUnidirectional())) {
            ctx.writeAndFlush(new DefaultSpdyRstStreamFrame(id, SpdyStreamStatus.REFUSED_STREAM));
        }
    }

    private void onData(ChannelHandlerContext ctx, SpdyDataFrame data) {
        int id = data.streamId();
        int n = data.content().readableBytes();
        listener.onData(id, data.content(), data.isLast());
        if (data.isLast()) {
            unacknowledged.remove(id);
        } else if (n > 0) {
            int pending = unacknowledged.merge(id, n, Integer::sum);
            if (pending >= WINDOW_GRANT) {
                unacknowledged.put(id, 0);
                ctx.write(new DefaultSpdyWindowUpdateFrame(id, pending));
            }
        }
        sessionUnacknowledged += n;
        if (sessionUnacknowledged >= WINDOW_GRANT) {
            ctx.write(new DefaultSpdyWindowUpdateFrame(0, sessionUnacknowledged));
            sessionUnacknowledged = 0;
        }
        ctx.flush();
    }

    /** Writes data on a stream, blocking while the client is slow. Called on backend threads. */
    void write(int streamId, byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            int n = Math.min(len, MAX_FRAME);
            byte[] copy = java.util.Arrays.copyOfRange(b, off, off + n);
            gate.acquire(n);
            channel.writeAndFlush(new DefaultSpdyDataFrame(streamId, Unpooled.wrappedBuffer(copy)))
                    .addListener(f -> gate.release(n));
            off += n;
            len -= n;
        }
    }

    /** Half-closes a stream from the server's side. */
    void finishStream(int streamId) {
        DefaultSpdyDataFrame fin = new DefaultSpdyDataFrame(streamId);
        fin.setLast(true);
        channel.writeAndFlush(fin);
    }

    void resetStream(int streamId) {
        channel.writeAndFlush(new DefaultSpdyRstStreamFrame(streamId, SpdyStreamStatus.CANCEL));
    }

    /** Says goodbye once everything written so far is sent, then closes the connection. */
    void goAway() {
        channel.eventLoop().execute(() -> {
            goingAway = true;
            channel.writeAndFlush(new DefaultSpdyGoAwayFrame(lastClientStream))
                    .addListener(f -> Connections.closeGracefully(channel));
        });
    }
}
