package dev.berth.oci;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Directory trees the backends own (bundles, checkpoint work dirs, exec dirs): the mounts below them, as
 * {@code /proc/self/mountinfo} lists them, taking those down, and deleting the tree. A delete never follows a
 * symbolic link (a container may have put one there, pointing anywhere on the host) and never crosses into a
 * mount: it refuses while anything below is mounted.
 */
public final class FileTrees {
    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

    private FileTrees() {}

    /** Mount points at or below {@code dir}, in the order to unmount them: the last mounted first. */
    public static List<String> mountsUnder(Path dir) {
        String prefix = dir.toAbsolutePath().normalize().toString();
        List<String> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(MOUNTINFO)) {
                String[] f = line.split(" ");
                if (f.length > 4) {
                    String mp = unescape(f[4]);
                    if (mp.equals(prefix) || mp.startsWith(prefix + "/")) {
                        out.add(mp);
                    }
                }
            }
        } catch (IOException e) {
            return List.of();
        }
        // Later mounts stack on earlier ones: unmount in reverse order of appearance.
        Collections.reverse(out);
        return out;
    }

    /** Whether anything is mounted at or below {@code dir}. */
    public static boolean isMounted(Path dir) {
        return !mountsUnder(dir).isEmpty();
    }

    /**
     * Unmounts everything at and below {@code dir} with umount2(2); what stays busy is detached lazily (as
     * {@code umount -l}) in a later round. Throws if something is still mounted after that.
     */
    public static void unmountAll(Path dir) throws IOException {
        for (int attempt = 0; attempt < 3; attempt++) {
            List<String> mounts = mountsUnder(dir);
            if (mounts.isEmpty()) {
                return;
            }
            for (String mp : mounts) {
                try {
                    Libc.umount(mp, attempt > 0 ? Libc.MNT_DETACH : 0);
                } catch (IOException busy) {
                    // EBUSY and the like: the next round detaches it lazily.
                }
            }
        }
        List<String> left = mountsUnder(dir);
        if (!left.isEmpty()) {
            throw new IOException("cannot unmount " + left.getFirst());
        }
    }

    /**
     * Deletes {@code dir} and everything below it; nothing when it does not exist. Symbolic links are deleted,
     * never followed (also when {@code dir} itself is one). Refuses, before deleting anything, while something is
     * mounted at or below {@code dir}: unmount first ({@link #unmountAll}).
     */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        List<String> mounted = mountsUnder(dir);
        if (!mounted.isEmpty()) {
            throw new IOException(dir + " is still mounted (" + mounted.getFirst() + ")");
        }
        // walkFileTree does not follow links unless asked: a link is visited as a file, and deleted as one.
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                    return FileVisitResult.CONTINUE; // went away meanwhile
                }
                throw e;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                Files.deleteIfExists(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static String unescape(String s) {
        return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }
}
