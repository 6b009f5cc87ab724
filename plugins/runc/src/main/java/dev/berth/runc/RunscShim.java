package dev.berth.runc;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Optional;

/**
 * berth's side of {@code berth-runsc}, conmon's runtime for gVisor (see its source): a container that joins a
 * pod's runsc sandbox is started by its stand-in process, which holds conmon's pipes, since runsc gives such a
 * container the stdio of {@code runsc start}. berth asks with a byte on the FIFO {@code runsc-start} in the
 * bundle and waits for {@code runsc-start.status}.
 */
final class RunscShim {
    static final String PROGRAM = "berth-runsc";
    static final String FIFO = "runsc-start";
    static final String STATUS = "runsc-start.status";
    /** The plugin's own copy, else one on PATH. */
    static final Optional<Path> PATH = Programs.bundled(PROGRAM).or(() -> Optional.of(
            RuncOptions.resolveProgram(PROGRAM)).filter(Path::isAbsolute));

    private RunscShim() {}

    /** Kills the stand-in of {@code id} if it still runs (its pid in the bundle's ctr.pid, its command line ours). */
    static void killStandIn(Path bundle, String id) {
        try {
            long pid = Long.parseLong(Files.readString(bundle.resolve("ctr.pid")).strip());
            ProcessHandle.of(pid).filter(p -> p.info().commandLine().map(c -> c.contains(PROGRAM) && c.contains(id))
                    .orElse(false)).ifPresent(p -> {
                        p.descendants().forEach(ProcessHandle::destroyForcibly);
                        p.destroyForcibly();
                    });
        } catch (IOException | NumberFormatException e) {
            // no stand-in: a pause container, or never created
        }
    }

    /** Whether the container in {@code bundle} is started through its stand-in (it joined a runsc sandbox). */
    static boolean standIn(Path bundle) {
        return Files.exists(bundle.resolve(FIFO));
    }

    /**
     * Has the stand-in (pid {@code standIn}) start the container; returns runsc start's exit status (its error
     * text went to the container's stderr, so into its log). Throws when the stand-in is gone or gives no answer.
     */
    static int start(Path bundle, long standIn, Duration timeout) throws IOException {
        Path status = bundle.resolve(STATUS);
        Files.deleteIfExists(status);
        // Read-write: the open never blocks, whether or not the stand-in holds the other end.
        try (FileChannel fifo = FileChannel.open(bundle.resolve(FIFO), StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            fifo.write(ByteBuffer.wrap(new byte[] {1}));
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (Files.exists(status)) {
                try {
                    return Integer.parseInt(Files.readString(status).strip());
                } catch (NumberFormatException e) {
                    throw new IOException(PROGRAM + " wrote no exit status: " + e.getMessage());
                }
            }
            if (!ProcessHandle.of(standIn).map(ProcessHandle::isAlive).orElse(false)) {
                throw new IOException("its " + PROGRAM + " stand-in (pid " + standIn + ") has exited");
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("runsc start gave no result within " + timeout.toSeconds() + "s");
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
        }
    }
}
