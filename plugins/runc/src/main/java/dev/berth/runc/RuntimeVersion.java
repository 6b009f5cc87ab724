package dev.berth.runc;

import dev.berth.oci.ProcessRunner;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * The answer of {@code <runtime> --version}, kept while the runtime's file stays the same one. The handler's health
 * check runs every 10 s (core's {@code HandlerHealth}), and starting the runtime each time, for every handler, was
 * about two fifths of an idle berth's CPU (docs/performance.md, "An idle node"). The file's identity (device and
 * inode, size and modification time) is read on each check instead, so a runtime that is removed, replaced or
 * upgraded is run again at the next check; a failed answer is never kept, so a broken runtime is tried at every
 * check; and a kept answer is checked again after {@link #MAX_AGE} anyway, for what the file's identity does not
 * show (a shared library crun links against that went away).
 */
final class RuntimeVersion {
    /** How long a good answer is kept while the file does not change. */
    static final Duration MAX_AGE = Duration.ofMinutes(5);
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    /** The file as {@code stat} sees it through any symlinks. */
    record Identity(Object fileKey, long size, FileTime modified) {
        static Identity of(Path file) {
            try {
                BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
                return new Identity(a.fileKey(), a.size(), a.lastModifiedTime());
            } catch (IOException e) {
                return null; // gone or unreadable: run it, and let its failure say what is wrong
            }
        }
    }

    private record Kept(Identity identity, long checkedAtNanos, ProcessRunner.Result result) {}

    private static final RuntimeVersion SHARED = new RuntimeVersion(RuntimeVersion::run, System::nanoTime);

    private final Map<Path, Kept> kept = new ConcurrentHashMap<>();
    private final Function<Path, ProcessRunner.Result> run;
    private final LongSupplier clock;

    RuntimeVersion(Function<Path, ProcessRunner.Result> run, LongSupplier clock) {
        this.run = run;
        this.clock = clock;
    }

    /** The one the handlers of this plugin share (handlers with the same binary ask once). */
    static RuntimeVersion shared() {
        return SHARED;
    }

    /** Runs {@code binary --version}. */
    static ProcessRunner.Result run(Path binary) {
        return ProcessRunner.run(List.of(binary.toString(), "--version"), null, TIMEOUT);
    }

    /** {@code binary --version}: the kept answer while the file is the same and the answer is recent, else run now. */
    ProcessRunner.Result of(Path binary) {
        Identity now = Identity.of(binary);
        long at = clock.getAsLong();
        Kept k = kept.get(binary);
        if (now != null && k != null && Objects.equals(k.identity(), now)
                && at - k.checkedAtNanos() < MAX_AGE.toNanos()) {
            return k.result();
        }
        ProcessRunner.Result r = run.apply(binary);
        if (r.ok() && now != null) {
            kept.put(binary, new Kept(now, at, r));
        } else {
            kept.remove(binary);
        }
        return r;
    }
}
