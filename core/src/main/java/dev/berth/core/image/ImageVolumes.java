package dev.berth.core.image;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The directories an image declares as volumes (its config's {@code Volumes}), made in a container's writable layer
 * when the image's layers lack them. An image built with {@code VOLUME /data} and no step that writes {@code /data}
 * has the path in its config only; a process that expects the directory would find nothing there. containerd makes
 * such a volume a directory of the container's own, and CRI-O (its default {@code image_volumes = "mkdir"}) creates
 * it in the container's root file system; berth does the latter.
 *
 * <p>The walk reads the layers as overlayfs will show them (a 0/0 character device is a whiteout, an opaque
 * directory hides the layers below it) and follows symbolic links, each resolved inside the container's root: an
 * absolute target starts again at the root, and {@code ..} never leaves it. No container has run on the layer yet,
 * so nothing can change the tree during the walk. What exists is left as it is: a directory the image has is not
 * touched, and a path that is a file or a device in the image is skipped (and logged). Each directory the image has
 * on the way to a missing one is copied into the writable layer with its owner, mode and modification time, as
 * overlayfs's own copy-up would; the missing ones are made root-owned with mode 0755, as CRI-O makes them.
 *
 * <p>A volume that a CRI mount covers (its {@code container_path} is the same path) is left to the backend, which
 * makes the mount's target itself.
 */
final class ImageVolumes {
    /** As Linux's limit of symbolic links in one path lookup. */
    static final int MAX_LINKS = 40;

    private ImageVolumes() {
    }

    /** What became of one declared volume. */
    enum Result { EXISTS, CREATED, COVERED, NOT_A_DIRECTORY, TOO_MANY_LINKS }

    /**
     * @param volume the volume as the image declares it
     * @param path the directory in the container's root, symbolic links resolved ({@code /} and the parts)
     */
    record Outcome(String volume, String path, Result result) {
    }

    /** The volume paths an image config (its {@code config} object) declares, in order. */
    static List<String> declared(JsonNode config) {
        List<String> out = new ArrayList<>();
        config.path("Volumes").fieldNames().forEachRemaining(out::add);
        return out;
    }

    /** A path made absolute and lexically clean: no empty, {@code .} or {@code ..} part ({@code ..} stops at /). */
    static String clean(String path) {
        return "/" + String.join("/", parts(path));
    }

    private static List<String> parts(String path) {
        List<String> out = new ArrayList<>();
        for (String p : path.split("/")) {
            if (p.isEmpty() || p.equals(".")) {
                continue;
            }
            if (p.equals("..")) {
                if (!out.isEmpty()) {
                    out.removeLast();
                }
            } else {
                out.add(p);
            }
        }
        return out;
    }

    /**
     * Makes each declared volume a directory in the writable layer where the merged view lacks it.
     *
     * @param upper the container's writable layer (the overlay's upper directory)
     * @param lowers the image's unpacked layers, top first
     * @param volumes the volumes as the image declares them
     * @param covered the container paths of the request's mounts
     */
    static List<Outcome> ensure(Path upper, List<Path> lowers, Collection<String> volumes, Collection<String> covered)
            throws IOException {
        Set<String> mounts = covered.stream().map(ImageVolumes::clean).collect(Collectors.toSet());
        List<Path> layers = new ArrayList<>(lowers.size() + 1);
        layers.add(upper);
        layers.addAll(lowers);
        List<Outcome> out = new ArrayList<>();
        for (String volume : volumes) {
            String cleaned = clean(volume);
            if (cleaned.equals("/")) {
                continue;
            }
            if (mounts.contains(cleaned)) {
                out.add(new Outcome(volume, cleaned, Result.COVERED));
                continue;
            }
            out.add(ensureOne(upper, layers, volume, cleaned));
        }
        return out;
    }

    private static Outcome ensureOne(Path upper, List<Path> layers, String volume, String cleaned) throws IOException {
        Deque<String> todo = new ArrayDeque<>(parts(cleaned));
        List<String> done = new ArrayList<>();
        int links = 0;
        while (!todo.isEmpty()) {
            String part = todo.pollFirst();
            if (part.equals("..")) {
                if (!done.isEmpty()) {
                    done.removeLast();
                }
                continue;
            }
            done.add(part);
            Entry e = lookup(layers, done);
            switch (e.kind()) {
                case DIR, MISSING -> {
                }
                case SYMLINK -> {
                    if (++links > MAX_LINKS) {
                        return new Outcome(volume, "/" + String.join("/", done), Result.TOO_MANY_LINKS);
                    }
                    String target = Files.readSymbolicLink(e.path()).toString();
                    done.removeLast();
                    if (target.startsWith("/")) {
                        done.clear();
                    }
                    List<String> t = new ArrayList<>();
                    for (String p : target.split("/")) {
                        if (!p.isEmpty() && !p.equals(".")) {
                            t.add(p);
                        }
                    }
                    for (String p : t.reversed()) {
                        todo.addFirst(p);
                    }
                }
                default -> {
                    return new Outcome(volume, "/" + String.join("/", done), Result.NOT_A_DIRECTORY);
                }
            }
        }
        String resolved = "/" + String.join("/", done);
        int missing = 0;
        while (missing < done.size() && lookup(layers, done.subList(0, missing + 1)).kind() == Kind.DIR) {
            missing++;
        }
        if (missing == done.size()) {
            return new Outcome(volume, resolved, Result.EXISTS);
        }
        List<Path[]> copies = new ArrayList<>();
        Path u = upper;
        for (int i = 0; i < done.size(); i++) {
            u = u.resolve(done.get(i));
            if (i < missing) {
                Entry e = lookup(layers, done.subList(0, i + 1));
                if (!e.path().startsWith(upper)) {
                    Files.createDirectory(u);
                    copies.add(new Path[] {e.path(), u});
                }
            } else {
                Files.createDirectory(u);
                Native.lchown(u, 0, 0);
                Native.chmod(u, 0755);
            }
        }
        for (Path[] c : copies.reversed()) { // deepest first: making a child changes its parent's time
            copyMetadata(c[0], c[1]);
        }
        return new Outcome(volume, resolved, Result.CREATED);
    }

    private static void copyMetadata(Path from, Path to) throws IOException {
        Map<String, Object> a = Files.readAttributes(from, "unix:mode,uid,gid,lastModifiedTime",
                LinkOption.NOFOLLOW_LINKS);
        Native.lchown(to, (Integer) a.get("uid"), (Integer) a.get("gid"));
        Native.chmod(to, (Integer) a.get("mode"));
        Files.setLastModifiedTime(to, (FileTime) a.get("lastModifiedTime"));
    }

    enum Kind { MISSING, WHITEOUT, DIR, SYMLINK, OTHER }

    /** The top-most layer's entry for a path, or MISSING; {@code path} is the entry in that layer. */
    record Entry(Kind kind, Path path) {
    }

    /**
     * A path (symbolic-link free up to its last part) in the merged view of the layers, top first. A directory
     * merges with the same directory below it until a layer has something else there, a whiteout, or an opaque
     * directory.
     */
    static Entry lookup(List<Path> layers, List<String> parts) {
        List<Path> visible = layers;
        Entry top = new Entry(Kind.DIR, layers.getFirst());
        for (String part : parts) {
            List<Path> next = new ArrayList<>();
            top = null;
            for (Path dir : visible) {
                Path p = dir.resolve(part);
                Kind k = kind(p);
                if (k == Kind.MISSING) {
                    continue;
                }
                if (top == null) {
                    top = new Entry(k, p);
                } else if (k != Kind.DIR) {
                    break;
                }
                if (k != Kind.DIR) {
                    break;
                }
                next.add(p);
                if (opaque(p)) {
                    break;
                }
            }
            if (top == null || top.kind() == Kind.WHITEOUT) {
                return new Entry(Kind.MISSING, null);
            }
            if (top.kind() != Kind.DIR) {
                return top;
            }
            visible = next;
        }
        return top;
    }

    private static boolean opaque(Path dir) {
        byte[] v = Native.lgetxattr(dir, "trusted.overlay.opaque");
        return v != null && v.length == 1 && v[0] == 'y';
    }

    private static Kind kind(Path p) {
        try {
            Map<String, Object> a = Files.readAttributes(p, "unix:mode,rdev", LinkOption.NOFOLLOW_LINKS);
            int mode = (Integer) a.get("mode");
            long rdev = (Long) a.get("rdev");
            return switch (mode & 0170000) {
                case 0040000 -> Kind.DIR;
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
