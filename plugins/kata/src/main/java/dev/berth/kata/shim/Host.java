package dev.berth.kata.shim;

import dev.berth.oci.Processes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Small host helpers: FIFOs, processes by pid, mounts, running a program with a deadline. */
public final class Host {
    private Host() {}

    /** The outcome of a finished program: exit code and both outputs. */
    public record Run(int exitCode, String stdout, String stderr) {
        public String errorText() {
            String e = stderr.strip();
            return e.isEmpty() ? stdout.strip() : e;
        }
    }

    /**
     * Runs {@code cmd} in {@code dir} with stdin from /dev/null, outputs to files (a daemon the program forks
     * may inherit them; pipes would then never reach EOF), and waits at most {@code timeout}.
     */
    public static Run run(List<String> cmd, Path dir, java.util.Map<String, String> env, Duration timeout)
            throws IOException {
        Path out = Files.createTempFile(dir, ".run-", ".out");
        Path err = Files.createTempFile(dir, ".run-", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.environment().putAll(env);
            Process p = pb.start();
            try {
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                    p.waitFor(5, TimeUnit.SECONDS);
                    throw new IOException(cmd.getFirst() + " did not finish within " + timeout.toSeconds() + "s");
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while running " + cmd.getFirst());
            }
            // Lenient decoding: `delete` prints a binary protobuf on stdout.
            return new Run(p.exitValue(), new String(Files.readAllBytes(out), StandardCharsets.UTF_8),
                    new String(Files.readAllBytes(err), StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Creates a FIFO (mode 0600) with the coreutils {@code mkfifo}; Java has no mknod. */
    public static void mkfifo(Path path) throws IOException {
        Run r = run(List.of("mkfifo", "-m", "0600", path.toString()), path.getParent(), java.util.Map.of(),
                Duration.ofSeconds(30));
        if (r.exitCode() != 0) {
            throw new IOException("mkfifo " + path + ": " + r.errorText());
        }
    }

    /** SIGKILLs {@code pid} if it is alive and its command line contains {@code expect} (guards pid reuse). */
    public static void kill(long pid, String expect) {
        if (!Processes.live(pid)) {
            return;
        }
        try {
            String cmdline = Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
            if (!cmdline.contains(expect)) {
                return;
            }
        } catch (IOException e) {
            return;
        }
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        Processes.awaitExit(pid, Duration.ofSeconds(10));
    }

    /** Mount points at or below {@code dir}, deepest first, from /proc/self/mountinfo. */
    public static List<String> mountsUnder(Path dir) {
        List<String> found = new ArrayList<>();
        String prefix = dir.toAbsolutePath().normalize().toString();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] f = line.split(" ");
                if (f.length > 4) {
                    String mp = f[4].replace("\\040", " ");
                    if (mp.equals(prefix) || mp.startsWith(prefix + "/")) {
                        found.add(mp);
                    }
                }
            }
        } catch (IOException e) {
            return List.of();
        }
        found.sort((a, b) -> b.length() - a.length());
        return found;
    }

    /** Unmounts everything at or below {@code dir} (lazily when busy). */
    public static void unmountAll(Path dir) throws IOException {
        for (int round = 0; round < 8; round++) {
            List<String> mps = mountsUnder(dir);
            if (mps.isEmpty()) {
                return;
            }
            for (String mp : mps) {
                Run r = run(List.of("umount", mp), Path.of("/"), java.util.Map.of(), Duration.ofSeconds(30));
                if (r.exitCode() != 0) {
                    run(List.of("umount", "-l", mp), Path.of("/"), java.util.Map.of(), Duration.ofSeconds(30));
                }
            }
        }
        if (!mountsUnder(dir).isEmpty()) {
            throw new IOException("cannot unmount " + mountsUnder(dir).getFirst());
        }
    }

    /** Deletes a directory tree without following symlinks and without crossing into mounts (unmount first). */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!mountsUnder(dir).isEmpty()) {
            throw new IOException("refusing to delete " + dir + ": " + mountsUnder(dir).getFirst() + " is mounted");
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                Files.deleteIfExists(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
