package dev.berth.runc;

import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The client of one long-lived {@code berth-execsync} (src/main/c, where the protocol is): berth writes a request on
 * its stdin for each synchronous exec, and reads the command's output and status back from its stdout. The helper
 * forks a supervisor per request, so an exec probe costs the JVM no process start of its own.
 *
 * <p>The helper starts with the first request. If it dies, the calls it was running fail, and the next request
 * starts a new one. Closing this stops it; a helper whose berth is gone ends on the end of its stdin.
 */
final class ExecHelper implements AutoCloseable {
    private static final int RUN = 1;
    private static final int KILL = 2;
    private static final int OUT = 1;
    private static final int ERR = 2;
    private static final int DONE = 3;

    private final Path program;
    private final System.Logger log;
    private final AtomicInteger ids = new AtomicInteger();
    private final Object lock = new Object();
    private Generation current; // guarded by lock
    private boolean closed; // guarded by lock

    ExecHelper(Path program, System.Logger log) {
        this.program = program;
        this.log = log;
    }

    /**
     * Starts {@code command} (the pid file, the runtime and its arguments): its output is kept up to {@code limit}
     * bytes in all, and waited for up to {@code drain} after the supervisor's exit.
     */
    Call run(List<String> command, int limit, Duration drain) throws IOException {
        int id = ids.incrementAndGet();
        ByteArrayOutputStream run = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(run);
        d.writeInt(limit);
        d.writeInt((int) Math.min(Integer.MAX_VALUE, drain.toMillis()));
        for (String s : command) {
            if (s.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("an exec argument holds a NUL byte");
            }
            d.write(s.getBytes(StandardCharsets.UTF_8));
            d.writeByte(0);
        }
        Call call = new Call(id);
        synchronized (lock) {
            if (closed) {
                throw new IOException(RuntimeExec.PROGRAM + " is closed");
            }
            if (current == null || current.ended || !current.process.isAlive()) {
                current = start();
            }
            Generation g = current;
            call.generation = g;
            g.calls.put(id, call);
            try {
                if (g.ended) {
                    throw new IOException(RuntimeExec.PROGRAM + " exited");
                }
                g.send(request(id, RUN, run.toByteArray()));
            } catch (IOException e) {
                g.calls.remove(id);
                g.process.destroyForcibly();
                throw e;
            }
        }
        return call;
    }

    /** Gives up on a call: its supervisor is killed, and what still comes for it is dropped. */
    void kill(Call call) {
        Generation g = call.generation;
        g.calls.remove(call.id);
        synchronized (lock) {
            try {
                g.send(request(call.id, KILL, new byte[0]));
            } catch (IOException e) {
                // The helper is gone, and the supervisor with it or on its own.
            }
        }
    }

