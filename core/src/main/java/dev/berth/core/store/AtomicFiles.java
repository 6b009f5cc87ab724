package dev.berth.core.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Crash-safe file replacement: write a temp file beside the target, fsync it, rename it over. A reader, after a kill
 * of the daemon or a crash of the host, finds the old content or the new, never a torn file.
 *
 * <p>{@link #write} does not fsync the directory: the rename is durable with the file system's next journal
 * commit (a few seconds on ext4 and xfs, whose journals keep renames in order, so a later rename that survived a
 * crash implies every earlier one did), as containerd writes its files. Records of pods and containers, network
 * state and the image store's metadata are written this way on every pod and container created or removed; after a
 * crash of the host a lost last rename leaves the state of just before it, which startup reconciles as it does
 * after a kill mid-call (the containers are gone either way). On a disk busy with other writes each directory fsync
 * is a journal commit of its own that waits behind them. {@link #writeDurably} also fsyncs the directory, for an
 * operator's decision (a drained handler, an installed plugin) that must hold once the command has returned.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Replaces {@code target} atomically; durable with the next journal commit (see the class). */
    public static void write(Path target, byte[] content) throws IOException {
        replace(target, content);
    }

    /** Replaces {@code target} atomically and fsyncs its directory, so that the new content is durable on return. */
    public static void writeDurably(Path target, byte[] content) throws IOException {
        syncDirectory(replace(target, content));
    }

    /** The temp file, its fsync and the rename; returns the directory. */
    private static Path replace(Path target, byte[] content) throws IOException {
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
        return dir;
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
