package dev.berth.oci;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The backends' one way to replace a file they keep state in (records, bundle specs, properties): the new content
 * goes to a temp file beside the target, is flushed to disk, and is renamed over the target, and the directory is
 * flushed too. A reader, or berth after a {@code kill -9} or a power cut, finds the old content or the new, never a
 * mix. Each write has a temp file of its own ({@code .<name>.tmp-<pid>-<n>}), so two writers of one file do not
 * write into each other's temp file; the last rename wins. {@link #removeStaleTemps} deletes what a killed process
 * left half written.
 */
public final class DurableFiles {
    private static final String TEMP = ".tmp-";
    private static final AtomicLong SEQUENCE = new AtomicLong();

    private DurableFiles() {}

    /** Replaces {@code file}'s content with {@code data}, atomically and durably; its directory must exist. */
    public static void write(Path file, byte[] data) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = dir.resolve("." + file.getFileName() + TEMP + ProcessHandle.current().pid() + "-"
                + SEQUENCE.incrementAndGet());
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(data);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
        syncDirectory(dir);
    }

    /**
     * Deletes the temp files in {@code dir} that writes of another process (a berth killed part-way) left behind:
     * those of {@link #write}'s naming with another pid, and the {@code .<name>.tmp} of the backends' older
     * versions. Never this process's own, which another writer here may be using right now.
     */
    public static void removeStaleTemps(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        String mine = TEMP + ProcessHandle.current().pid() + "-";
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                if (!name.startsWith(".")) {
                    continue;
                }
                int at = name.lastIndexOf(TEMP);
                boolean stale = at > 0 ? !name.startsWith(mine, at) : name.endsWith(".tmp");
                if (stale) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    /** Flushes a directory, so that a rename or unlink in it survives a power cut. */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // some file systems refuse to flush a directory; the rename is atomic there all the same
        }
    }
}
