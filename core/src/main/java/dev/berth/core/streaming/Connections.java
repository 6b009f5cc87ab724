package dev.berth.core.streaming;

import io.netty.channel.Channel;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleStateEvent;

import java.util.concurrent.TimeUnit;

/** Small helpers for the streaming server's connections. */
final class Connections {

    private static final System.Logger LOG = System.getLogger(StreamingServer.class.getName());

    /** How long the client gets to close after the server finished a session. */
    static final long CLOSE_GRACE_SECONDS = 10;

    private Connections() {}

    /**
     * Ends a connection whose last frames are already written: stops sending (so the client reads everything
     * and sees EOF, instead of a reset that could drop unread data), and closes for good if the client has not
     * closed within a grace period.
     */
    static void closeGracefully(Channel channel) {
        if (!channel.isActive()) {
            return;
        }
        SslHandler ssl = channel.pipeline().get(SslHandler.class);
        if (ssl != null) {
            ssl.closeOutbound();
        } else if (channel instanceof SocketChannel socket) {
            socket.shutdownOutput();
        } else {
            channel.close();
            return;
        }
        channel.eventLoop().schedule(() -> {
            channel.close();
        }, CLOSE_GRACE_SECONDS, TimeUnit.SECONDS);
    }

    static boolean isIdle(Object event) {
        return event instanceof IdleStateEvent;
    }

    static void log(Channel channel, Throwable cause) {
        if (cause instanceof java.io.IOException) {
            LOG.log(System.Logger.Level.DEBUG,
                    () -> "streaming connection " + channel.remoteAddress() + " failed: " + cause);
        } else {
            LOG.log(System.Logger.Level.WARNING,
                    "streaming connection " + channel.remoteAddress() + " failed: " + cause);
        }
    }

    static System.Logger logger() {
        return LOG;
    }
}
