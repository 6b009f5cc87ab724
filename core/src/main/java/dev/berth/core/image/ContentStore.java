package dev.berth.core.image;

import dev.berth.spi.BackendException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;

/**
 * Content-addressed blobs under {@code <root>/content/blobs/sha256/<hex>}. A blob is written to
 * {@code content/ingest/} first, its size and digest checked, synced, and renamed into place, so a blob that is
 * present is always complete and correct; the ingest directory is emptied on start-up.
 */
final class ContentStore {
    static final Pattern SHA256 = Pattern.compile("sha256:[a-f0-9]{64}");

    private final Path blobs;
    private final Path ingest;
    private final ConcurrentHashMap<String, ReentrantLock> locks = new ConcurrentHashMap<>();

    ContentStore(Path root) throws IOException {
        this.blobs = root.resolve("content/blobs/sha256");
        this.ingest = root.resolve("content/ingest");
        Files.createDirectories(blobs);
        Files.createDirectories(ingest);
        try (DirectoryStream<Path> stale = Files.newDirectoryStream(ingest)) {
            for (Path p : stale) {
                Files.deleteIfExists(p);
            }
        }
    }

    Path ingestDir() {
        return ingest;
    }

    Path blobsDir() {
        return blobs;
    }

    static void checkDigest(String digest) {
        if (digest == null || !SHA256.matcher(digest).matches()) {
            throw BackendException.invalid("failed to use digest \"" + digest + "\": only sha256 digests are supported");
        }
    }

    Path path(String digest) {
        checkDigest(digest);
        return blobs.resolve(digest.substring(7));
    }

    boolean has(String digest) {
        return Files.isRegularFile(path(digest));
    }

    byte[] read(String digest) throws IOException {
        return Files.readAllBytes(path(digest));
    }

    /** The blob's bytes, or an empty JSON object when it is gone. */
    byte[] readOrEmpty(String digest) {
        try {
            return read(digest);
        } catch (IOException e) {
            return "{}".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        }
    }

    /** Stores bytes already verified by the caller (or verifies them here); true when this call wrote the blob. */
    boolean put(String digest, byte[] data) throws IOException {
        if (has(digest)) {
            return false;
        }
        if (!digest.equals(Digests.sha256(data))) {
            throw BackendException.invalid("failed to store blob \"" + digest + "\": digest mismatch");
        }
        return ingest(digest, data.length, InputStream.nullInputStream(), data);
    }

    /** Deletes a blob, unless it is being written; nothing happens when it is not there. */
    void delete(String digest) throws IOException {
        if (locks.get(digest) == null) {
            Files.deleteIfExists(path(digest));
        }
    }

    /**
     * Writes a blob from a stream, checking size (when {@code expectedSize >= 0}) and digest. A blob that fails
     * the checks, or whose stream fails, leaves nothing behind.
     *
     * @return true when this call wrote the blob, false when it was there already
     * @throws BackendException INVALID_ARGUMENT on a size or digest mismatch
     * @throws IOException when reading or writing fails
     */
    boolean ingest(String digest, long expectedSize, InputStream in) throws IOException {
        return ingest(digest, expectedSize, in, null);
    }

    private boolean ingest(String digest, long expectedSize, InputStream in, byte[] data) throws IOException {
        Path target = path(digest);
        ReentrantLock lock = locks.computeIfAbsent(digest, d -> new ReentrantLock());
        lock.lock();
        try {
            if (Files.isRegularFile(target)) {
                return false;
            }
            Path tmp = ingest.resolve(digest.substring(7, 19) + "-" + UUID.randomUUID());
            boolean ok = false;
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                 OutputStream out = java.nio.channels.Channels.newOutputStream(ch)) {
                MessageDigest md = Digests.newSha256();
                long total = 0;
                if (data != null) {
                    out.write(data);
                    md.update(data);
                    total = data.length;
                } else {
                    byte[] buf = new byte[128 * 1024];
                    int n;
                    while ((n = in.read(buf)) >= 0) {
                        total += n;
                        if (expectedSize >= 0 && total > expectedSize) {
                            throw BackendException.invalid("failed to fetch blob \"" + digest
                                    + "\": more data than the " + expectedSize + " bytes the manifest declares");
                        }
                        md.update(buf, 0, n);
                        out.write(buf, 0, n);
                    }
                }
                if (expectedSize >= 0 && total != expectedSize) {
                    throw BackendException.invalid("failed to fetch blob \"" + digest + "\": got " + total
                            + " bytes, the manifest declares " + expectedSize);
                }
                String actual = Digests.finish(md);
                if (!actual.equals(digest)) {
                    throw BackendException.invalid("failed to fetch blob \"" + digest + "\": digest mismatch, got "
                            + actual);
                }
                out.flush();
                ch.force(true);
                ok = true;
            } finally {
                if (!ok) {
                    Files.deleteIfExists(tmp);
                }
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            fsyncDir(blobs);
            return true;
        } finally {
            lock.unlock();
            locks.remove(digest, lock);
        }
    }

    /** Deletes every blob not in {@code keep}; returns the number removed. */
    int retainOnly(Set<String> keep) throws IOException {
        int removed = 0;
        try (DirectoryStream<Path> all = Files.newDirectoryStream(blobs)) {
            for (Path p : all) {
                String digest = "sha256:" + p.getFileName();
                if (!keep.contains(digest) && locks.get(digest) == null) {
                    Files.deleteIfExists(p);
                    removed++;
                }
            }
        }
        return removed;
    }

    static void fsyncDir(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // Not every file system lets a directory be synced; the rename itself is still atomic.
        }
    }
}
