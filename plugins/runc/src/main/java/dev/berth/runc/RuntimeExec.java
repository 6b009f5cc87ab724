package dev.berth.runc;

import dev.berth.oci.Processes;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import dev.berth.spi.ExecResult;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A synchronous exec (ExecSync, which the kubelet's exec probes send) without conmon: {@code berth-execsync}
 * (src/main/c), a child subreaper, runs the OCI runtime's detached exec ({@code runc exec --detach} or crun's) with
 * the pipes berth reads as its stdio, which the command inherits, then waits for the command and exits with its
 * status (128 + the signal for a command killed by one). conmon ({@link ConmonExec}, still used for gVisor, and
 * where the program is missing) adds a launcher shell and its own start to every probe for supervision a command
 * that ends within the call does not need. The runtime's foreground exec would do without a helper, but runc's
 * copies the output through pipes of its own until their end, so a probe that leaves a child holding its output
 * would hold the call until that child exits.
 *
 * <ul>
 *   <li>The runtime writes the command's pid to a file once it has started it. An exec that exits non-zero without
 *       that file failed before the command ran (no such program, the container gone): its stderr is the runtime's
 *       own error, and the call fails with it.</li>
 *   <li>On the deadline berth kills the command and its children by that pid; the helper then exits.</li>
 *   <li>Output beyond {@link #OUTPUT_LIMIT} bytes in all is read and dropped, as conmon's log limit did.</li>
 *   <li>A command that leaves a child holding its output open is answered with what was read within {@link #DRAIN}
 *       of its exit; the child's later output is read and dropped until it closes it.</li>
 * </ul>
 */
final class RuntimeExec {
    /** stdout and stderr together, at most: what a probe's answer carries. */
    static final int OUTPUT_LIMIT = 16 << 20;
    /** How long after the command's exit its output may still arrive (a child holding the pipes). */
    static final Duration DRAIN = Duration.ofSeconds(1);
    static final String PROGRAM = "berth-execsync";
    /** The plugin's own copy; without it, ExecSync goes through conmon. */
    static final Optional<Path> PATH = Programs.bundled(PROGRAM);
    private static final File DEV_NULL = new File("/dev/null");
    /** How long a timed-out exec's runtime may take to write the pid file of a command it is still starting. */
    private static final Duration PID_FILE_WAIT = Duration.ofSeconds(2);
    private static final Duration REAP = Duration.ofSeconds(10);
    /** runc's error line on stderr: {@code time="..." level=error msg="..."}. */
    private static final Pattern RUNC_ERROR = Pattern.compile("level=(?:error|fatal) msg=\"((?:[^\"\\\\]|\\\\.)*)\"");

    private final HandlerState state;
    private final ContainerProcesses processes;

    RuntimeExec(HandlerState state, ContainerProcesses processes) {
        this.state = state;
        this.processes = processes;
    }

    ExecResult execSync(String containerId, List<String> command, Duration timeout) {
        processes.requireRunning(containerId, "exec in");
        Path bundle = state.bundle(containerId);
        String tag = "exec-" + System.nanoTime();
        Path spec = bundle.resolve(tag + ".json");
        Path pidFile = bundle.resolve(tag + ".pid");
        Process p = null;
        try {
            Files.write(spec, state.execSpecs.spec(containerId, bundle, command, false));
            List<String> cmd = new ArrayList<>(List.of(PATH.orElseThrow().toString(), pidFile.toString()));
            cmd.addAll(state.cli.command(List.of("exec", "--detach", "--pid-file", pidFile.toString(), "--process",
                    spec.toString(), containerId)));
            p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(DEV_NULL)).start();
            Output output = new Output();
            Output.Stream out = output.read(p.getInputStream(), "stdout");
            Output.Stream err = output.read(p.getErrorStream(), "stderr");
            boolean limited = !timeout.isZero() && !timeout.isNegative();
            boolean exited = true;
            if (limited) {
                exited = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } else {
                p.waitFor();
            }
            if (!exited) {
                killCommand(pidFile);
                if (!p.waitFor(REAP.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                }
                throw new BackendException(Kind.DEADLINE_EXCEEDED, "failed to exec in container \"" + containerId
                        + "\": command timed out after " + timeout.toSeconds() + "s");
            }
            output.awaitEnd(DRAIN);
            int code = p.exitValue();
            if (code != 0 && !Files.exists(pidFile)) {
                String message = runtimeError(err.bytes(), out.bytes(), code);
                throw new BackendException(RuncErrors.kindOf(message), "failed to exec in container \""
                        + containerId + "\": " + message);
            }
            return new ExecResult(out.bytes(), err.bytes(), code);
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to exec in container \"" + containerId + "\": "
                    + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            killCommand(pidFile);
            throw new BackendException(Kind.INTERNAL, "failed to exec in container \"" + containerId
                    + "\": interrupted");
        } finally {
            if (p != null && p.isAlive()) {
                p.destroyForcibly();
            }
            Conmon.deleteQuietly(spec);
            Conmon.deleteQuietly(pidFile);
        }
    }

    /**
     * The runtime's own error, for a runtime that failed before the command ran: runc's {@code msg="..."}, else
     * crun's (or anything else's) text as it is.
     */
    static String runtimeError(byte[] stderr, byte[] stdout, int code) {
        String text = new String(stderr.length > 0 ? stderr : stdout, StandardCharsets.UTF_8).strip();
        Matcher m = RUNC_ERROR.matcher(text);
        String last = null;
        while (m.find()) {
            last = m.group(1).replaceAll("\\\\(.)", "$1");
        }
        if (last != null) {
            return last;
        }
        return text.isEmpty() ? "the runtime exited with status " + code + " before starting the command"
                : text.replace('\n', ' ');
    }

    /** Kills the command the runtime started, and its children, by the pid the runtime wrote once it had started it. */
    private static void killCommand(Path pidFile) {
        Processes.await(() -> Files.exists(pidFile), PID_FILE_WAIT, Duration.ofMillis(10));
        ConmonExec.killExecProcess(pidFile);
    }

    /**
     * The command's stdout and stderr, each read to its end on a virtual thread, keeping at most
     * {@link #OUTPUT_LIMIT} bytes of the two together.
     */
    static final class Output {
        private final AtomicInteger room = new AtomicInteger(OUTPUT_LIMIT);
        private final CountDownLatch ends = new CountDownLatch(2);

        /** One stream's bytes; what was kept so far if read before its end. */
        final class Stream {
            private final ByteArrayOutputStream kept = new ByteArrayOutputStream();

            synchronized byte[] bytes() {
                return kept.toByteArray();
            }

            private synchronized void keep(byte[] buf, int n) {
                kept.write(buf, 0, n);
            }
        }

        Stream read(InputStream in, String name) {
            Stream s = new Stream();
            Thread.ofVirtual().name("berth-exec-" + name).start(() -> {
                // A probe's output is mostly a line or two: a small buffer, a larger one once a read fills it.
                byte[] buf = new byte[1024];
                try (in) {
                    for (int n; (n = in.read(buf)) >= 0; ) {
                        int read = n;
                        int take = Math.min(n, room.getAndUpdate(r -> Math.max(0, r - read)));
                        if (take > 0) {
                            s.keep(buf, take);
                        }
                        if (n == buf.length && buf.length < 8192) {
                            buf = new byte[8192];
                        }
                    }
                } catch (IOException e) {
                    // A pipe closed under the reader: what was read is the output.
                } finally {
                    ends.countDown();
                }
            });
            return s;
        }

        /** Waits for both streams' ends, at most {@code drain}. */
        void awaitEnd(Duration drain) throws InterruptedException {
            ends.await(drain.toMillis(), TimeUnit.MILLISECONDS);
        }
    }
}
