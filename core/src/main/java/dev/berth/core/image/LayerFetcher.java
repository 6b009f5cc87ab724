package dev.berth.core.image;

import dev.berth.core.image.Metadata.LayerMeta;
import dev.berth.core.metrics.Metrics;
import dev.berth.core.util.FileTrees;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.zip.GZIPInputStream;

/**
 * Fetches and unpacks layers (a Windows image's layers are fetched and checked, not unpacked: {@link #ensureBlob}):
 * a layer blob is downloaded (its digest and size checked by the
 * {@link RegistryClient}) at most {@code maxConcurrentDownloads} at a time, unpacked into a snapshot of its own,
 * and recorded only once its uncompressed digest matches the config's diff id.
 */
final class LayerFetcher {
    private final ImageStore store;
    private final ImageSettings settings;
    private final Metrics metrics;
    private final Semaphore downloads;
    private final ConcurrentHashMap<String, CompletableFuture<LayerMeta>> unpacks = new ConcurrentHashMap<>();
    /** "blob diffId" pairs of Windows layers whose blob was checked against the diff id. */
    private final java.util.Set<String> verifiedBlobs = ConcurrentHashMap.newKeySet();

    LayerFetcher(ImageStore store, ImageSettings settings, Metrics metrics) {
        this.store = store;
        this.settings = settings;
        this.metrics = metrics;
        this.downloads = new Semaphore(settings.maxConcurrentDownloads());
    }

    /**
     * Downloads (when needed) and unpacks one layer, once even when several pulls want it. When the pull doing
     * the work is cancelled (another of its layers was refused), a pull waiting for the same layer takes over.
     */
    LayerMeta ensureLayer(RegistryClient.Session session, ImageReference ref, PullScratch scratch,
                          String digest, long size, String diffId) throws IOException {
        while (true) {
            LayerMeta have = store.withLock(() -> store.layers.get(diffId));
            if (have != null) {
                return have;
            }
            CompletableFuture<LayerMeta> mine = new CompletableFuture<>();
            CompletableFuture<LayerMeta> other = unpacks.putIfAbsent(diffId, mine);
            if (other != null) {
                LayerMeta theirs = awaitOther(other);
                if (theirs != null) {
                    return theirs;
                }
                continue; // its pull gave up: do the work here
            }
            try {
                have = store.withLock(() -> store.layers.get(diffId));
                if (have == null) {
                    if (!store.content.has(digest) && download(session, ref, digest, size)) {
                        scratch.wroteBlobs.add(digest);
                    }
                    long start = System.nanoTime();
                    have = unpack(digest, diffId);
                    metrics.layerUnpacked(System.nanoTime() - start);
                    scratch.unpacked.add(diffId);
                }
                mine.complete(have);
                return have;
            } catch (RuntimeException | IOException e) {
                mine.completeExceptionally(Thread.currentThread().isInterrupted()
                        ? new CancellationException("the pull was cancelled") : e);
                throw e;
            } finally {
                unpacks.remove(diffId, mine);
            }
        }
    }

    /**
     * Downloads (when needed) a Windows layer's blob and checks that it decompresses to {@code diffId}, without
     * unpacking it: the backend imports it on the host (see {@link WindowsLayers}) and keys the import by the diff
     * id, so a diff id is only handed over once the blob is known to match it. A pair checked once is not read
     * again while the service runs.
     */
    void ensureBlob(RegistryClient.Session session, ImageReference ref, PullScratch scratch, String digest, long size,
                    String diffId) throws IOException {
        if (!store.content.has(digest) && download(session, ref, digest, size)) {
            scratch.wroteBlobs.add(digest);
        }
        String pair = digest + " " + diffId;
        if (verifiedBlobs.contains(pair)) {
            return;
        }
        MessageDigest md = Digests.newSha256();
        long total = 0;
        try (InputStream raw = Files.newInputStream(store.content.path(digest));
             InputStream plain = decompress(new BufferedInputStream(raw, 64 * 1024))) {
            byte[] buf = new byte[128 * 1024];
            int n;
            while ((n = plain.read(buf)) >= 0) {
                total += n;
                if (total > settings.maxUnpackedBytes()) {
                    throw BackendException.invalid("failed to check layer \"" + digest + "\": it is larger than "
                            + settings.maxUnpackedBytes() + " bytes uncompressed");
                }
                md.update(buf, 0, n);
            }
        } catch (java.nio.file.FileSystemException | java.nio.channels.ClosedChannelException e) {
            throw e; // a local failure, or the pull being cancelled

        } catch (IOException e) {
            throw BackendException.invalid("failed to check layer \"" + digest + "\": bad compressed data: "
                    + e.getMessage());
        }
        String actual = Digests.finish(md);
        if (!actual.equals(diffId)) {
            throw BackendException.invalid("failed to check layer \"" + digest + "\": its uncompressed digest is "
                    + actual + " but the image config says " + diffId);
        }
        verifiedBlobs.add(pair);
    }

