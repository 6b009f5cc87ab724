package dev.berth.kata;

import static dev.berth.kata.ShimRegistry.FOREVER;
import static dev.berth.kata.ShimRegistry.QUICK;
import static dev.berth.kata.ShimRegistry.task;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import dev.berth.kata.oci.KataSpecs;
import dev.berth.kata.proto.task.ExecProcessRequest;
import dev.berth.kata.proto.task.WaitResponse;
import dev.berth.kata.proto.types.Status;
import dev.berth.kata.shim.FifoReader;
import dev.berth.kata.shim.TaskClient;
import dev.berth.kata.ttrpc.TtrpcException;
import dev.berth.oci.Failures;
import dev.berth.oci.FileTrees;
import dev.berth.oci.Libc;
import dev.berth.oci.spec.OciJson;
import dev.berth.oci.spec.RuntimeSpec;
import dev.berth.oci.spec.SpecMapper;
import dev.berth.spi.BackendException.Kind;
import dev.berth.spi.BackendException;
import dev.berth.spi.ExecResult;
import dev.berth.spi.StreamingIo.Streams;
import dev.berth.spi.StreamingIo.TerminalSize;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Processes in running containers: ExecSync (output captured up to a cap by {@link ExecCapture}) and interactive
 * exec (FIFOs per exec under {@code <stateDir>/execs}, CloseIO, ResizePty). Core has refused an empty command
 * before either is called. Every exec is Deleted in the shim.
 */
final class ShimExec {
    private final KataOptions options;
    private final System.Logger log;
    private final Path execs;
    private final ShimRegistry registry;

    ShimExec(KataOptions options, System.Logger log, Path execs, ShimRegistry registry) {
        this.options = options;
        this.log = log;
        this.execs = execs;
        this.registry = registry;
    }

