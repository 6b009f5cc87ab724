package dev.berth.kata;

import static dev.berth.kata.ShimRegistry.QUICK;
import static dev.berth.kata.ShimRegistry.task;

import dev.berth.kata.shim.CriLog;
import dev.berth.kata.ttrpc.TtrpcException;
import dev.berth.spi.BackendException.Kind;
import dev.berth.spi.BackendException;
import dev.berth.spi.StreamingIo.Streams;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/** Attach: a tap on the container's log copier for its output, and berth's end of its stdin FIFO for input. */
final class ShimAttach {
    private final System.Logger log;
    private final ShimRegistry registry;
    private final ShimContainers containers;

    ShimAttach(System.Logger log, ShimRegistry registry, ShimContainers containers) {
        this.log = log;
        this.registry = registry;
        this.containers = containers;
    }

    /**
     * Streams the container's output (from the CRI log copier) to the client until the container exits or the
     * client goes away, and the client's input into the container's stdin FIFO when it has one. With
     * {@code stdin_once} the end of the first session's input is the end of the container's stdin (CloseIO).
     */
    void attach(String containerId, Streams io) {
        Container c = registry.container(containerId);
        Pod pod = registry.pod(c.sandboxId);
        CriLog l = c.criLog;
        if (l == null) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "failed to attach to container \"" + containerId
                    + "\": it has no log stream to attach to");
        }
        AtomicBoolean gone = new AtomicBoolean();
        CriLog.Tap tap = (stderr, chunk) -> {
            OutputStream out = stderr && io.stderr() != null ? io.stderr() : io.stdout();
            try {
                out.write(chunk);
                out.flush();
            } catch (IOException e) {
                gone.set(true);
            }
        };
        l.addTap(tap);
        FileChannel in = c.stdin;
        if (io.stdin() != null && in != null) {
            boolean once = Boolean.parseBoolean(c.props.getProperty("stdinOnce"));
            Thread.ofVirtual().name("kata-attach-stdin-" + containerId.substring(0, 12)).start(() -> {
                try {
                    ShimExec.copy(io.stdin(), in);
                } catch (IOException e) {
                    // the client or the container went away
                }
                if (once) {
                    containers.closeStdin(c); // stdin_once: the first attach session's end is the process's EOF
                    try {
                        task(pod, "close stdin of container").closeStdin(containerId, "", QUICK);
                    } catch (TtrpcException e) {
                        log.log(System.Logger.Level.DEBUG, "CloseIO of " + containerId + ": " + e.getMessage());
                    }
                }
            });
        }
        try {
            while (!gone.get()) {
                try {
                    task(pod, "attach to container").await(containerId, "", Duration.ofSeconds(1));
                    l.awaitEnd(Duration.ofSeconds(2));
                    return;
                } catch (TtrpcException e) {
                    if (!e.is(TtrpcException.DEADLINE_EXCEEDED)) {
                        if (e.is(TtrpcException.NOT_FOUND) || e.is(TtrpcException.UNAVAILABLE)) {
                            return;
                        }
                        throw e.toBackend("attach to container", containerId);
                    }
                }
            }
        } finally {
            l.removeTap(tap);
        }
    }

}
