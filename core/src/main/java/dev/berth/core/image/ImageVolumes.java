package dev.berth.core.image;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.core.image.ImageFiles.Kind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
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
 * makes the mount's target itself. The config is the image's, so untrusted: a volume longer than {@value #PATH_MAX}
 * bytes, and those after the first {@value #MAX_VOLUMES}, are skipped, and the walk is linear in a path's parts.
 */
final class ImageVolumes {
    /** As Linux's limit of symbolic links in one path lookup. */
    static final int MAX_LINKS = 40;
    /** As Linux's longest path: a longer volume is skipped. */
    static final int PATH_MAX = 4096;
    /** The most volumes of one image that are looked at (no image needs many; each costs file system lookups). */
    static final int MAX_VOLUMES = 1024;

    private ImageVolumes() {
    }

    /** What became of one declared volume. */
    enum Result { EXISTS, CREATED, COVERED, NOT_A_DIRECTORY, TOO_MANY_LINKS, TOO_LONG, TOO_MANY }

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
            if (out.size() == MAX_VOLUMES) {
                out.add(new Outcome(volume, "", Result.TOO_MANY));
                break;
            }
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
        if (cleaned.length() > PATH_MAX) {
            return new Outcome(volume, cleaned.substring(0, 64) + "...", Result.TOO_LONG);
        }
        Deque<String> todo = new ArrayDeque<>(parts(cleaned));
        List<String> done = new ArrayList<>();
        // for each part of done: the directories that make it up in the merged view, top first (none: missing)
        List<List<Path>> views = new ArrayList<>();
        int links = 0;
        while (!todo.isEmpty()) {
            String part = todo.pollFirst();
            if (part.equals("..")) {
                if (!done.isEmpty()) {
                    done.removeLast();
                    views.removeLast();
                }
                continue;
            }
            Step step = step(views.isEmpty() ? layers : views.getLast(), part);
            switch (step.entry().kind()) {
                case DIR, MISSING -> {
                    done.add(part);
                    views.add(step.merged());
                }
                case SYMLINK -> {
                    if (++links > MAX_LINKS) {
                        return new Outcome(volume, path(done, part), Result.TOO_MANY_LINKS);
                    }
                    String target = Files.readSymbolicLink(step.entry().path()).toString();
                    if (target.startsWith("/")) {
                        done.clear();
                        views.clear();
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
                    return new Outcome(volume, path(done, part), Result.NOT_A_DIRECTORY);
                }
            }
        }
        String resolved = "/" + String.join("/", done);
        int missing = 0;
        while (missing < done.size() && !views.get(missing).isEmpty()) {
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
                Path top = views.get(i).getFirst();
                if (!top.startsWith(upper)) {
                    Files.createDirectory(u);
                    copies.add(new Path[] {top, u});
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

    private static String path(List<String> done, String part) {
        return "/" + String.join("/", done) + (done.isEmpty() ? "" : "/") + part;
    }

    private static void copyMetadata(Path from, Path to) throws IOException {
        Map<String, Object> a = Files.readAttributes(from, "unix:mode,uid,gid,lastModifiedTime",
                LinkOption.NOFOLLOW_LINKS);
        Native.lchown(to, (Integer) a.get("uid"), (Integer) a.get("gid"));
        Native.chmod(to, (Integer) a.get("mode"));
        Files.setLastModifiedTime(to, (FileTime) a.get("lastModifiedTime"));
    }

    /** The top-most layer's entry for a path, or MISSING; {@code path} is the entry in that layer. */
    record Entry(Kind kind, Path path) {
    }

    /** One part looked up in a directory of the merged view: its top-most entry and, for a directory, its layers. */
    private record Step(Entry entry, List<Path> merged) {
    }

    /**
     * {@code part} in the directory that {@code dirs} (the same directory in each layer that shows it, top first)
     * make up. A directory merges with the same directory below it until a layer has something else there, a
     * whiteout, or an opaque directory.
     */
    private static Step step(List<Path> dirs, String part) {
        List<Path> next = new ArrayList<>();
        Entry top = null;
        for (Path dir : dirs) {
            Path p = dir.resolve(part);
            Kind k = ImageFiles.kind(p);
            if (k == Kind.MISSING) {
                continue;
            }
            if (top == null) {
                top = new Entry(k, p);
            }
            if (k != Kind.DIR) {
                break;
            }
            next.add(p);
            if (ImageFiles.opaque(p)) {
                break;
            }
        }
        if (top == null || top.kind() == Kind.WHITEOUT) {
            return new Step(new Entry(Kind.MISSING, null), List.of());
        }
        return new Step(top, top.kind() == Kind.DIR ? next : List.of());
    }

    /** A path without symbolic links before its last part, in the merged view of the layers (top first). */
    static Entry lookup(List<Path> layers, List<String> parts) {
        List<Path> dirs = layers;
        Entry e = new Entry(Kind.DIR, layers.getFirst());
        for (String part : parts) {
            Step step = step(dirs, part);
            e = step.entry();
            if (e.kind() != Kind.DIR) {
                return e;
            }
            dirs = step.merged();
        }
        return e;
    }
}
