package dev.berth.core.util;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Deleting directory trees. A symlink anywhere in the tree, the root included, is deleted as a link: what it
 * points at is never touched, so a tree written by a layer, a plugin or a test cannot make berth delete files
 * outside it.
 */
public final class FileTrees {
    private FileTrees() {
    }

    /**
     * Deletes a file, a symlink or a directory tree without following symlinks; nothing happens when
     * {@code path} is null or does not exist. An entry that vanishes meanwhile counts as deleted.
     *
     * @throws IOException when an entry cannot be deleted (the rest of the tree may be gone already)
     */
    public static void deleteTree(Path path) throws IOException {
        if (path == null || !Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(path, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
                if (exc instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw exc;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
                if (exc != null) {
                    throw exc;
                }
                Files.deleteIfExists(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** {@link #deleteTree} with a failure as an {@link UncheckedIOException} naming the tree. */
    public static void deleteTreeUnchecked(Path path) {
        try {
            deleteTree(path);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + path, e);
        }
    }
}
