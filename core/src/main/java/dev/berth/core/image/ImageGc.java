package dev.berth.core.image;

import dev.berth.core.image.Metadata.LayerMeta;
import dev.berth.core.util.FileTrees;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;

/**
 * Frees what no image and no container uses: blobs and unpacked layers (a Windows image's layers are blobs only,
 * kept while the image or a container made from it exists). A collection waits for running pulls
 * (they hold the read side of one lock, a collection its write side), and what a failed pull wrote is removed by
 * {@link #discard} unless something else uses it.
 */
final class ImageGc {
    private static final System.Logger LOG = System.getLogger(ImageGc.class.getName());

    private final ImageStore store;
    private final ReentrantReadWriteLock gcLock = new ReentrantReadWriteLock();

    ImageGc(ImageStore store) {
        this.store = store;
    }

    /** Runs a pull: no collection runs meanwhile. */
    <T> T duringPull(Supplier<T> pull) {
        gcLock.readLock().lock();
        try {
            return pull.get();
        } finally {
            gcLock.readLock().unlock();
        }
    }

    /** Deletes blobs and unpacked layers that no image and no container uses. Waits for running pulls. */
    void garbageCollect() {
        gcLock.writeLock().lock();
        try {
            collect();
        } finally {
            gcLock.writeLock().unlock();
        }
    }

    /** Collects right away unless a pull (or a collection) is running. */
    void collectIfIdle() {
        if (gcLock.writeLock().tryLock()) {
            try {
                collect();
            } finally {
                gcLock.writeLock().unlock();
            }
        }
    }

    private void collect() {
        Set<String> blobs = new HashSet<>();
        List<LayerMeta> dead = store.withLock(() -> {
            Set<String> diffIds = new HashSet<>();
            for (var m : store.images.values()) {
                blobs.add(m.topDigest());
                blobs.add(m.manifestDigest());
                blobs.add(m.configDigest());
                blobs.addAll(m.layerDigests());
                diffIds.addAll(m.diffIds());
            }
            store.containers.values().forEach(c -> blobs.addAll(c.blobs())); // Windows layers handed to a backend
            Set<Long> used = store.mountedLayers();
            List<LayerMeta> out = new ArrayList<>();
            for (var it = store.layers.values().iterator(); it.hasNext(); ) {
                LayerMeta l = it.next();
                if (!diffIds.contains(l.diffId()) && !used.contains(l.snapshot())) {
                    out.add(l);
                    it.remove();
                }
            }
            if (!out.isEmpty()) {
                store.persist();
            }
            return out;
        });
        try {
            for (LayerMeta l : dead) {
                FileTrees.deleteTree(store.snapshotDir(l.snapshot()));
            }
            int n = store.content.retainOnly(blobs);
            LOG.log(System.Logger.Level.DEBUG, () -> "image gc removed " + dead.size() + " snapshots and " + n + " blobs");
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to garbage-collect images: " + e.getMessage(), e);
        }
    }

    /**
     * Removes the blobs and layers a failed pull wrote, unless an image, a container or another running pull
     * uses them. Runs after every layer job of the pull has ended.
     */
    void discard(PullScratch scratch) {
        List<Long> dirs = new ArrayList<>();
        try {
            store.withLock(() -> {
                Set<String> kept = store.imageContent();
                store.running.stream().filter(p -> p != scratch).forEach(p -> kept.addAll(p.uses));
                Set<Long> mounted = store.mountedLayers();
                for (String diffId : scratch.unpacked) {
                    LayerMeta l = store.layers.get(diffId);
                    if (l != null && !kept.contains(diffId) && !mounted.contains(l.snapshot())) {
                        store.layers.remove(diffId);
                        dirs.add(l.snapshot());
                    }
                }
                if (!dirs.isEmpty()) {
                    store.persist();
                }
                for (String digest : scratch.wroteBlobs) {
                    if (!kept.contains(digest)) {
                        try {
                            store.content.delete(digest);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }
                }
                return null;
            });
            for (long id : dirs) {
                FileTrees.deleteTree(store.snapshotDir(id));
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "failed to remove what a failed pull wrote; image GC will", e);
        }
    }
}
