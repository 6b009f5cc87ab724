package dev.berth.hcs.log;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;

/**
 * A container's log relay, the part of conmon's job that HCS leaves to whoever holds the init process's stdio
 * pipes: it copies stdout and stderr into the CRI log file ({@link CriLogWriter}), answers {@code reopen} on its
 * control socket (CRI's ReopenContainerLog, after the kubelet rotated the file), and when the container's init has
 * exited and both pipes are drained it writes the exit file ({@link ExitFile}) and ends. It runs in a process of its
 * own ({@link LogRelayMain}), so that a restart of berth does not break the pipes; berth finds it again by its
 * record ({@link RelayRecord}).
 *
 * <p>Its threads are platform threads: a copy blocked in a pipe read must not hold a carrier the control socket's
 * poller needs.
 */
public final class LogRelay {
    private final Path logPath;
    private final Path exitFile;
    private final Path control;
    private final Clock clock;

    /**
     * @param logPath  the CRI log file, or null to drain the output
     * @param exitFile where the exit code goes
     * @param control  the control socket (a unix domain socket, which Windows has since 1803)
     */
    public LogRelay(Path logPath, Path exitFile, Path control, Clock clock) {
        this.logPath = logPath;
        this.exitFile = exitFile;
        this.control = control;
        this.clock = clock;
    }

    /**
     * Relays {@code stdout} and {@code stderr} until both end, waits for {@code exit} (the init's exit code), writes
     * the exit file and returns the code.
     */
    public int run(InputStream stdout, InputStream stderr, Callable<Integer> exit) throws Exception {
        CriLogWriter log = logPath == null ? null : new CriLogWriter(logPath, clock);
        ServerSocketChannel server = listen();
        Thread controller = thread("control", () -> serve(server, log));
        try {
            Thread out = thread("stdout", () -> copy(log, stdout, "stdout"));
            Thread err = thread("stderr", () -> copy(log, stderr, "stderr"));
            int code = exit.call();
            out.join();
            err.join();
            ExitFile.write(exitFile, new ExitFile.Exit(code, clock.instant()));
            return code;
        } finally {
            server.close();
            controller.join();
            Files.deleteIfExists(control);
            if (log != null) {
                log.close();
            }
        }
    }

    private static Thread thread(String name, Runnable body) {
        return Thread.ofPlatform().daemon().name("log-relay-" + name).start(body);
    }

    private static void copy(CriLogWriter log, InputStream in, String stream) {
        try (in) {
            if (log != null) {
                log.copy(in, stream);
            } else {
                in.transferTo(java.io.OutputStream.nullOutputStream());
            }
        } catch (IOException e) {
            // the pipe broke: the container's side is gone, nothing more to relay
        }
    }

    private ServerSocketChannel listen() throws IOException {
        Files.deleteIfExists(control);
        ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        s.bind(UnixDomainSocketAddress.of(control));
        return s;
    }

    /** One command a line: {@code reopen} (the log file again, at its path) and {@code ping}; answers ok or error. */
    private static void serve(ServerSocketChannel server, CriLogWriter log) {
        while (server.isOpen()) {
            try (SocketChannel c = server.accept()) {
                BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(c),
                        StandardCharsets.UTF_8));
                String cmd = in.readLine();
                String answer;
                if ("reopen".equals(cmd)) {
                    try {
                        if (log != null) {
                            log.reopen();
                        }
                        answer = "ok";
                    } catch (IOException e) {
                        answer = "error " + e.getMessage();
                    }
                } else if ("ping".equals(cmd)) {
                    answer = "ok";
                } else {
                    answer = "error unknown command " + cmd;
                }
                c.write(ByteBuffer.wrap((answer + "\n").getBytes(StandardCharsets.UTF_8)));
            } catch (IOException e) {
                if (!server.isOpen()) {
                    return;
                }
            }
        }
    }

    /** Sends {@code command} to the relay listening on {@code control}; its answer ("ok" or "error ..."). */
    public static String send(Path control, String command) {
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(control))) {
            c.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.UTF_8)));
            c.shutdownOutput();
            return new BufferedReader(new InputStreamReader(Channels.newInputStream(c), StandardCharsets.UTF_8))
                    .readLine();
        } catch (IOException e) {
            throw new UncheckedIOException("the log relay at " + control + " does not answer", e);
        }
    }
}
