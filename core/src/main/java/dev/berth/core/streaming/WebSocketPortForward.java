package dev.berth.core.streaming;

import io.netty.buffer.ByteBuf;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Port-forward over WebSocket: the i-th port gets channel {@code 2i} for data and {@code 2i+1} for errors, and the
 * server opens each channel with the port number as two little-endian bytes. The session ends when every port's
 * connection has ended.
 */
final class WebSocketPortForward implements WebSocketConnection.Listener {

    private final WebSocketConnection ws;
    private final List<Integer> ports;
    private final InboundPipe[] fromClient;
    private final PortForwardStream[] forwards;
    private final AtomicInteger running;

    WebSocketPortForward(WebSocketConnection ws, String sandboxId, List<Integer> ports, StreamTargets targets,
                         ReadThrottle throttle, int bufferBytes, StreamingStats stats) {
        this.ws = ws;
        this.ports = List.copyOf(ports);
        this.fromClient = new InboundPipe[ports.size()];
        this.forwards = new PortForwardStream[ports.size()];
        this.running = new AtomicInteger(ports.size());
        for (int i = 0; i < ports.size(); i++) {
            int dataChannel = 2 * i;
            fromClient[i] = new InboundPipe(bufferBytes, throttle);
            forwards[i] = new PortForwardStream(sandboxId, ports.get(i), targets, fromClient[i], new Sink(dataChannel),
                    stats);
        }
    }

    private final class Sink implements PortForwardStream.Sink {
        private final int dataChannel;

        Sink(int dataChannel) {
            this.dataChannel = dataChannel;
        }

        @Override
        public void data(byte[] b, int off, int len) throws IOException {
            ws.write(dataChannel, b, off, len);
        }

        @Override
        public void dataDone() {
            // channels cannot be half-closed here; the port's connection ends with it
        }

        @Override
        public void error(String message) {
            byte[] text = PortForwardStream.utf8(message);
            try {
                ws.write(dataChannel + 1, text, 0, text.length);
            } catch (IOException gone) {
                // the client left
            }
        }

        @Override
        public void done() {
            if (running.decrementAndGet() == 0) {
                ws.finish();
            }
        }
    }

    void start() {
        for (int i = 0; i < ports.size(); i++) {
            int port = ports.get(i);
            byte[] prefix = {(byte) (port & 0xff), (byte) ((port >> 8) & 0xff)};
            ws.writeSmall(2 * i, prefix);
            ws.writeSmall(2 * i + 1, prefix);
        }
        for (PortForwardStream forward : forwards) {
            forward.start();
        }
    }

    @Override
    public void onData(int channel, ByteBuf data) {
        if (channel % 2 == 0 && channel / 2 < fromClient.length) {
            fromClient[channel / 2].offer(data);
        }
    }

    @Override
    public void onClose(int channel) {
        if (channel % 2 == 0 && channel / 2 < fromClient.length) {
            fromClient[channel / 2].finish();
        }
    }

    @Override
    public void onDisconnect() {
        for (PortForwardStream forward : forwards) {
            forward.cancel();
        }
    }
}
