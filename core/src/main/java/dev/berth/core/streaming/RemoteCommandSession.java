package dev.berth.core.streaming;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.core.streaming.KubeProtocol.Version;
import dev.berth.spi.BackendException;
import dev.berth.spi.StreamingIo;
import io.netty.buffer.ByteBuf;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One exec or attach session, independent of the transport: it feeds the client's stdin and resize channels to
 * the backend, runs the backend on a virtual thread, and reports how the command ended on the error channel.
 */
final class RemoteCommandSession {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int RESIZE_QUEUE = 16;

    private final StreamRequest request;
    private final Version version;
    private final Wire wire;
    private final StreamTargets targets;
    private final StreamingStats stats;
    private final InboundPipe stdin;
    private final InboundPipe resize;
    private final BlockingQueue<StreamingIo.TerminalSize> sizes = new ArrayBlockingQueue<>(RESIZE_QUEUE);
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean ended = new AtomicBoolean();
    private volatile Thread backendThread;

    RemoteCommandSession(StreamRequest request, Version version, Wire wire, ReadThrottle throttle, int bufferBytes,
                         StreamTargets targets, StreamingStats stats) {
        if (!(request instanceof StreamRequest.Exec) && !(request instanceof StreamRequest.Attach)) {
            throw new IllegalArgumentException("not a remote command: " + request.kind());
        }
        this.request = request;
        this.version = version;
        this.wire = wire;
        this.targets = targets;
        this.stats = stats;
        this.stdin = wantsStdin() ? new InboundPipe(bufferBytes, throttle) : null;
        this.resize = tty() ? new InboundPipe(16 * 1024, throttle) : null;
    }

    boolean tty() {
        return switch (request) {
            case StreamRequest.Exec e -> e.tty();
            case StreamRequest.Attach a -> a.tty();
            default -> false;
        };
    }

    boolean wantsStdin() {
        return switch (request) {
            case StreamRequest.Exec e -> e.stdin();
            case StreamRequest.Attach a -> a.stdin();
            default -> false;
        };
    }

    boolean wantsStdout() {
        return switch (request) {
            case StreamRequest.Exec e -> e.stdout();
            case StreamRequest.Attach a -> a.stdout();
            default -> false;
        };
    }

    /** With a TTY the terminal merges stderr into stdout, so there is no stderr channel. */
    boolean wantsStderr() {
        boolean asked = switch (request) {
            case StreamRequest.Exec e -> e.stderr();
            case StreamRequest.Attach a -> a.stderr();
            default -> false;
        };
        return asked && !tty();
    }

    /** Whether the client must open a resize stream (SPDY v3+, with a TTY). */
    boolean wantsResize() {
        return tty() && version.atLeast(Version.V3);
    }

    /** Client bytes for a channel; called on the event loop. */
    void onData(int channel, ByteBuf data) {
        if (channel == KubeProtocol.CH_STDIN && stdin != null) {
            stdin.offer(data);
        } else if (channel == KubeProtocol.CH_RESIZE && resize != null) {
            resize.offer(data);
        }
    }

    /** The client half-closed a channel; called on the event loop. */
    void onClose(int channel) {
        if (channel == KubeProtocol.CH_STDIN && stdin != null) {
            stdin.finish();
        } else if (channel == KubeProtocol.CH_RESIZE && resize != null) {
            resize.finish();
        }
    }

    /** The connection is gone: the backend sees EOF on stdin, failing writes and an interrupt. */
    void onDisconnect() {
        if (stdin != null) {
            stdin.abort();
        }
        if (resize != null) {
            resize.abort();
        }
        Thread t = backendThread;
        if (t != null && !ended.get()) {
            t.interrupt();
        }
    }

    void start() {
        if (!started.compareAndSet(false, true)) {
            return;
        }
        stats.sessionStarted();
        String name = request.kind() + "-" + containerId();
        backendThread = Thread.ofVirtual().name("berth-" + name).start(this::run);
        if (resize != null) {
            Thread.ofVirtual().name("berth-resize-" + containerId()).start(this::readResizes);
        }
    }

    private String containerId() {
        return switch (request) {
            case StreamRequest.Exec e -> e.containerId();
            case StreamRequest.Attach a -> a.containerId();
            default -> "";
        };
    }

    private void run() {
        ChannelOutput out = wantsStdout() ? new ChannelOutput(wire, KubeProtocol.CH_STDOUT) : null;
        ChannelOutput err = wantsStderr() ? new ChannelOutput(wire, KubeProtocol.CH_STDERR) : null;
        byte[] status;
        try {
            StreamingIo.Streams streams = new StreamingIo.Streams(stdin,
                    out != null ? out : OutputStream.nullOutputStream(), err, tty(), sizes);
            StreamingIo io = targets.streaming(containerId());
            int exitCode = 0;
            switch (request) {
                case StreamRequest.Exec e -> exitCode = io.exec(e.containerId(), e.command(), streams);
                case StreamRequest.Attach a -> io.attach(a.containerId(), streams);
                default -> throw new IllegalStateException();
            }
            status = version.atLeast(Version.V4) ? KubeProtocol.exitStatus(exitCode, commandOf())
                    : KubeProtocol.legacyExitMessage(exitCode);
        } catch (BackendException e) {
            status = failure(e.getMessage());
        } catch (RuntimeException e) {
            Connections.logger().log(System.Logger.Level.WARNING, "streaming " + request.kind() + " in container \""
                    + containerId() + "\" failed", e);
            status = failure("failed to " + request.kind() + " in container \"" + containerId() + "\": " + e);
        } finally {
            ended.set(true);
            Thread.interrupted(); // a late disconnect interrupt must not break the status write
        }
        if (out != null) {
            out.close();
        }
        if (err != null) {
            err.close();
        }
        try {
            if (status.length > 0) {
                wire.write(KubeProtocol.CH_ERROR, status, 0, status.length);
            }
        } catch (IOException gone) {
            // the client left; nothing to report to
        }
        wire.closeChannel(KubeProtocol.CH_ERROR);
        wire.finish();
        if (stdin != null) {
            stdin.close();
        }
        if (resize != null) {
            resize.abort();
        }
        stats.sessionEnded();
    }

    private byte[] failure(String message) {
        return version.atLeast(Version.V4) ? KubeProtocol.failureStatus(message)
                : message.getBytes(StandardCharsets.UTF_8);
    }

    private List<String> commandOf() {
        return request instanceof StreamRequest.Exec e ? e.command() : List.of();
    }

    /** Reads the resize channel's stream of {@code {"Width":..,"Height":..}} objects into the backend's queue. */
    private void readResizes() {
        try (MappingIterator<JsonNode> it = JSON.readerFor(JsonNode.class).readValues(resize)) {
            while (it.hasNextValue()) {
                JsonNode size = it.nextValue();
                int width = size.path("Width").asInt(0);
                int height = size.path("Height").asInt(0);
                if (width <= 0 || height <= 0) {
                    continue;
                }
                StreamingIo.TerminalSize ts = new StreamingIo.TerminalSize(width, height);
                while (!sizes.offer(ts)) {
                    sizes.poll(); // the backend is behind: the newest size is what matters
                }
            }
        } catch (IOException | RuntimeException e) {
            // a bad resize message or a closed connection ends resizing, not the session
            Connections.logger().log(System.Logger.Level.DEBUG, () -> "resize stream ended: " + e);
        }
    }
}
