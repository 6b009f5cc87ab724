package dev.berth.runc;

import dev.berth.oci.Libc;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Sees a berth-pause process end as it happens ({@link PauseProcess}: nothing supervises it, so no exit file
 * tells), so that the plugin can report the end of its sandbox like a pause container's. One thread waits on an
 * epoll instance holding a pidfd per watched process; a pidfd polls readable once its process has ended, whoever
 * its parent is. The watch is made right after the process started, or after berth restarted while it was alive
 * (checked again after the pidfd is open, so a pid used again in between is not watched).
 *
 * <p>Where the kernel has no pidfds (before Linux 5.3) nothing is watched, {@link #watching} stays false, and the
 * plugin does not claim to report those sandboxes' ends.
 */
final class PauseWatcher implements AutoCloseable {
    private static final long WAKE = -1;

    private record Watch(String sandboxId, int fd) {}

    private final Map<Long, Watch> byToken = new ConcurrentHashMap<>();
    private final Map<String, Long> tokens = new ConcurrentHashMap<>();
    private final AtomicLong nextToken = new AtomicLong();
    private final System.Logger log;
    private final int epoll;
    private final int wake;
    private final Thread thread;
    private volatile Consumer<String> onEnd = id -> { };
    private volatile boolean closed;

    PauseWatcher(System.Logger log) {
        this.log = log;
        int ep = -1;
        int wk = -1;
        try {
            ep = Libc.epollCreate();
            wk = Libc.eventfd();
            Libc.epollAdd(ep, wk, WAKE);
            int self = Libc.pidfdOpen(ProcessHandle.current().pid()); // the kernel has pidfds
            Libc.close(self);
        } catch (IOException | RuntimeException e) {
            log.log(Level.WARNING, "cannot watch berth-pause processes for their end: {0}", e.getMessage());
            if (wk >= 0) {
                Libc.close(wk);
            }
            if (ep >= 0) {
                Libc.close(ep);
            }
            ep = -1;
            wk = -1;
        }
        this.epoll = ep;
        this.wake = wk;
        this.thread = ep < 0 ? null : Thread.ofPlatform().daemon().name("berth-runc-pauses").start(this::run);
    }

    /** Who is told of an end (the sandbox's id), once per watched process. */
    void onEnd(Consumer<String> listener) {
        this.onEnd = listener;
    }

    /**
     * Watches the berth-pause process {@code pid} of a sandbox; false if it cannot (no pidfds here, or the process
     * is gone already: then its end is not reported, and a status read finds it). {@code stillOurs} is checked once
     * the pidfd is open: false there means the pid is no longer the sandbox's process.
     */
    boolean watch(String sandboxId, long pid, java.util.function.BooleanSupplier stillOurs) {
        if (epoll < 0 || closed) {
            return false;
        }
        int fd;
        try {
            fd = Libc.pidfdOpen(pid);
        } catch (IOException e) {
            return false; // ended already (ESRCH)
        }
        if (!stillOurs.getAsBoolean()) {
            Libc.close(fd);
            return false;
        }
        long token = nextToken.getAndIncrement();
        unwatch(sandboxId);
        byToken.put(token, new Watch(sandboxId, fd));
        tokens.put(sandboxId, token);
        try {
            Libc.epollAdd(epoll, fd, token);
        } catch (IOException e) {
            byToken.remove(token);
            tokens.remove(sandboxId, token);
            Libc.close(fd);
            log.log(Level.WARNING, "cannot watch the pause process of sandbox {0}: {1}", sandboxId, e.getMessage());
            return false;
        }
        return true;
    }

    /** Whether processes can be watched here (the kernel has pidfds). */
    boolean available() {
        return epoll >= 0 && !closed;
    }

    /** Whether the sandbox's process is watched (its end will be told). */
    boolean watching(String sandboxId) {
        return tokens.containsKey(sandboxId);
    }

    /** Stops watching a sandbox's process (its sandbox is removed); nothing is told. */
    void unwatch(String sandboxId) {
        Long token = tokens.remove(sandboxId);
        Watch w = token == null ? null : byToken.remove(token);
        if (w != null) {
            Libc.epollDelete(epoll, w.fd());
            Libc.close(w.fd());
        }
    }

    /** How many processes are watched (for tests: a removed sandbox leaves none). */
    int size() {
        return byToken.size();
    }

    private void run() {
        while (!closed) {
            long[] ready;
            try {
                ready = Libc.epollWait(epoll, 64, -1);
            } catch (IOException | RuntimeException e) {
                log.log(Level.WARNING, "berth-pause watcher stopped: {0}", e.getMessage());
                return;
            }
            for (long token : ready) {
                if (token == WAKE) {
                    continue;
                }
                Watch w = byToken.remove(token);
                if (w == null) {
                    continue; // unwatched meanwhile
                }
                tokens.remove(w.sandboxId(), token);
                Libc.epollDelete(epoll, w.fd());
                Libc.close(w.fd());
                try {
                    onEnd.accept(w.sandboxId());
                } catch (RuntimeException e) {
                    log.log(Level.WARNING, "end of sandbox {0} not reported: {1}", w.sandboxId(), e.getMessage());
                }
            }
        }
    }

    @Override
    public void close() {
        if (epoll < 0 || closed) {
            return;
        }
        closed = true;
        try {
            Libc.write(wake, new byte[] {1, 0, 0, 0, 0, 0, 0, 0}, 0, 8);
            thread.join(2000);
        } catch (IOException | InterruptedException e) {
            // the daemon thread goes with the process
        }
        for (String id : java.util.List.copyOf(tokens.keySet())) {
            unwatch(id);
        }
        Libc.close(wake);
        Libc.close(epoll);
    }
}
