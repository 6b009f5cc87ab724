package dev.berth.oci;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs an external program to its end with a deadline and captures its output: the runtimes' command lines
 * (runc, crun, runsc, a shim's start and delete), tar, iptables. A program that outlives its deadline is killed
 * (SIGKILL) and reported as timed out; one that cannot be started is reported with exit code 127, as a shell
 * would. Output is decoded leniently as UTF-8 (a shim's {@code delete} prints binary protobuf).
 */
public final class ProcessRunner {
    private static final File DEV_NULL = new File("/dev/null");
    private static final Duration REAP = Duration.ofSeconds(5);

    private ProcessRunner() {}

    /** A finished program: exit code (-1 when it timed out and was killed) and its output. */
    public record Result(int exitCode, String stdout, String stderr, boolean timedOut) {
        public boolean ok() {
            return exitCode == 0 && !timedOut;
        }

        /** The program's own error text, for messages: stderr, else stdout, trimmed, on one line. */
        public String errorText() {
            String s = stderr.isBlank() ? stdout : stderr;
            return s.strip().replace('\n', ' ');
        }
    }

    /** Runs {@code command}; {@code stdin} is written to it, or it reads /dev/null when null. */
    public static Result run(List<String> command, byte[] stdin, Duration timeout) {
        return run(command, stdin, timeout, Map.of(), null);
    }

    /**
     * Runs {@code command} with {@code env} added to this process's environment, in {@code cwd} (this process's
     * when null). Output is read through pipes; if a daemon the program forks keeps them open, the result comes
     * once the program itself has exited, with what was read by then. Use {@link #runDaemonizing} for programs
     * that fork daemons.
     */
    public static Result run(List<String> command, byte[] stdin, Duration timeout, Map<String, String> env,
            Path cwd) {
        ProcessBuilder pb = builder(command, env, cwd);
        if (stdin == null) {
            pb.redirectInput(ProcessBuilder.Redirect.from(DEV_NULL));
        }
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            return cannotStart(command, e);
        }
        CompletableFuture<String> out = drain(p.getInputStream());
        CompletableFuture<String> err = drain(p.getErrorStream());
        if (stdin != null) {
            try (var in = p.getOutputStream()) {
                in.write(stdin);
            } catch (IOException ignored) {
                // the program exited without reading its input; its exit code tells the story
            }
        }
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                kill(p);
                return new Result(-1, out.getNow(""), err.getNow(""), true);
            }
            return new Result(p.exitValue(), out.get(REAP.toMillis(), TimeUnit.MILLISECONDS),
                    err.get(REAP.toMillis(), TimeUnit.MILLISECONDS), false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            return new Result(-1, "", "interrupted", true);
        } catch (ExecutionException | TimeoutException e) {
            // A daemonised grandchild may hold the pipes open; the exit code is what matters.
            return new Result(p.exitValue(), out.getNow(""), err.getNow(""), false);
        }
    }

    /**
     * Runs {@code command}, which forks a daemon (a shim's {@code start}), in {@code cwd} with stdin from
     * /dev/null. Its outputs go to temporary files in {@code cwd}, read and deleted once it exits: a daemon
     * inheriting a pipe would keep it open and the output would never end.
     */
    public static Result runDaemonizing(List<String> command, Path cwd, Map<String, String> env, Duration timeout) {
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile(cwd, ".run-", ".out");
            err = Files.createTempFile(cwd, ".run-", ".err");
            Process p;
            try {
                p = builder(command, env, cwd).redirectInput(ProcessBuilder.Redirect.from(DEV_NULL))
                        .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            } catch (IOException e) {
                return cannotStart(command, e);
            }
            try {
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    kill(p);
                    return new Result(-1, read(out), read(err), true);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
                return new Result(-1, "", "interrupted", true);
            }
            return new Result(p.exitValue(), read(out), read(err), false);
        } catch (IOException e) {
            return cannotStart(command, e);
        } finally {
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    private static ProcessBuilder builder(List<String> command, Map<String, String> env, Path cwd) {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().putAll(env);
        if (cwd != null) {
            pb.directory(cwd.toFile());
        }
        return pb;
    }

    private static Result cannotStart(List<String> command, IOException e) {
        return new Result(127, "", "cannot run " + command.getFirst() + ": " + e.getMessage(), false);
    }

    private static void kill(Process p) throws InterruptedException {
        p.destroyForcibly();
        p.waitFor(REAP.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static String read(Path file) throws IOException {
        return new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
    }

    private static void deleteQuietly(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // a temporary file in the program's own directory; it goes with that directory
            }
        }
    }

    private static CompletableFuture<String> drain(InputStream in) {
        CompletableFuture<String> f = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (in) {
                f.complete(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                f.completeExceptionally(new UncheckedIOException(e));
            }
        });
        return f;
    }
}
