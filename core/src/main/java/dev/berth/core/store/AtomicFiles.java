package dev.berth.core.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/** Crash-safe file replacement: write a temp file beside the target, fsync it, rename it over, fsync the dir. */
public final class AtomicFiles {
    private AtomicFiles() {}

    public static void write(Path target, byte[] content) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + target.getFileName() + ".tmp-" + ProcessHandle.current().pid() + "-"
                + Thread.currentThread().threadId());
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.wrap(content);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        syncDirectory(dir);
    }

    /**
     * Deletes the temp files in {@code dir} that a killed process left half written: those of
     * {@link #write}'s naming whose pid is not this process's (never this process's own, which another writer
     * here may be using right now), and the {@code .<name>.tmp} of older versions.
     */
    public static void removeStaleTemps(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        String mine = Long.toString(ProcessHandle.current().pid());
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                int at = name.lastIndexOf(".tmp-");
                if (!name.startsWith(".")) {
                    continue;
                }
                if (name.endsWith(".tmp")) {
                    Files.deleteIfExists(f);
                } else if (at > 0) {
                    String pid = name.substring(at + ".tmp-".length()).split("-", 2)[0];
                    if (!pid.equals(mine)) {
                        Files.deleteIfExists(f);
                    }
                }
            }
        }
    }

    /** fsyncs a directory so that a rename or unlink in it is durable. */
    public static void syncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Some file systems refuse fsync on directories; the rename itself is still atomic there.
        }
    }
}
