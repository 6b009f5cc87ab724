package dev.berth.core.streaming;

import dev.berth.spi.BackendException;
import dev.berth.spi.PortForwarding;
import dev.berth.spi.StreamingIo;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.channels.ByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A scripted backend for the streaming tests. Exec commands:
 * <ul>
 *   <li>{@code cat}: stdin to stdout until EOF, exit 0;</li>
 *   <li>{@code stall}: like {@code cat}, but reads nothing until {@link #stallRelease} opens;</li>
 *   <li>{@code exit N}: "out" on stdout, "err" on stderr, exit N;</li>
 *   <li>{@code sizes N}: prints the first N terminal sizes as "WxH", exit 0;</li>
 *   <li>{@code flood N}: N bytes on stdout, exit 0;</li>
 *   <li>{@code wait}: blocks until stdin ends or the session is interrupted, exit 0.</li>
 * </ul>
 * Container {@code missing} is unknown. Attach joins the container's output, which the test writes with
 * {@link #broadcast}, until {@link #exitContainer()}. Port-forward connects to 127.0.0.1 on the host.
 */
final class FakeTargets implements StreamTargets, StreamingIo, PortForwarding {

    final List<OutputStream> attached = new CopyOnWriteArrayList<>();
    final CountDownLatch containerExit = new CountDownLatch(1);
    final CountDownLatch stallRelease = new CountDownLatch(1);
    final AtomicLong flooded = new AtomicLong();
    final AtomicInteger waitsEnded = new AtomicInteger();
    final AtomicInteger waitsInterrupted = new AtomicInteger();
    final List<String> forwardedSandboxes = new CopyOnWriteArrayList<>();

    @Override
    public StreamingIo streaming(String containerId) {
        if (containerId.equals("missing")) {
            throw BackendException.notFound("container", containerId);
        }
        return this;
    }

    @Override
    public PortForwarding portForwarding(String sandboxId) {
        return this;
    }

    @Override
    public int exec(String containerId, List<String> command, Streams io) {
        try {
            return switch (command.getFirst()) {
                case "cat" -> {
                    io.stdin().transferTo(io.stdout());
                    yield 0;
                }
                case "stall" -> { // takes no input until released, then echoes it
                    stallRelease.await();
                    io.stdin().transferTo(io.stdout());
                    yield 0;
                }
                case "exit" -> {
                    io.stdout().write("out\n".getBytes(StandardCharsets.UTF_8));
                    if (io.stderr() != null) {
                        io.stderr().write("err\n".getBytes(StandardCharsets.UTF_8));
                    }
                    yield Integer.parseInt(command.get(1));
                }
                case "sizes" -> {
                    int n = Integer.parseInt(command.get(1));
                    for (int i = 0; i < n; i++) {
                        TerminalSize size = io.resize().poll(30, TimeUnit.SECONDS);
                        if (size == null) {
                            yield 124;
                        }
                        io.stdout().write((size.width() + "x" + size.height() + "\n")
                                .getBytes(StandardCharsets.UTF_8));
                    }
                    yield 0;
                }
                case "flood" -> {
                    long total = Long.parseLong(command.get(1));
                    byte[] chunk = new byte[8192];
                    for (int i = 0; i < chunk.length; i++) {
                        chunk[i] = (byte) i;
                    }
                    while (flooded.get() < total) {
                        int n = (int) Math.min(chunk.length, total - flooded.get());
                        io.stdout().write(chunk, 0, n);
                        flooded.addAndGet(n);
                    }
                    yield 0;
                }
                case "wait" -> {
                    try {
                        InputStream in = io.stdin();
                        if (in == null) {
                            new CountDownLatch(1).await();
                        }
                        while (in.read() >= 0) {
                            // discard
                        }
                    } catch (InterruptedException | java.io.InterruptedIOException e) {
                        waitsInterrupted.incrementAndGet();
                    } finally {
                        waitsEnded.incrementAndGet();
                    }
                    yield 0;
                }
                default -> throw BackendException.invalid("unknown command " + command);
            };
        } catch (InterruptedException e) {
            return 130;
        } catch (IOException e) {
            throw new BackendException(BackendException.Kind.UNAVAILABLE, "failed to exec in container \""
                    + containerId + "\": " + e.getMessage());
        }
    }

    @Override
    public void attach(String containerId, Streams io) {
        attached.add(io.stdout());
        try {
            containerExit.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            attached.remove(io.stdout());
        }
    }

    void broadcast(String text) throws IOException {
        for (OutputStream out : attached) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        }
    }

    void exitContainer() {
        containerExit.countDown();
    }

    @Override
    public ByteChannel connect(String sandboxId, int port) {
        forwardedSandboxes.add(sandboxId);
        try {
            return SocketChannel.open(new InetSocketAddress("127.0.0.1", port));
        } catch (IOException e) {
            throw new BackendException(BackendException.Kind.UNAVAILABLE, "failed to connect to port " + port
                    + " in pod sandbox \"" + sandboxId + "\": " + e.getMessage());
        }
    }
}
