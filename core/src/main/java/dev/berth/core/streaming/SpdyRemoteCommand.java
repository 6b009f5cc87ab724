package dev.berth.core.streaming;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.spdy.SpdyHeaders;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Exec or attach over SPDY: the client opens one stream per stream type (error, stdin, stdout, stderr, resize);
 * once all the session needs are open, the session starts. Event-loop confined, except the {@link Wire} methods.
 */
final class SpdyRemoteCommand implements SpdyConnection.Listener, Wire {

    /** How long the client has to open its streams, as in the kubelet. */
    static final long STREAM_CREATION_TIMEOUT_SECONDS = 30;

    private final SpdyConnection spdy;
    private final RemoteCommandSession session;
    private final Map<Integer, Integer> channelOfStream = new HashMap<>();
    private final int[] streamOfChannel = {-1, -1, -1, -1, -1};
    private final ScheduledFuture<?> creationTimeout;
    private boolean started;

    SpdyRemoteCommand(SpdyConnection spdy, RemoteCommandSession session) {
        this.spdy = spdy;
        this.session = session;
        this.creationTimeout = spdy.channel().eventLoop().schedule(() -> {
            if (!started) {
                spdy.channel().close();
            }
        }, STREAM_CREATION_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    @Override
    public boolean onStream(int streamId, SpdyHeaders headers, boolean fin) {
        int channel = KubeProtocol.channelOf(headers.getAsString(KubeProtocol.HEADER_STREAM_TYPE));
        if (channel < 0 || streamOfChannel[channel] >= 0 || started) {
            return false;
        }
        streamOfChannel[channel] = streamId;
        channelOfStream.put(streamId, channel);
        if (fin) {
            session.onClose(channel);
        }
        if (complete()) {
            started = true;
            creationTimeout.cancel(false);
            session.start();
        }
        return true;
    }

    private boolean complete() {
        return has(KubeProtocol.CH_ERROR)
                && (!session.wantsStdin() || has(KubeProtocol.CH_STDIN))
                && (!session.wantsStdout() || has(KubeProtocol.CH_STDOUT))
                && (!session.wantsStderr() || has(KubeProtocol.CH_STDERR))
                && (!session.wantsResize() || has(KubeProtocol.CH_RESIZE));
    }

    private boolean has(int channel) {
        return streamOfChannel[channel] >= 0;
    }

    @Override
    public void onData(int streamId, ByteBuf data, boolean fin) {
        Integer channel = channelOfStream.get(streamId);
        if (channel == null) {
            return;
        }
        session.onData(channel, data);
        if (fin) {
            session.onClose(channel);
        }
    }

    @Override
    public void onReset(int streamId) {
        Integer channel = channelOfStream.get(streamId);
        if (channel != null) {
            session.onClose(channel);
        }
    }

    @Override
    public void onDisconnect() {
        creationTimeout.cancel(false);
        session.onDisconnect();
    }

    @Override
    public void write(int channel, byte[] b, int off, int len) throws IOException {
        int stream = streamOfChannel[channel];
        if (stream >= 0) {
            spdy.write(stream, b, off, len);
        }
    }

    @Override
    public void closeChannel(int channel) {
        int stream = streamOfChannel[channel];
        if (stream >= 0) {
            spdy.finishStream(stream);
        }
    }

    @Override
    public void finish() {
        spdy.goAway();
    }
}
