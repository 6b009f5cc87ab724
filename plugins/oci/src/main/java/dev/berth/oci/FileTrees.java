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
        String below = prefix + "/";
        List<String> out = new ArrayList<>();
        String text;
        try {
            text = Files.readString(MOUNTINFO);
        } catch (IOException e) {
            return List.of();
        }
        // The mount point is a line's fifth field; only it is cut out (a node with many pods has thousands of lines).
        int at = 0;
        while (at < text.length()) {
            int eol = text.indexOf('\n', at);
            int end = eol < 0 ? text.length() : eol;
            int start = at;
            for (int field = 0; field < 4 && start >= 0; field++) {
                start = text.indexOf(' ', start);
                start = start < 0 || start >= end ? -1 : start + 1;
            }
            if (start >= 0) {
                int stop = text.indexOf(' ', start);
                String mp = unescape(text.substring(start, stop < 0 || stop > end ? end : stop));
                if (mp.equals(prefix) || mp.startsWith(below)) {
                    out.add(mp);
                }
            }
            at = end + 1;
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
            boolean all = true;
            for (String mp : mounts) {
                try {
                    Libc.umount(mp, attempt > 0 ? Libc.MNT_DETACH : 0);
                } catch (IOException busy) {
                    all = false; // EBUSY and the like: the next round detaches it lazily.
                }
            }
            if (all) {
                return; // every one unmounted: no need to read the mount table again (deleteTree checks it)
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
