package dev.berth.runc;

import dev.berth.oci.Libc;
import dev.berth.oci.ProcessRunner;
import dev.berth.oci.Processes;
import dev.berth.oci.SmallFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code berth-logjoin}, the plugin's small C program (src/main/c) between conmon and a container's CRI log
 * file. conmon writes what it reads from the container's pipe as soon as it reads it, so a line written in
 * several {@code write()}s can reach the file as partial ({@code P}) records; the joiner holds a partial record
 * for up to 50 ms and joins the rest of its line to it. conmon writes into a FIFO in the bundle, the joiner
 * appends to the log path. It is a process of its own, like conmon, so logs keep flowing while berth is down.
 *
 * <p>Files in the bundle: {@link #FIFO} and {@link #PID_FILE}, which the joiner removes when conmon has gone and
 * everything is written: a container's exit is reported only after that, so its last lines are in the file.
 */
final class LogJoiner {
    static final String PROGRAM = "berth-logjoin";
    static final String FIFO = "log.fifo";
    static final String PID_FILE = "logjoin.pid";
    private static final int SIGHUP = 1;
    private static final Duration POLL = Duration.ofMillis(2);
    private static final int SIGKILL = 9;

    private LogJoiner() {}

    /** The copy shipped in the plugin archive. */
    static Optional<Path> bundled() {
        return Programs.bundled(PROGRAM);
    }

    /**
     * Starts a joiner appending to {@code logPath}; returns the FIFO conmon must write its log to. The program
     * returns once it has both files open and has written its pid file, so conmon's open of the FIFO never waits.
     */
    static Path start(Path program, Path bundle, String logPath) throws IOException {
        Path fifo = bundle.resolve(FIFO);
        Files.deleteIfExists(fifo);
        Libc.mkfifo(fifo, 0600);
        ProcessRunner.Result r = ProcessRunner.run(List.of(program.toString(), fifo.toString(), logPath,
                bundle.resolve(PID_FILE).toString()), null, Duration.ofSeconds(10));
        if (!r.ok()) {
            throw new IOException(r.timedOut() ? PROGRAM + " did not start within 10s" : r.errorText());
        }
        return fifo;
    }

    /** A joiner being started on a virtual thread while the caller prepares the rest of the container. */
    static final class Starting {
        private final CompletableFuture<Path> fifo = new CompletableFuture<>();
        private final Path bundle;

        private Starting(Path program, Path bundle, String logPath) {
            this.bundle = bundle;
            Thread.ofVirtual().name("berth-logjoin-start").start(() -> {
                try {
                    fifo.complete(start(program, bundle, logPath));
                } catch (IOException | RuntimeException e) {
                    fifo.completeExceptionally(e);
                }
            });
        }

        /** The FIFO conmon must write to, once the joiner runs. */
        Path await() throws IOException {
            try {
                return fifo.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while starting " + PROGRAM);
            } catch (ExecutionException e) {
                throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause().getMessage());
            }
        }

        /** Rolls back: lets the start finish (so its pid file is there) and kills the joiner. Never throws. */
        void cancel() {
            try {
                fifo.get(15, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                // nothing started, or it is stuck: kill what the pid file names, if anything
            }
            kill(bundle);
        }
    }

    /** Starts a joiner as {@link #start} does, without waiting for it. */
    static Starting startAsync(Path program, Path bundle, String logPath) {
        return new Starting(program, bundle, logPath);
    }

    /** The joiner's pid while it runs; empty when it has finished, was never started or is gone. */
    static Optional<Long> running(Path bundle) {
        long pid = SmallFiles.readLong(bundle.resolve(PID_FILE));
        return Processes.live(pid, PROGRAM) ? Optional.of(pid) : Optional.empty();
    }

    /** Waits up to {@code max} for the joiner to have written everything and gone; true if it has. */
    static boolean awaitDone(Path bundle, Duration max) {
        return Processes.await(() -> running(bundle).isEmpty(), max, POLL);
    }

    /** Asks the joiner to reopen the log path (SIGHUP), after the kubelet renamed the file; false if none runs. */
    static boolean reopen(Path bundle) throws IOException {
        Optional<Long> pid = running(bundle);
        if (pid.isEmpty()) {
            return false;
        }
        Libc.kill(pid.get(), SIGHUP);
        return true;
    }

    /** Kills the joiner if it still runs (a create rolled back, or a removal); never throws. */
    static void kill(Path bundle) {
        running(bundle).ifPresent(pid -> {
            try {
                Libc.kill(pid, SIGKILL);
            } catch (IOException ignored) {
                // gone meanwhile
            }
        });
    }
}