    /** The layer another pull unpacks, or null when that pull was cancelled before it finished. */
    private static LayerMeta awaitOther(CompletableFuture<LayerMeta> other) {
        try {
            return other.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancellationException("the pull was cancelled");
        } catch (CancellationException e) {
            return null;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof BackendException be) {
                throw new BackendException(be.kind(), be.getMessage(), be);
            }
            throw BackendException.internal(String.valueOf(e.getCause().getMessage()), e.getCause());
        }
    }

    /** Downloads a layer blob into the content store; true when this call wrote it. */
    private boolean download(RegistryClient.Session session, ImageReference ref, String digest, long size)
            throws IOException {
        try {
            downloads.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackendException(Kind.UNAVAILABLE, "failed to pull image \"" + ref + "\": interrupted");
        }
        try {
            boolean wrote = session.layer(digest, size, store.content);
            if (wrote) {
                metrics.imagePullBytes(size);
            }
            return wrote;
        } catch (BackendException e) {
            if (e.getMessage().startsWith("failed to fetch")) {
                throw new BackendException(e.kind(), "failed to pull image \"" + ref + "\": " + e.getMessage(), e);
            }
            throw e;
        } finally {
            downloads.release();
        }
    }

    private LayerMeta unpack(String digest, String diffId) throws IOException {
        long id = store.newSnapshot();
        Path dir = store.snapshotDir(id);
        Path fs = dir.resolve("fs");
        Files.createDirectories(fs);
        boolean ok = false;
        try {
            MessageDigest md = Digests.newSha256();
            LayerUnpacker.Stats stats;
            try (InputStream raw = Files.newInputStream(store.content.path(digest));
                 InputStream plain = decompress(new BufferedInputStream(raw, 64 * 1024));
                 DigestInputStream in = new DigestInputStream(plain, md)) {
                try {
                    stats = LayerUnpacker.unpack(in, fs, settings.maxUnpackedBytes());
                    drain(in);
                } catch (LayerUnpacker.BadArchive e) {
                    throw LayerUnpacker.rejected(digest, e);
                }
            }
            String actual = Digests.finish(md);
            if (!actual.equals(diffId)) {
                throw BackendException.invalid("failed to unpack layer \"" + digest + "\": its uncompressed digest is "
                        + actual + " but the image config says " + diffId);
            }
            LayerMeta meta = new LayerMeta(diffId, id, stats.bytes(), stats.inodes());
            store.withLock(() -> {
                store.layers.put(diffId, meta);
                try {
                    store.persist();
                } catch (RuntimeException e) {
                    store.layers.remove(diffId);
                    throw e;
                }
                return null;
            });
            ok = true;
            return meta;
        } finally {
            if (!ok) {
                FileTrees.deleteTree(dir);
            }
        }
    }

    /** Reads what follows the tar's end marker (padding) into the digest, at most 64 MiB of it. */
    private static void drain(InputStream in) throws IOException {
        long limit = 64L << 20;
        long total = 0;
        byte[] buf = new byte[64 * 1024];
        try {
            int n;
            while ((n = in.read(buf)) >= 0) {
                total += n;
                if (total > limit) {
                    throw new LayerUnpacker.BadArchive("more than " + limit + " bytes of data after the tar end");
                }
            }
        } catch (LayerUnpacker.BadArchive e) {
            throw e;
        } catch (IOException e) {
            throw new LayerUnpacker.BadArchive("corrupt layer data after the tar end: " + e.getMessage());
        }
    }

    /** Picks gzip, zstd or plain tar from the stream's first bytes. */
    private static InputStream decompress(BufferedInputStream in) throws IOException {
        in.mark(4);
        byte[] magic = in.readNBytes(4);
        in.reset();
        try {
            if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
                return new GZIPInputStream(in, 64 * 1024);
            }
            if (magic.length == 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5
                    && (magic[2] & 0xff) == 0x2f && (magic[3] & 0xff) == 0xfd) {
                return new com.github.luben.zstd.ZstdInputStream(in);
            }
        } catch (IOException e) {
            throw BackendException.invalid("failed to unpack layer: bad compressed data: " + e.getMessage());
        }
        return in;
    }
}
