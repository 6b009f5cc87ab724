package dev.berth.runc;

import dev.berth.oci.Libc;
import dev.berth.oci.Terminals;
import dev.berth.spi.StreamingIo;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Interactive exec, attach and port-forward plumbing. Exec runs the runtime's own {@code exec} in the
 * foreground (with a pseudo-terminal as its stdio when a TTY is asked for); attach speaks to conmon's
 * SOCK_SEQPACKET attach socket; port-forward connects from a thread moved into the pod's network namespace.
 */
final class Streams {
    private static final int STDOUT = 2;
    private static final int STDERR = 3;

    private Streams() {}

    /** Runs {@code command} (a runtime exec) wired to {@code io}; returns its exit code. */
    static int exec(List<String> command, StreamingIo.Streams io) throws IOException, InterruptedException {
        if (io.tty()) {
            return execTty(command, io);
        }
        ProcessBuilder pb = new ProcessBuilder(command);
        if (io.stdin() == null) {
            pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        }
        if (io.stderr() == null) {
            pb.redirectError(ProcessBuilder.Redirect.DISCARD);
        }
        Process p = pb.start();
        List<Thread> copiers = new ArrayList<>();
        if (io.stdin() != null) {
            Thread.ofVirtual().start(() -> pump(io.stdin(), p.getOutputStream(), true));
        }
        copiers.add(Thread.ofVirtual().start(() -> pump(p.getInputStream(), io.stdout(), false)));
        if (io.stderr() != null) {
            copiers.add(Thread.ofVirtual().start(() -> pump(p.getErrorStream(), io.stderr(), false)));
        }
        int code = p.waitFor();
        for (Thread t : copiers) {
            t.join(TimeUnit.SECONDS.toMillis(30));
        }
        return code;
    }

    private static int execTty(List<String> command, StreamingIo.Streams io) throws IOException, InterruptedException {
        Terminals.Pty pty = Terminals.openPty();
        try {
            // The runtime puts this terminal in raw mode once the container's own terminal is up; raw from the
            // start, input typed ahead of that is not echoed here as well as by the container's terminal.
            Terminals.makeRaw(pty.master());
            // A size the client sent before the start applies from the start: runc copies it at once.
            StreamingIo.TerminalSize initial = io.resize().poll();
            if (initial != null) {
                Terminals.setWindowSize(pty.master(), initial.height(), initial.width());
            }
            java.io.File slave = new java.io.File(pty.slave());
            Process p = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(slave))
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(slave))
                    .redirectError(ProcessBuilder.Redirect.appendTo(slave)).start();
            Thread resizer = Thread.ofVirtual().start(() -> {
                try {
                    while (p.isAlive()) {
                        StreamingIo.TerminalSize size = io.resize().poll(200, TimeUnit.MILLISECONDS);
                        if (size != null) {
                            Terminals.setWindowSize(pty.master(), size.height(), size.width());
                            Libc.kill(p.pid(), Libc.SIGWINCH); // runc copies the size into the container
                        }
                    }
                } catch (InterruptedException | IOException e) {
                    // session over
                }
            });
            if (io.stdin() != null) {
                Thread.ofVirtual().start(() -> {
                    byte[] buf = new byte[8192];
                    try (InputStream in = io.stdin()) {
                        for (int n; (n = in.read(buf)) > 0; ) {
                            Libc.write(pty.master(), buf, 0, n);
                        }
                    } catch (IOException e) {
                        // client gone or process over
                    }
                });
            }
            Thread out = Thread.ofPlatform().daemon().start(() -> {
                byte[] buf = new byte[8192];
                try {
                    for (int n; (n = Libc.read(pty.master(), buf)) > 0; ) {
                        io.stdout().write(buf, 0, n);
                        io.stdout().flush();
                    }
                } catch (IOException e) {
                    // EIO once the last slave is closed: the session is over
                }
            });
            int code = p.waitFor();
            out.join(TimeUnit.SECONDS.toMillis(30));
            resizer.interrupt();
            return code;
        } finally {
            Libc.close(pty.master());
        }
    }

    /** Copies conmon's attach socket to {@code io} until the container exits or the client goes away. */
    static void attach(Path bundle, StreamingIo.Streams io, Path winsz) throws IOException {
        // A bundle path can exceed sun_path's 108 bytes; /proc/self/fd/N/attach never does.
        int dir = Libc.open(bundle.toString(), Libc.O_RDONLY);
        int fd;
        try {
            fd = Libc.connectSeqpacket("/proc/self/fd/" + dir + "/attach");
        } finally {
            Libc.close(dir);
        }
        try {
            Thread in = null;
            if (io.stdin() != null) {
                in = Thread.ofVirtual().start(() -> {
                    byte[] buf = new byte[8192];
                    try (InputStream s = io.stdin()) {
                        for (int n; (n = s.read(buf)) > 0; ) {
                            Libc.write(fd, buf, 0, n);
                        }
                        Libc.shutdownWrite(fd);
                    } catch (IOException e) {
                        // client or container gone
                    }
                });
            }
            Thread resizer = null;
            if (io.tty()) {
                resizer = Thread.ofVirtual().start(() -> {
                    try {
                        while (true) {
                            StreamingIo.TerminalSize size = io.resize().take();
                            try (FileChannel ch = FileChannel.open(winsz, StandardOpenOption.READ,
                                    StandardOpenOption.WRITE)) {
                                ch.write(ByteBuffer.wrap(("1 " + size.height() + " " + size.width() + "\n")
                                        .getBytes(StandardCharsets.US_ASCII)));
                            }
                        }
                    } catch (InterruptedException | IOException e) {
                        // session over
                    }
                });
            }
            byte[] buf = new byte[65536];
            try {
                for (int n; (n = Libc.read(fd, buf)) > 0; ) {
                    OutputStream target = buf[0] == STDERR && io.stderr() != null ? io.stderr()
                            : buf[0] == STDOUT || buf[0] == STDERR ? io.stdout() : null;
                    if (target != null && n > 1) {
                        target.write(buf, 1, n - 1);
                        target.flush();
                    }
                }
            } catch (IOException e) {
                // the client went away (write failed) or conmon closed the socket
            }
            if (in != null) {
                in.interrupt();
            }
            if (resizer != null) {
                resizer.interrupt();
            }
        } finally {
            Libc.close(fd);
        }
    }

    /** Opens a TCP connection to {@code port} on loopback inside the network namespace at {@code netns}. */
    private static void pump(InputStream in, OutputStream out, boolean closeOut) {
        byte[] buf = new byte[8192];
        try (InputStream i = in) {
            for (int n; (n = i.read(buf)) > 0; ) {
                out.write(buf, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // one side closed
        } finally {
            if (closeOut) {
                try {
                    out.close();
                } catch (IOException ignored) {
                    // already closed
                }
            }
        }
    }
}
