package dev.berth.core.streaming;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * What the two upgraded stream protocols (SPDY/3 and the WebSocket channel protocol) share once the HTTP upgrade is
 * done: the channel, the gate that holds back writers while the socket's buffer is full, the listener that the
 * session behind the connection sets, and the end of the connection (the client went, it sat idle too long, or it
 * failed), which closes the gate and tells the listener.
 *
 * @param <L> the protocol's listener
 */
abstract class StreamConnection<L extends StreamConnection.Ends> extends ChannelInboundHandlerAdapter {

    /** The part of a listener every protocol has: the connection is gone. */
    interface Ends {
        void onDisconnect();
    }

    final Channel channel;
    final OutboundGate gate;
    final StreamingStats stats;
    /** Set once, on the event loop, before the first frame is read; read on the event loop. */
    L listener;

    StreamConnection(Channel channel, OutboundGate gate, StreamingStats stats) {
        this.channel = channel;
        this.gate = gate;
        this.stats = stats;
    }

    final void listener(L listener) {
        this.listener = listener;
    }

    final Channel channel() {
        return channel;
    }

    @Override
    public final void channelInactive(ChannelHandlerContext ctx) throws Exception {
        gate.close();
        if (listener != null) {
            listener.onDisconnect();
        }
        super.channelInactive(ctx);
    }

    @Override
    public final void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (Connections.isIdle(evt)) {
            stats.countIdleClose();
            ctx.close();
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    @Override
    public final void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Connections.log(ctx.channel(), cause);
        ctx.close();
    }
}
