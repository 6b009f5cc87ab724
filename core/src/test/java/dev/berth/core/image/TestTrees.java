package dev.berth.core.image;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Map;
import java.util.TreeMap;

/** File-tree helpers for tests: a comparable description of a tree, and recursive delete. */
final class TestTrees {
    private TestTrees() {
    }

    /** path → "type mode uid:gid detail" for every entry under root (root itself excluded). */
    static Map<String, String> describe(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                if (!dir.equals(root)) {
                    out.put(root.relativize(dir).toString(), entry(dir));
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                out.put(root.relativize(file).toString(), entry(file));
                return FileVisitResult.CONTINUE;
            }
        });
        return out;
    }

    static String entry(Path p) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,rdev,size", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) a.get("mode");
        String owner = a.get("uid") + ":" + a.get("gid");
        String perm = String.format("%04o", mode & 07777);
        return switch (mode & 0170000) {
            case 0040000 -> "dir " + perm + " " + owner;
            case 0100000 -> "file " + perm + " " + owner + " " + TestLayers.sha(Files.readAllBytes(p));
            case 0120000 -> "symlink " + owner + " -> " + Files.readSymbolicLink(p);
            case 0020000 -> {
                long rdev = (Long) a.get("rdev");
                long major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~0xfffL);
                long minor = (rdev & 0xff) | ((rdev >> 12) & ~0xffL);
                yield rdev == 0 ? "whiteout" : "chr " + perm + " " + owner + " " + major + "/" + minor;
            }
            case 0010000 -> "fifo " + perm + " " + owner;
            default -> "other " + Integer.toOctalString(mode);
        };
    }

    static void delete(Path p) {
        try {
            dev.berth.core.util.FileTrees.deleteTree(p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
