package dev.berth.runc;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs external programs with a deadline and captures their output; finds the plugin's own helper programs. */
final class Programs {
    private Programs() {}

    /** A finished program: exit code (-1 when it timed out and was killed) and its output. */
    record Result(int exitCode, String stdout, String stderr, boolean timedOut) {
        boolean ok() {
            return exitCode == 0 && !timedOut;
        }

        /** The program's own error text, for messages: stderr, else stdout, trimmed. */
        String errorText() {
            String s = stderr.isBlank() ? stdout : stderr;
            return s.strip().replace('\n', ' ');
        }
    }

    static Result run(List<String> command, byte[] stdin, Duration timeout) {
        return run(command, stdin, timeout, Map.of(), null);
    }

    static Result run(List<String> command, byte[] stdin, Duration timeout, Map<String, String> env, Path cwd) {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().putAll(env);
        if (cwd != null) {
            pb.directory(cwd.toFile());
        }
        if (stdin == null) {
            pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        }
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            return new Result(127, "", "cannot run " + command.getFirst() + ": " + e.getMessage(), false);
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
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                return new Result(-1, out.getNow(""), err.getNow(""), true);
            }
            return new Result(p.exitValue(), out.get(5, TimeUnit.SECONDS), err.get(5, TimeUnit.SECONDS), false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            return new Result(-1, "", "interrupted", true);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            // A daemonised grandchild may hold the pipes open; the exit code is what matters.
            return new Result(p.exitValue(), out.getNow(""), err.getNow(""), false);
        }
    }

    /**
     * A helper program shipped in the plugin archive, {@code bin/<name>} beside its {@code classes}; PF4J does not
     * keep file modes when it unpacks, so it is made executable again here.
     */
    static Optional<Path> bundled(String name) {
        try {
            Path classes = Path.of(Programs.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path program = classes.getParent().resolve("bin").resolve(name);
            if (!Files.isRegularFile(program)) {
                return Optional.empty();
            }
            if (!Files.isExecutable(program)) {
                Files.setPosixFilePermissions(program,
                        PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            return Optional.of(program);
        } catch (URISyntaxException | IOException | SecurityException | UnsupportedOperationException
                 | NullPointerException e) {
            return Optional.empty();
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
