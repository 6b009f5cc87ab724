package dev.berth.core.streaming;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.util.ReferenceCountUtil;

import java.io.IOException;

/**
 * The Kubernetes channel protocol over WebSocket: every binary message starts with a channel byte. With v5, the
 * message {@code [255, n]} half-closes channel {@code n}. Fragmented messages continue the channel of their first
 * frame. Netty's codec does the framing; this class does the channels.
 */
final class WebSocketConnection extends StreamConnection<WebSocketConnection.Listener> implements Wire {

    /** Receives channel events on the event loop. */
    interface Listener extends Ends {
        void onData(int channel, ByteBuf data);

        void onClose(int channel);
    }

    static final int MAX_MESSAGE = 16 * 1024;

    private final boolean closeSignals;
    private int continuing = -1; // channel of the fragmented message in progress

    WebSocketConnection(Channel channel, OutboundGate gate, StreamingStats stats, boolean closeSignals) {
        super(channel, gate, stats);
        this.closeSignals = closeSignals;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            switch (msg) {
                case BinaryWebSocketFrame frame -> {
                    ByteBuf content = frame.content();
                    if (!content.isReadable()) {
                        return;
                    }
                    int ch = content.readUnsignedByte();
                    if (ch == KubeProtocol.CH_CLOSE && closeSignals) {
                        continuing = -1;
                        if (content.isReadable()) {
                            listener.onClose(content.readUnsignedByte());
                        }
                        return;
                    }
                    continuing = frame.isFinalFragment() ? -1 : ch;
                    deliver(ch, content);
                }
                case ContinuationWebSocketFrame frame -> {
                    if (continuing >= 0) {
                        deliver(continuing, frame.content());
                    }
                    if (frame.isFinalFragment()) {
                        continuing = -1;
                    }
                }
                case PingWebSocketFrame ping -> ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()));
                case CloseWebSocketFrame ignored -> ctx.writeAndFlush(new CloseWebSocketFrame(
                        WebSocketCloseStatus.NORMAL_CLOSURE)).addListener(f -> ctx.close());
                case WebSocketFrame ignored -> { // text frames: the base64 protocols are not offered
                    ctx.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.INVALID_MESSAGE_TYPE))
                            .addListener(f -> ctx.close());
                }
                default -> { }
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void deliver(int ch, ByteBuf data) {
        if (data.isReadable()) {
            listener.onData(ch, data);
        }
    }

    @Override
    public void write(int ch, byte[] b, int off, int len) throws IOException {
        do {
            int n = Math.min(len, MAX_MESSAGE);
            ByteBuf buf = Unpooled.buffer(n + 1);
            buf.writeByte(ch);
            buf.writeBytes(b, off, n);
            gate.acquire(n);
            channel.writeAndFlush(new BinaryWebSocketFrame(buf)).addListener(f -> gate.release(n));
            off += n;
            len -= n;
        } while (len > 0);
    }

    /** Writes a message that is just the channel byte and {@code b}, without waiting for room (small messages). */
    void writeSmall(int ch, byte[] b) {
        ByteBuf buf = Unpooled.buffer(b.length + 1);
        buf.writeByte(ch);
        buf.writeBytes(b);
        channel.writeAndFlush(new BinaryWebSocketFrame(buf));
    }

    /**
     * The server does not signal closed channels: Kubernetes clients do not expect it, and the normal closure
     * that ends every session closes all channels at once.
     */
    @Override
    public void closeChannel(int ch) {
    }

    @Override
    public void finish() {
        channel.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.NORMAL_CLOSURE))
                .addListener(f -> Connections.closeGracefully(channel));
    }
}