    /** The helper's pid, while one runs: for tests. */
    long pid() {
        synchronized (lock) {
            return current == null || !current.process.isAlive() ? -1 : current.process.pid();
        }
    }

    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            if (current != null) {
                current.closing = true;
                current.process.destroy();
                current = null;
            }
        }
    }

    /** A request as the helper reads it: its length, then the id, the operation and what the operation takes. */
    private static byte[] request(int id, int op, byte[] rest) {
        return ByteBuffer.allocate(9 + rest.length).putInt(5 + rest.length).putInt(id).put((byte) op).put(rest)
                .array();
    }

    private Generation start() throws IOException {
        Process process = new ProcessBuilder(program.toString()).start();
        Generation g = new Generation(process);
        Thread.ofPlatform().daemon().name("berth-execsync-" + process.pid()).start(g::read);
        Thread.ofVirtual().name("berth-execsync-stderr").start(() -> {
            try (BufferedReader err = new BufferedReader(new InputStreamReader(process.getErrorStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = err.readLine()) != null; ) {
                    log.log(System.Logger.Level.WARNING, "{0} (pid {1}): {2}", RuntimeExec.PROGRAM,
                            String.valueOf(process.pid()), line);
                }
            } catch (IOException e) {
                // The helper ended.
            }
        });
        return g;
    }

    /** One helper process and the calls it runs. */
    private final class Generation {
        final Process process;
        final OutputStream requests;
        final Map<Integer, Call> calls = new ConcurrentHashMap<>();
        /** Set before the calls are failed: a call added after that would never be answered. */
        volatile boolean ended;
        /** Set when berth stops the helper itself: its end is then not worth a warning. */
        volatile boolean closing;

        Generation(Process process) {
            this.process = process;
            this.requests = process.getOutputStream();
        }

        /** Called with the lock held, so that requests do not interleave. */
        void send(byte[] request) throws IOException {
            requests.write(request);
            requests.flush();
        }

        void read() {
            IOException end = new EOFException(RuntimeExec.PROGRAM + " exited");
            try (DataInputStream in = new DataInputStream(new BufferedInputStream(process.getInputStream(), 65536))) {
                byte[] buf = new byte[65536];
                while (true) {
                    int id = in.readInt();
                    int type = in.readUnsignedByte();
                    int len = in.readInt();
                    if (len < 0 || len > buf.length) {
                        throw new OutOfStep("a reply of " + len + " bytes");
                    }
                    in.readFully(buf, 0, len);
                    if (type < OUT || type > DONE || (type == DONE && len != 4)) {
                        throw new OutOfStep("a reply of type " + type + " and " + len + " bytes");
                    }
                    Call call = calls.get(id);
                    if (call == null) {
                        continue;
                    }
                    switch (type) {
                        case OUT -> call.stdout.write(buf, 0, len);
                        case ERR -> call.stderr.write(buf, 0, len);
                        case DONE -> {
                            calls.remove(id);
                            call.done.complete(ByteBuffer.wrap(buf, 0, 4).getInt());
                        }
                        default -> throw new IllegalStateException("type " + type + " was checked above");
                    }
                }
            } catch (OutOfStep e) {
                end = new IOException(RuntimeExec.PROGRAM + " sent " + e.getMessage(), e);
                log.log(System.Logger.Level.WARNING, "{0} (pid {1}) sent {2}; stopping it", RuntimeExec.PROGRAM,
                        String.valueOf(process.pid()), e.getMessage());
            } catch (IOException | UncheckedIOException e) {
                // The helper ended: the end of its stdout, or the JDK closed the pipe of the exited process.
            } finally {
                ended = true;
                process.destroyForcibly();
                if (!closing) {
                    log.log(System.Logger.Level.WARNING, "{0} (pid {1}) ended with {2} exec(s) running; they fail, "
                            + "and the next exec starts another", RuntimeExec.PROGRAM, String.valueOf(process.pid()),
                            calls.size());
                }
                for (Call call : calls.values()) {
                    call.done.completeExceptionally(end);
                }
                calls.clear();
            }
        }
    }

    /** A reply berth cannot read: the helper and berth are out of step. */
    private static final class OutOfStep extends IOException {
        OutOfStep(String what) {
            super(what);
        }
    }

    /** One exec: its output as it arrives, and its status once the helper says it is done. */
    static final class Call {
        final int id;
        private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        private final CompletableFuture<Integer> done = new CompletableFuture<>();
        private Generation generation;

        private Call(int id) {
            this.id = id;
        }

        /** The status, or null if the call is not done within {@code timeout} (null: no limit). */
        Integer await(Duration timeout) throws IOException, InterruptedException {
            try {
                return timeout == null ? done.get() : done.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                return null;
            } catch (ExecutionException e) {
                throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
            }
        }

        /** What the command wrote to stdout: complete once {@link #await} has returned a status. */
        byte[] stdout() {
            return stdout.toByteArray();
        }

        byte[] stderr() {
            return stderr.toByteArray();
        }
    }
}
