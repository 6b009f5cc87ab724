package dev.berth.core.image;

import dev.berth.core.image.Metadata.ContainerMeta;
import dev.berth.core.image.Metadata.ImageMeta;
import dev.berth.core.image.Metadata.LayerMeta;
import dev.berth.core.util.FileTrees;
import dev.berth.core.util.NonBlocking;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;

/**
 * The image store's records (images, unpacked layers, containers' writable layers) and the one lock that guards
 * them, with the content store and the snapshot directories they name. Every change of the records is persisted
 * under the lock through {@link #persist()}.
 */
final class ImageStore {
    private static final System.Logger LOG = System.getLogger(ImageStore.class.getName());
    private static final Pattern HEX = Pattern.compile("[a-f0-9]{1,64}");
    /** The snapshot of an image without layers: an empty directory. */
    static final long EMPTY_SNAPSHOT = 0;

    final Path root;
    final Path snapshots;
    final ContentStore content;
    private final Path metadataFile;
    private final ReentrantLock lock = new ReentrantLock();
    /** The records; guarded by the lock. */
    final Map<String, ImageMeta> images = new LinkedHashMap<>();
    final Map<String, LayerMeta> layers = new HashMap<>();
    final Map<String, ContainerMeta> containers = new HashMap<>();
    /** Running pulls; guarded by the lock. */
    final Set<PullScratch> running = new HashSet<>();
    private long nextSnapshot = 1;

    /**
     * Opens (or creates) the store under {@code root}, removing leftovers of interrupted pulls.
     *
     * @throws BackendException INTERNAL when the store cannot be opened
     */
    ImageStore(Path root) {
        this.root = root;
        this.snapshots = root.resolve("snapshots");
        this.metadataFile = root.resolve("metadata.json");
        try {
            Files.createDirectories(snapshots);
            this.content = new ContentStore(root);
            Metadata.State state = Metadata.read(metadataFile);
            if (state != null) {
                images.putAll(state.images());
                layers.putAll(state.layers());
                containers.putAll(state.containers());
                nextSnapshot = Math.max(1, state.nextSnapshot());
            }
            Files.deleteIfExists(root.resolve("metadata.json.tmp"));
            recoverSnapshots();
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to open image store \"" + root + "\": " + e.getMessage(), e);
        }
    }

    /** Removes snapshot directories that no record points at (unpacks cut short), and drops records of lost ones. */
    private void recoverSnapshots() throws IOException {
        Set<String> known = new HashSet<>();
        known.add(Long.toString(EMPTY_SNAPSHOT));
        layers.values().forEach(l -> known.add(Long.toString(l.snapshot())));
        containers.values().forEach(c -> known.add(Long.toString(c.snapshot())));
        try (DirectoryStream<Path> all = Files.newDirectoryStream(snapshots)) {
            for (Path p : all) {
                if (!known.contains(p.getFileName().toString())) {
                    LOG.log(System.Logger.Level.INFO, () -> "removing leftover snapshot " + p);
                    FileTrees.deleteTree(p);
                }
            }
        }
        boolean changed = layers.values().removeIf(l -> !Files.isDirectory(snapshotFs(l.snapshot())));
        Files.createDirectories(snapshotFs(EMPTY_SNAPSHOT));
        if (changed) {
            persist();
        }
    }

    /** A new snapshot number. */
    long newSnapshot() {
        return withLock(() -> nextSnapshot++);
    }

    /** A snapshot's directory, holding {@code fs} (and {@code work} for a writable layer). */
    Path snapshotDir(long id) {
        return snapshots.resolve(Long.toString(id));
    }

    Path snapshotFs(long id) {
        return snapshotDir(id).resolve("fs");
    }

    /** Finds an image by tag reference, digest reference, full id ({@code sha256:...}) or unique id prefix. */
    Optional<ImageMeta> findMeta(String s) {
        if (s == null || s.isBlank()) {
            return Optional.empty();
        }
        String q = s.trim();
        if (q.startsWith("sha256:") && ContentStore.SHA256.matcher(q).matches()) {
            ImageMeta m = images.get(q);
            if (m != null) {
                return Optional.of(m);
            }
        }
        ImageReference ref = ImageReference.tryParse(q).orElse(null);
        if (ref != null) {
            boolean byDigest = !ref.digest().isEmpty();
            String name = byDigest ? ref.withDigest(ref.digest()) : ref.tagged();
            for (ImageMeta m : images.values()) {
                if ((byDigest ? m.repoDigests() : m.repoTags()).contains(name)) {
                    return Optional.of(m);
                }
            }
        }
        String hex = q.startsWith("sha256:") ? q.substring(7) : q;
        if (HEX.matcher(hex).matches()) {
            List<ImageMeta> matches = images.values().stream().filter(m -> m.id().startsWith("sha256:" + hex)).toList();
            if (matches.size() == 1) {
                return Optional.of(matches.getFirst());
            }
        }
        return Optional.empty();
    }

    ImageMeta require(String refOrId) {
        return findMeta(refOrId).orElseThrow(() -> BackendException.notFound("image", refOrId));
    }

    Image toImage(ImageMeta m) {
        return new Image(m.id(), m.repoTags(), m.repoDigests(), m.size(), m.user(), m.pinned(), m.manifestDigest(),
                m.diffIds(), m.platform());
    }

    /** A blob as text, or empty when it is gone. */
    String readText(String digest) {
        NonBlocking.beforeBlocking();
        try {
            return new String(content.read(digest), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    static ImageMeta withRefs(ImageMeta m, List<String> tags, List<String> digests, boolean pinned) {
        return new ImageMeta(m.id(), tags, digests, m.topDigest(), m.manifestDigest(), m.configDigest(),
                m.layerDigests(), m.diffIds(), m.size(), m.user(), pinned, m.platform(), m.layerMediaTypes());
    }

    /** Every blob and diff id the images name, and the Windows layer blobs containers were handed. */
    Set<String> imageContent() {
        Set<String> kept = new HashSet<>();
        for (ImageMeta m : images.values()) {
            kept.add(m.topDigest());
            kept.add(m.manifestDigest());
            kept.add(m.configDigest());
            kept.addAll(m.layerDigests());
            kept.addAll(m.diffIds());
        }
        containers.values().forEach(c -> kept.addAll(c.blobs()));
        return kept;
    }

    /** The snapshots that containers' writable layers sit on. */
    Set<Long> mountedLayers() {
        Set<Long> mounted = new HashSet<>();
        containers.values().forEach(c -> mounted.addAll(c.lowers()));
        return mounted;
    }

    /**
     * Writes the metadata. A pending interrupt (a pull's layer job being cancelled) is held back meanwhile: it
     * would close the file channel half-way and leave the records in memory ahead of those on disk.
     */
    void persist() {
        boolean interrupted = Thread.interrupted();
        try {
            Metadata.write(metadataFile, new Metadata.State(Metadata.VERSION, new LinkedHashMap<>(images),
                    new HashMap<>(layers), new HashMap<>(containers), nextSnapshot));
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to write image metadata \"" + metadataFile + "\": "
                    + e.getMessage(), e);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @FunctionalInterface
    interface Locked<T> {
        T run();
    }

    /** Runs {@code body} under the store's lock; an {@link UncheckedIOException} becomes INTERNAL. */
    <T> T withLock(Locked<T> body) {
        if (!lock.tryLock()) {
            NonBlocking.beforeBlocking(); // its holder may be writing to disk
            lock.lock();
        }
        try {
            return body.run();
        } catch (UncheckedIOException e) {
            throw new BackendException(Kind.INTERNAL, e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }
}