    ExecResult execSync(String containerId, List<String> command, Duration timeout) {
        Container c = registry.container(containerId);
        Pod pod = registry.pod(c.sandboxId);
        String execId = newExecId();
        Path dir = execs.resolve(execId);
        ExecCapture out = null;
        ExecCapture err = null;
        TaskClient t = null;
        boolean added = false;
        try {
            t = runningTask(pod, containerId);
            RuntimeSpec.Process process = SpecMapper.execProcess(containerProcess(c), command, false);
            Files.createDirectories(dir);
            Libc.mkfifo(dir.resolve("stdout"), 0600);
            Libc.mkfifo(dir.resolve("stderr"), 0600);
            out = new ExecCapture(dir.resolve("stdout"), execId + "-out");
            err = new ExecCapture(dir.resolve("stderr"), execId + "-err");
            t.exec(ExecProcessRequest.newBuilder().setId(containerId).setExecId(execId)
                    .setStdout(dir.resolve("stdout").toString()).setStderr(dir.resolve("stderr").toString())
                    .setSpec(processSpec(process)).build(), options.execTimeout());
            added = true;
            t.start(containerId, execId, options.execTimeout());
            WaitResponse w;
            try {
                w = t.await(containerId, execId, timeout.isZero() ? FOREVER : timeout);
            } catch (TtrpcException e) {
                if (!e.is(TtrpcException.DEADLINE_EXCEEDED)) {
                    throw e;
                }
                try {
                    t.kill(containerId, execId, Signals.SIGKILL, false, options.stopTimeout());
                    t.await(containerId, execId, options.stopTimeout());
                } catch (TtrpcException ignored) {
                    // it may have finished meanwhile; Delete below cleans up either way
                }
                throw new BackendException(Kind.DEADLINE_EXCEEDED, "failed to exec in container \"" + containerId
                        + "\": command timed out after " + timeout.toMillis() + " ms");
            }
            out.awaitEnd(Duration.ofSeconds(10));
            err.awaitEnd(Duration.ofSeconds(10));
            return new ExecResult(out.bytes(), err.bytes(), w.getExitStatus());
        } catch (TtrpcException e) {
            throw e.toBackendForRequest("exec in container", containerId);
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to exec in container \"" + containerId + "\": "
                    + e.getMessage());
        } finally {
            if (added) {
                deleteExec(t, containerId, execId);
            }
            if (out != null) {
                out.stop();
            }
            if (err != null) {
                err.stop();
            }
            deleteDir(dir);
        }
    }

    /**
     * An interactive exec: FIFOs for the client's streams, CloseIO when the client's stdin ends, ResizePty for
     * terminal size changes, and the exit code from Wait. The exec is always Deleted.
     */
    int exec(String containerId, List<String> command, Streams io) {
        Container c = registry.container(containerId);
        Pod pod = registry.pod(c.sandboxId);
        String execId = newExecId();
        Path dir = execs.resolve(execId);
        List<FifoReader> readers = new ArrayList<>();
        Thread stdinPump = null;
        Thread resizer = null;
        TaskClient t = null;
        boolean added = false;
        try {
            t = runningTask(pod, containerId);
            RuntimeSpec.ConsoleSize console = null;
            if (io.tty()) {
                // The client's first size, if it sent one, is the console's size from the start: a ResizePty after
                // Start can come too late for a command that asks at once (stty size).
                TerminalSize initial = io.resize().poll(50, TimeUnit.MILLISECONDS);
                if (initial != null) {
                    console = new RuntimeSpec.ConsoleSize(initial.height(), initial.width());
                }
            }
            RuntimeSpec.Process process = containerProcess(c).forExec(command, io.tty(), console);
            Files.createDirectories(dir);
            ExecProcessRequest.Builder req = ExecProcessRequest.newBuilder().setId(containerId).setExecId(execId)
                    .setTerminal(io.tty());
            Libc.mkfifo(dir.resolve("stdout"), 0600);
            req.setStdout(dir.resolve("stdout").toString());
            readers.add(FifoReader.start(dir.resolve("stdout"), execId + "-out", chunk -> send(io.stdout(), chunk),
                    () -> { }));
            if (!io.tty()) {
                Libc.mkfifo(dir.resolve("stderr"), 0600);
                req.setStderr(dir.resolve("stderr").toString());
                readers.add(FifoReader.start(dir.resolve("stderr"), execId + "-err",
                        chunk -> send(io.stderr(), chunk), () -> { }));
            }
            if (io.stdin() != null) {
                Libc.mkfifo(dir.resolve("stdin"), 0600);
                req.setStdin(dir.resolve("stdin").toString());
            }
            req.setSpec(processSpec(process));
            t.exec(req.build(), options.execTimeout());
            added = true;
            if (io.stdin() != null) {
                TaskClient conn = t;
                stdinPump = Thread.ofPlatform().daemon().name(execId + "-in").start(
                        () -> pumpStdin(io.stdin(), dir.resolve("stdin"), conn, containerId, execId));
            }
            t.start(containerId, execId, options.execTimeout());
            if (io.tty()) {
                TaskClient conn = t;
                resizer = Thread.ofVirtual().name(execId + "-resize").start(() -> {
                    try {
                        while (true) {
                            TerminalSize size = io.resize().take();
                            conn.resizePty(containerId, execId, size.width(), size.height(), QUICK);
                        }
                    } catch (InterruptedException | TtrpcException e) {
                        // session over
                    }
                });
            }
            int code = t.await(containerId, execId, FOREVER).getExitStatus();
            for (FifoReader r : readers) {
                r.awaitEnd(Duration.ofSeconds(10));
            }
            return code;
        } catch (TtrpcException e) {
            throw e.toBackendForRequest("exec in container", containerId);
        } catch (IOException e) {
            throw Failures.io("exec in container", containerId, e);
        } catch (InterruptedException e) {
            throw Failures.interrupted("exec in container", containerId);
        } finally {
            if (resizer != null) {
                resizer.interrupt();
            }
            if (added) {
                deleteExec(t, containerId, execId);
            }
            readers.forEach(FifoReader::stop);
            if (stdinPump != null) {
                // a pump still waiting for the shim to open stdin: complete its open so it can finish
                try (var ignored = FileChannel.open(dir.resolve("stdin"), StandardOpenOption.READ,
                        StandardOpenOption.WRITE)) {
                    stdinPump.interrupt();
                } catch (IOException ignored) {
                    // already gone
                }
            }
            deleteDir(dir);
        }
    }

    /** The pod's connection, once the shim says the container runs: FAILED_PRECONDITION otherwise. */
    private static TaskClient runningTask(Pod pod, String containerId) throws TtrpcException {
        TaskClient t = task(pod, "exec in container");
        if (t.state(containerId, "", QUICK).getStatus() != Status.RUNNING) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "failed to exec in container \""
                    + containerId + "\": it is not running");
        }
        return t;
    }

    /** The {@code process} of the container's {@code config.json}, which an exec starts from. */
    private static RuntimeSpec.Process containerProcess(Container c) throws IOException {
        RuntimeSpec.Process p = OciJson.read(c.bundle.resolve("config.json")).process();
        if (p == null) {
            throw new IOException("the bundle's config.json has no process");
        }
        return p;
    }

    private static Any processSpec(RuntimeSpec.Process process) {
        return Any.newBuilder().setTypeUrl(KataSpecs.PROCESS_TYPE_URL)
                .setValue(ByteString.copyFrom(OciJson.writeBytes(process))).build();
    }

    private void deleteExec(TaskClient t, String containerId, String execId) {
        try {
            t.delete(containerId, execId, options.stopTimeout());
        } catch (TtrpcException ignored) {
            // the exec is gone with its container or shim
        }
    }

    private static void deleteDir(Path dir) {
        try {
            FileTrees.deleteTree(dir);
        } catch (IOException ignored) {
            // a stray FIFO in the exec dir is harmless
        }
    }

    private static String newExecId() {
        byte[] b = new byte[8];
        ThreadLocalRandom.current().nextBytes(b);
        return "exec-" + HexFormat.of().formatHex(b);
    }

    private static void send(OutputStream out, byte[] chunk) {
        if (out == null) {
            return;
        }
        try {
            out.write(chunk);
            out.flush();
        } catch (IOException e) {
            // the client went away; the process keeps running until it ends
        }
    }

    /** Copies a client's input into a stdin FIFO until the input ends. */
    static void copy(InputStream in, WritableByteChannel out) throws IOException {
        byte[] buf = new byte[8192];
        for (int n; (n = in.read(buf)) >= 0; ) {
            var b = ByteBuffer.wrap(buf, 0, n);
            while (b.hasRemaining()) {
                out.write(b);
            }
        }
    }

    /** Copies the client's stdin into the exec's stdin FIFO, then tells the shim with CloseIO. */
    private void pumpStdin(InputStream in, Path fifo, TaskClient t, String containerId, String execId) {
        try (var out = FileChannel.open(fifo, StandardOpenOption.WRITE)) {
            copy(in, out);
        } catch (IOException e) {
            return; // the exec ended first
        }
        try {
            t.closeStdin(containerId, execId, QUICK);
        } catch (TtrpcException e) {
            log.log(System.Logger.Level.DEBUG, "CloseIO of " + execId + ": " + e.getMessage());
        }
    }
}
