package dev.berth.core.streaming;

import dev.berth.spi.BackendException;
import dev.berth.spi.PortForwarding;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One forwarded connection: a pair of client channels (data and error) joined to a TCP connection inside the
 * pod. Client data arrives through an {@link InboundPipe}; pod data goes out through {@link Sink#data}. The
 * forward ends when the pod side closes or fails, or when the client resets or leaves; a client half-close only
 * shuts down the pod connection's output, so a request-then-close client still gets its answer.
 */
final class PortForwardStream {

    /** Where the forward's output goes. */
    interface Sink {
        void data(byte[] b, int off, int len) throws IOException;

        /** The pod side closed its output. */
        void dataDone();

        /** Reports a failure on the error channel; may be called at most once. */
        void error(String message);

        /** The forward is over; called once, last. */
        void done();
    }

    private static final int CHUNK = 16 * 1024;

    private final String sandboxId;
    private final int port;
    private final StreamTargets targets;
    private final InboundPipe fromClient;
    private final Sink sink;
    private final StreamingStats stats;
    private final AtomicBoolean ended = new AtomicBoolean();
    private volatile ByteChannel podConnection;

    PortForwardStream(String sandboxId, int port, StreamTargets targets, InboundPipe fromClient, Sink sink,
                      StreamingStats stats) {
        this.sandboxId = sandboxId;
        this.port = port;
        this.targets = targets;
        this.fromClient = fromClient;
        this.sink = sink;
        this.stats = stats;
    }

    void start() {
        stats.sessionStarted();
        Thread.ofVirtual().name("berth-portforward-" + sandboxId + "-" + port).start(this::run);
    }

    /** The client reset the stream or left. */
    void cancel() {
        fromClient.abort();
        closePod();
    }

    private void run() {
        ByteChannel pod;
        try {
            PortForwarding forwarding = targets.portForwarding(sandboxId);
            pod = forwarding.connect(sandboxId, port);
        } catch (BackendException e) {
            fail(e.getMessage());
            return;
        } catch (RuntimeException e) {
            fail(e.toString());
            return;
        }
        podConnection = pod;
        if (ended.get()) {
            closePod();
            return;
        }
        Thread.ofVirtual().name("berth-portforward-up-" + port).start(() -> pumpUp(pod));
        pumpDown(pod);
    }

    /** Client → pod, until the client half-closes. */
    private void pumpUp(ByteChannel pod) {
        byte[] buf = new byte[CHUNK];
        try {
            int n;
            while ((n = fromClient.read(buf, 0, buf.length)) > 0) {
                ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                while (bb.hasRemaining()) {
                    pod.write(bb);
                }
            }
            if (!ended.get() && pod instanceof SocketChannel socket) {
                socket.shutdownOutput();
            }
        } catch (IOException e) {
            Connections.logger().log(System.Logger.Level.DEBUG,
                    () -> "port-forward to " + port + " stopped sending: " + e);
        }
    }

    /** Pod → client, until the pod closes; then the forward is over. */
    private void pumpDown(ByteChannel pod) {
        ByteBuffer buf = ByteBuffer.allocate(CHUNK);
        try {
            while (pod.read(buf.clear()) >= 0) {
                if (buf.position() > 0) {
                    sink.data(buf.array(), 0, buf.position());
                }
            }
            sink.dataDone();
        } catch (IOException e) {
            if (!ended.get()) {
                Connections.logger().log(System.Logger.Level.DEBUG, () -> "port-forward from " + port + " ended: " + e);
            }
        }
        end();
    }

    private void fail(String cause) {
        sink.error("failed to forward port " + port + " to pod sandbox \"" + sandboxId + "\": " + cause);
        end();
    }

    private void end() {
        if (!ended.compareAndSet(false, true)) {
            return;
        }
        fromClient.abort();
        closePod();
        sink.done();
        stats.sessionEnded();
    }

    private void closePod() {
        ByteChannel pod = podConnection;
        if (pod != null) {
            try {
                pod.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
