package dev.berth.core.network;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Keeps the current CNI config of a conf dir, reloading it when files in the dir change (java.nio WatchService, which
 * is inotify on Linux). While the dir does not exist, its nearest existing ancestor is watched instead, so a dir
 * created later (even with its parents) is picked up without a restart. The watch also re-polls every few seconds,
 * which covers events lost between re-registrations; a re-poll reads and parses the config again only when the
 * first config file is another one, or its size or modification time changed.
 */
final class CniConfigWatcher implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(CniConfigWatcher.class.getName());
    private static final long REPOLL_SECONDS = 5;

    /** The outcome of the last load: a config, or the reason there is none. */
    record Loaded(CniConfig config, String problem) {
        Optional<CniConfig> current() {
            return Optional.ofNullable(config);
        }
    }

    /** The first config file as the last load found it: which one, and its identity; all null when there was none. */
    private record Seen(Path file, Object fileKey, long size, FileTime modified) {
        static Seen of(Path confDir) {
            Optional<Path> first = CniConfig.firstConfigFile(confDir);
            if (first.isEmpty()) {
                return new Seen(null, null, -1, null);
            }
            try {
                BasicFileAttributes a = Files.readAttributes(first.get(), BasicFileAttributes.class);
                return new Seen(first.get(), a.fileKey(), a.size(), a.lastModifiedTime());
            } catch (IOException e) {
                return new Seen(first.get(), null, -1, null); // gone since the listing: the load says what is wrong
            }
        }
    }

    private final Path confDir;
    private final AtomicReference<Loaded> current = new AtomicReference<>();
    private Seen seen; // guarded by this
    private final WatchService watchService;
    private final Thread thread;
    private volatile boolean closed;

    CniConfigWatcher(Path confDir) {
        this(confDir, true);
    }

    /**
     * With {@code watch} false, nothing runs in the background: the config changes only through {@link #reload}
     * (for tests of what a re-poll reads, which an inotify event would otherwise race).
     */
    CniConfigWatcher(Path confDir, boolean watch) {
        this.confDir = confDir.toAbsolutePath().normalize();
        WatchService service = null;
        if (watch) {
            try {
                service = FileSystems.getDefault().newWatchService();
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot watch {0}, falling back to polling: {1}", confDir,
                        e.getMessage());
            }
        }
        this.watchService = service;
        reload();
        this.thread = watch ? Thread.ofPlatform().daemon().name("berth-cni-conf-watch").start(this::run) : null;
    }

    /** The last loaded config state. */
    Loaded loaded() {
        return current.get();
    }

    /**
     * Loads the config now (also done on every change in the dir, and every {@value #REPOLL_SECONDS} s). An
     * unchanged config keeps its {@link Loaded}: the network's readiness is checked again at once for a new one
     * ({@link CniReadiness#get}), so a new object for the same config would make the next Status call check it.
     */
    Loaded reload() {
        return reload(true);
    }

    /**
     * Loads the config again; unless {@code always}, only when the first config file is not the one the last load
     * read (another file, size or modification time).
     */
    synchronized Loaded reload(boolean always) {
        Seen now = Seen.of(confDir);
        Loaded last = current.get();
        if (!always && last != null && now.file() != null && now.fileKey() != null && Objects.equals(now, seen)) {
            return last;
        }
        seen = now; // taken before the read: a change made while it reads is found by the next poll
        Loaded loaded;
        try {
            // The file the listing found, unless it went before its attributes could be read: then list again.
            Optional<CniConfig> config = now.file() == null ? Optional.empty()
                    : now.fileKey() == null ? CniConfig.loadFirst(confDir) : Optional.of(CniConfig.load(now.file()));
            loaded = config.map(c -> new Loaded(c, ""))
                    .orElseGet(() -> new Loaded(null, "no network config found in " + confDir));
        } catch (CniConfig.InvalidConfigException e) {
            loaded = new Loaded(null, e.getMessage());
        }
        Loaded previous = current.get();
        if (previous != null && same(previous, loaded)) {
            return previous;
        }
        current.set(loaded);
        if (loaded.config() != null) {
            LOG.log(System.Logger.Level.INFO, "using CNI network \"{0}\" from {1}", loaded.config().name(),
                    loaded.config().source());
        } else {
            LOG.log(System.Logger.Level.INFO, "no usable CNI config: {0}", loaded.problem());
        }
        return loaded;
    }

    private static boolean same(Loaded a, Loaded b) {
        if (a.config() == null || b.config() == null) {
            return a.config() == b.config() && a.problem().equals(b.problem());
        }
        return a.config().source().equals(b.config().source()) && a.config().json().equals(b.config().json());
    }

    private void run() {
        WatchKey key = null;
        Path watched = null;
        while (!closed) {
            try {
                Path target = nearestExisting(confDir);
                if (watchService != null && (key == null || !key.isValid() || !target.equals(watched))) {
                    if (key != null) {
                        key.cancel();
                    }
                    key = target.register(watchService, StandardWatchEventKinds.ENTRY_CREATE,
                            StandardWatchEventKinds.ENTRY_DELETE, StandardWatchEventKinds.ENTRY_MODIFY);
                    watched = target;
                    reload(); // anything that happened before the registration
                }
                WatchKey signalled = watchService == null ? null
                        : watchService.poll(REPOLL_SECONDS, TimeUnit.SECONDS);
                if (watchService == null) {
                    Thread.sleep(TimeUnit.SECONDS.toMillis(REPOLL_SECONDS));
                }
                if (signalled != null) {
                    signalled.pollEvents();
                    if (!signalled.reset() && signalled == key) {
                        key = null; // the watched dir went away
                    }
                }
                reload(signalled != null);
            } catch (ClosedWatchServiceException | InterruptedException e) {
                return;
            } catch (IOException | RuntimeException e) {
                if (closed) {
                    return;
                }
                LOG.log(System.Logger.Level.DEBUG, "CNI conf dir watch: {0}", e.toString());
                key = null;
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    private static Path nearestExisting(Path dir) {
        Path candidate = dir;
        while (candidate != null && !Files.isDirectory(candidate)) {
            candidate = candidate.getParent();
        }
        return candidate == null ? dir.getRoot() : candidate;
    }

    @Override
    public void close() {
        closed = true;
        try {
            if (watchService != null) {
                watchService.close();
            }
        } catch (IOException e) {
            // closing anyway
        }
        if (thread == null) {
            return;
        }
        thread.interrupt();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
