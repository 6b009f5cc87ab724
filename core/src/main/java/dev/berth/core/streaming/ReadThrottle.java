package dev.berth.core.streaming;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;

import java.util.HashSet;
import java.util.Set;

/**
 * Stops reading a connection while any of its pipes is full, using Netty's auto-read switch, so TCP flow
 * control pushes back on the client. It also sits in the pipeline in front of the codecs and holds back their
 * own read requests while paused: Netty's {@code SpdyFrameCodec} fires frames past {@code ByteToMessageDecoder}'s
 * bookkeeping, which then asks for another read after every read, auto-read or not.
 */
final class ReadThrottle extends ChannelOutboundHandlerAdapter {

    private final Channel channel;
    private final StreamingStats stats;
    private final Set<InboundPipe> full = new HashSet<>(); // touched on the event loop only

    ReadThrottle(Channel channel, StreamingStats stats) {
        this.channel = channel;
        this.stats = stats;
    }

    /** A pipe took {@code bytes} from the client. */
    void received(int bytes) {
        stats.received(bytes);
    }

    /** A pipe now holds {@code bytes}. */
    void observe(long bytes) {
        stats.observeInbound(bytes);
    }

    /** Called on the event loop whenever {@code pipe} holds more than its capacity. */
    void pause(InboundPipe pipe) {
        onLoop(() -> {
            if (full.add(pipe)) {
                stats.readPaused();
            }
            channel.config().setAutoRead(false);
        });
    }

    /**
     * Called by the pipe's reader once it drained the pipe. Runs later on the event loop, so it checks the pipe
     * again: input that arrived in between may have filled it anew.
     */
    void resume(InboundPipe pipe) {
        onLoop(() -> {
            if (!pipe.pausing() && full.remove(pipe) && full.isEmpty()) {
                channel.config().setAutoRead(true);
            }
        });
    }

    @Override
    public void read(ChannelHandlerContext ctx) {
        if (full.isEmpty()) {
            ctx.read();
        }
        // else: setAutoRead(true) on resume starts reading again
    }

    boolean paused() {
        return !channel.config().isAutoRead();
    }

    private void onLoop(Runnable task) {
        if (channel.eventLoop().inEventLoop()) {
            task.run();
        } else {
            channel.eventLoop().execute(task);
        }
    }
}
