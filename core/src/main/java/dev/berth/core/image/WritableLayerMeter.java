package dev.berth.core.image;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;

/**
 * Measures containers' upper directories with a du-style walk, cached per container so that a stats loop costs
 * a map lookup per container. A container's first reading walks its directory in the caller (it is nearly empty
 * when the container is new); a reading older than the time to live is answered as it is and refreshed in the
 * background, at most {@value #PARALLEL_WALKS} walks at a time, one per container.
 */
final class WritableLayerMeter implements AutoCloseable {
    static final int PARALLEL_WALKS = 2;

    private record Reading(Instant at, long nanos, long bytes, long inodes) {
    }

    private final Duration ttl;
    private final ConcurrentHashMap<String, Reading> readings = new ConcurrentHashMap<>();
    private final Set<String> refreshing = ConcurrentHashMap.newKeySet();
    private final Semaphore walks = new Semaphore(PARALLEL_WALKS);
    private final ExecutorService refresher = Executors.newVirtualThreadPerTaskExecutor();

    WritableLayerMeter(Duration ttl) {
        this.ttl = ttl;
    }

    /** The latest reading of {@code dir}, the upper directory of the container {@code key}. */
    WritableLayerUsage get(String key, Path dir, Path mountpoint) {
        Reading r = readings.get(key);
        if (r == null) {
            r = measure(dir);
            Reading raced = readings.putIfAbsent(key, r);
            r = raced != null ? raced : r;
        } else if (System.nanoTime() - r.nanos() > ttl.toNanos() && refreshing.add(key)) {
            refresh(key, dir);
        }
        return new WritableLayerUsage(r.at(), mountpoint, r.bytes(), r.inodes());
    }

    /** Drops the reading of a container whose writable layer is gone. */
    void forget(String key) {
        readings.remove(key);
    }

    private void refresh(String key, Path dir) {
        try {
            refresher.execute(() -> {
                try {
                    walks.acquire();
                    try {
                        Reading fresh = measure(dir);
                        readings.computeIfPresent(key, (k, old) -> fresh);
                    } finally {
                        walks.release();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    refreshing.remove(key);
                }
            });
        } catch (RejectedExecutionException e) {
            refreshing.remove(key); // closing
        }
    }

    private static Reading measure(Path dir) {
        long[] u = walk(dir);
        return new Reading(Instant.now(), System.nanoTime(), u[0], u[1]);
    }

    /** Bytes of regular files and the number of entries (the directory itself included) under {@code dir}. */
    static long[] walk(Path dir) {
        long[] out = {0, 0};
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    out[0] += attrs.isRegularFile() ? attrs.size() : 0;
                    out[1]++;
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) {
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
                    out[1]++;
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            // usage is best effort; files come and go while containers run
        }
        return out;
    }

    @Override
    public void close() {
        refresher.shutdownNow();
    }
}
