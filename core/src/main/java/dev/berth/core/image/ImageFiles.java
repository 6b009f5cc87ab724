package dev.berth.core.image;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads a small file out of an image's unpacked layers, top layer first, as overlayfs would show it: a 0/0
 * character device (whiteout) hides the file and everything below. Symlinks are not followed, neither in the
 * file's parents nor the file itself (a symlinked /etc/passwd reads as absent). An opaque directory hides the
 * layers below it.
 */
final class ImageFiles {
    private ImageFiles() {
    }

    /**
     * @param lowers the layer directories, top first
     * @param relative a path such as {@code etc/passwd}
     */
    static Optional<byte[]> read(List<Path> lowers, String relative, long limit) {
        String[] parts = relative.split("/");
        for (Path layer : lowers) {
            Path p = layer;
            boolean blocked = false;
            for (int i = 0; i < parts.length; i++) {
                p = p.resolve(parts[i]);
                Kind k = kind(p);
                if (k == Kind.WHITEOUT) {
                    return Optional.empty();
                }
                if (k == Kind.MISSING) {
                    // an opaque directory hides the same directory in every layer below
                    if (i > 0 && opaque(p.getParent())) {
                        return Optional.empty();
                    }
                    blocked = true;
                    break;
                }
                if (i < parts.length - 1 && k != Kind.DIR || i == parts.length - 1 && k != Kind.FILE) {
                    return Optional.empty();
                }
            }
            if (blocked) {
                continue;
            }
            try (InputStream in = Files.newInputStream(p, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
                byte[] data = in.readNBytes((int) Math.min(limit, Integer.MAX_VALUE - 8));
                return Optional.of(data);
            } catch (IOException e) {
                return Optional.empty();
            }
        }
        return Optional.empty();
    }

    /** What a path in one layer is, as overlayfs reads it; a symlink is never followed. */
    enum Kind { MISSING, WHITEOUT, DIR, FILE, SYMLINK, OTHER }

    /** Whether {@code dir} is an opaque directory, which hides the same directory in the layers below. */
    static boolean opaque(Path dir) {
        byte[] v = Native.lgetxattr(dir, "trusted.overlay.opaque");
        return v != null && v.length == 1 && v[0] == 'y';
    }

    static Kind kind(Path p) {
        try {
            Map<String, Object> a = Files.readAttributes(p, "unix:mode,rdev", LinkOption.NOFOLLOW_LINKS);
            int mode = (Integer) a.get("mode");
            long rdev = (Long) a.get("rdev");
            return switch (mode & 0170000) {
                case 0040000 -> Kind.DIR;
                case 0100000 -> Kind.FILE;
                case 0120000 -> Kind.SYMLINK;
                case 0020000 -> rdev == 0 ? Kind.WHITEOUT : Kind.OTHER;
                default -> Kind.OTHER;
            };
        } catch (NoSuchFileException e) {
            return Kind.MISSING;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return Kind.OTHER;
        }
    }
}
