package dev.berth.core.streaming;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.spdy.SpdyHeaders;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * Port-forward over SPDY: for each forwarded connection the client opens an error stream and a data stream, both
 * with a {@code port} and a shared {@code requestID}; once both are open the forward starts. The connection lives
 * until the client closes it or it is idle too long. Event-loop confined, except the sinks.
 */
final class SpdyPortForward implements SpdyConnection.Listener {

    private final class Pair implements PortForwardStream.Sink {
        final String key;
        final int port;
        int errorStream = -1;
        int dataStream = -1;
        InboundPipe fromClient;
        PortForwardStream forward;
        volatile boolean dataFinished;

        Pair(String key, int port) {
            this.key = key;
            this.port = port;
        }

        @Override
        public void data(byte[] b, int off, int len) throws IOException {
            spdy.write(dataStream, b, off, len);
        }

        @Override
        public void dataDone() {
            dataFinished = true;
            spdy.finishStream(dataStream);
        }

        @Override
        public void error(String message) {
            byte[] text = PortForwardStream.utf8(message);
            try {
                spdy.write(errorStream, text, 0, text.length);
            } catch (IOException gone) {
                // the client left
            }
        }

        @Override
        public void done() {
            spdy.finishStream(errorStream);
            if (!dataFinished) {
                spdy.finishStream(dataStream);
            }
            spdy.channel().eventLoop().execute(() -> {
                pairs.remove(key);
                streams.remove(errorStream);
                streams.remove(dataStream);
            });
        }
    }

    private final SpdyConnection spdy;
    private final StreamRequest.PortForward request;
    private final StreamTargets targets;
    private final ReadThrottle throttle;
    private final int bufferBytes;
    private final StreamingStats stats;
    private final Map<String, Pair> pairs = new HashMap<>();
    private final Map<Integer, Pair> streams = new HashMap<>();

    SpdyPortForward(SpdyConnection spdy, StreamRequest.PortForward request, StreamTargets targets,
                    ReadThrottle throttle, int bufferBytes, StreamingStats stats) {
        this.spdy = spdy;
        this.request = request;
        this.targets = targets;
        this.throttle = throttle;
        this.bufferBytes = bufferBytes;
        this.stats = stats;
    }

    @Override
    public boolean onStream(int streamId, SpdyHeaders headers, boolean fin) {
        String type = headers.getAsString(KubeProtocol.HEADER_STREAM_TYPE);
        boolean error = KubeProtocol.STREAM_ERROR.equals(type);
        if (!error && !KubeProtocol.STREAM_DATA.equals(type)) {
            return false;
        }
        int port;
        try {
            port = Integer.parseInt(String.valueOf(headers.getAsString(KubeProtocol.HEADER_PORT)).trim());
        } catch (NumberFormatException e) {
            return false;
        }
        if (port <= 0 || port > 65535) {
            return false;
        }
        String requestId = headers.getAsString(KubeProtocol.HEADER_REQUEST_ID);
        // Clients before requestID open the error stream right before its data stream.
        String key = requestId != null ? "r" + requestId : "s" + (error ? streamId + 2 : streamId);
        Pair pair = pairs.computeIfAbsent(key, k -> new Pair(k, port));
        if (pair.port != port || (error ? pair.errorStream : pair.dataStream) >= 0) {
            return false;
        }
        if (error) {
            pair.errorStream = streamId;
        } else {
            pair.dataStream = streamId;
            pair.fromClient = new InboundPipe(bufferBytes, throttle);
            if (fin) {
                pair.fromClient.finish();
            }
        }
        streams.put(streamId, pair);
        if (pair.errorStream >= 0 && pair.dataStream >= 0) {
            pair.forward = new PortForwardStream(request.sandboxId(), port, targets, pair.fromClient, pair, stats);
            if (!request.ports().isEmpty() && !request.ports().contains(port)) {
                Thread.ofVirtual().start(() -> {
                    pair.error("failed to forward port " + port + " to pod sandbox \"" + request.sandboxId()
                            + "\": the port was not requested");
                    pair.done();
                });
            } else {
                pair.forward.start();
            }
        }
        return true;
    }

    @Override
    public void onData(int streamId, ByteBuf data, boolean fin) {
        Pair pair = streams.get(streamId);
        if (pair == null || streamId != pair.dataStream) {
            return;
        }
        pair.fromClient.offer(data);
        if (fin) {
            pair.fromClient.finish();
        }
    }

    @Override
    public void onReset(int streamId) {
        Pair pair = streams.get(streamId);
        if (pair != null && pair.forward != null) {
            pair.forward.cancel();
        } else if (pair != null && pair.fromClient != null) {
            pair.fromClient.abort();
        }
    }

    @Override
    public void onDisconnect() {
        for (Pair pair : pairs.values()) {
            if (pair.forward != null) {
                pair.forward.cancel();
            } else if (pair.fromClient != null) {
                pair.fromClient.abort();
            }
        }
    }
}
