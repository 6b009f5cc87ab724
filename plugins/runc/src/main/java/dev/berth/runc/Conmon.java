package dev.berth.runc;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.oci.Libc;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Launches conmon as CRI-O does, with its sync and start pipes as FIFOs instead of socket pairs: a tiny
 * {@code sh} opens them as fds 3 and 4 and execs conmon, since the JDK cannot pass extra descriptors.
 * conmon daemonises; its copy supervises the container, writes the CRI log and the exit file, and serves the
 * attach socket and the ctl/winsz FIFOs in the bundle.
 */
final class Conmon {
    private static final String LAUNCHER = "exec 3>\"$1\" 4<\"$2\"; shift 2; exec \"$@\"";
    /**
     * The launcher for conmon's passthrough log driver: conmon hands its own stdin, stdout and stderr to the
     * container, so they become the files or FIFOs named by arguments 3 to 5 ({@code /dev/null} for none). A FIFO is
     * opened read-write, so that the open does not wait for the client's end; a file is appended to.
     */
    private static final String STDIO_LAUNCHER = "exec 3>\"$1\" 4<\"$2\"; "
            + "if [ -p \"$3\" ]; then exec 0<>\"$3\"; else exec 0<\"$3\"; fi; "
            + "if [ -p \"$4\" ]; then exec 1<>\"$4\"; else exec 1>>\"$4\"; fi; "
            + "if [ -p \"$5\" ]; then exec 2<>\"$5\"; else exec 2>>\"$5\"; fi; shift 5; exec \"$@\"";

    /** What came back on the sync pipe: the pid or exit code, and conmon's message (runtime error text). */
    record Reply(long value, String message) {}

    /** Thrown when conmon or the runtime failed; the message is their own text. */
    static final class Failure extends Exception {
        private static final long serialVersionUID = 1L;
        final boolean timedOut;

        Failure(String message, boolean timedOut) {
            super(message, null, false, false);
            this.timedOut = timedOut;
        }
    }

    private Conmon() {}

    /** Runs conmon with {@code args}; returns the first sync message carrying {@code key}. */
    static Reply launch(Path conmon, List<String> args, Path workDir, String key, Duration timeout)
            throws Failure {
        return launch(conmon, args, workDir, key, timeout, null);
    }

    /**
     * Runs conmon with {@code args} and its standard streams on {@code stdio} (stdin, stdout, stderr paths), for
     * {@code -l passthrough:}; with {@code stdio} null, on nothing. Returns the first sync message carrying
     * {@code key}.
     */
    static Reply launch(Path conmon, List<String> args, Path workDir, String key, Duration timeout,
                        List<String> stdio) throws Failure {
        Path sync = workDir.resolve("sync-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        Path start = workDir.resolve("start-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        Path launchLog = workDir.resolve("conmon-launch.log");
        Process p = null;
        try {
            Libc.mkfifo(sync, 0600);
            Libc.mkfifo(start, 0600);
            try (SyncPipe pipe = new SyncPipe(sync, n -> n.has(key) || n.has("message"));
                 FileChannel startPipe = FileChannel.open(start, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                startPipe.write(ByteBuffer.wrap(new byte[] {0}));
                List<String> cmd = new ArrayList<>(List.of("/bin/sh", "-c", stdio == null ? LAUNCHER
                        : STDIO_LAUNCHER, "conmon-launcher", sync.toString(), start.toString()));
                if (stdio != null) {
                    cmd.addAll(stdio);
                }
                cmd.add(conmon.toString());
                cmd.addAll(args);
                // conmon writes an "oom" marker into its working directory, as well as into --persist-dir.
                ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                        .redirectOutput(launchLog.toFile())
                        .redirectErrorStream(true);
                pb.environment().putAll(Map.of("_OCI_SYNCPIPE", "3", "_OCI_STARTPIPE", "4"));
                p = pb.start();
                long deadline = System.nanoTime() + timeout.toNanos();
                // The launched conmon exits once its daemon copy runs (create) or when the exec is over (--sync).
                boolean exited = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
                if (exited) {
                    pipe.unblockOpen();
                }
                JsonNode msg = pipe.await(Math.max(1000, (deadline - System.nanoTime()) / 1_000_000));
                if (msg == null) {
                    String log = read(launchLog);
                    throw new Failure("conmon exited without a result" + (exited ? " (status " + p.exitValue() + ")" : "")
                            + (log.isEmpty() ? "" : ": " + log), false);
                }
                long value = msg.path(key).asLong(-1);
                String message = msg.path("message").asText("");
                if (value < 0 && !message.isEmpty()) {
                    throw new Failure(message.strip(), message.contains("timed out"));
                }
                if (!msg.has(key)) {
                    throw new Failure(message.isEmpty() ? "conmon sent no " + key : message.strip(), false);
                }
                if (!exited) {
                    p.waitFor(10, TimeUnit.SECONDS);
                }
                return new Reply(value, message);
            }
        } catch (TimeoutException e) {
            throw new Failure("conmon gave no result within " + timeout.toSeconds() + "s", true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure("interrupted while waiting for conmon", false);
        } catch (IOException e) {
            throw new Failure("cannot run conmon: " + e.getMessage(), false);
        } finally {
            if (p != null && p.isAlive()) {
                p.destroyForcibly();
            }
            deleteQuietly(sync);
            deleteQuietly(start);
        }
    }

    /**
     * Kills the launchers under {@code stateDir} that wait for ever for an earlier berth: one killed between starting
     * a launcher and opening its end of the sync and start FIFOs leaves the {@code sh} blocked in opening them. The
     * FIFOs are named after the berth that made them ({@code sync-<pid>-...}), so this berth's own launchers, which
     * are never left waiting (a launch that fails kills its launcher), are left alone. A launcher can only be left by
     * an earlier berth: run once, when the handler starts, rather than at every removal (it reads every process's
     * command line). Returns how many it killed.
     */
    static int killOrphanedLaunchers(Path stateDir) {
        String prefix = stateDir.toAbsolutePath() + "/";
        String ours = "sync-" + ProcessHandle.current().pid() + "-";
        int killed = 0;
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path proc : procs.toList()) {
                String name = proc.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                String[] argv;
                try {
                    argv = new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8)
                            .split("\0");
                } catch (IOException e) {
                    continue; // gone meanwhile
                }
                if (argv.length > 4 && (argv[2].equals(LAUNCHER) || argv[2].equals(STDIO_LAUNCHER))
                        && argv[3].equals("conmon-launcher") && argv[4].startsWith(prefix)
                        && !Path.of(argv[4]).getFileName().toString().startsWith(ours)) {
                    ProcessHandle.of(Long.parseLong(name)).ifPresent(ProcessHandle::destroyForcibly);
                    killed++;
                }
            }
        } catch (IOException e) {
            // no /proc to look at: nothing to kill
        }
        return killed;
    }

    static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8).strip().replace('\n', ' ');
        } catch (IOException e) {
            return "";
        }
    }

    static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort
        }
    }
}
