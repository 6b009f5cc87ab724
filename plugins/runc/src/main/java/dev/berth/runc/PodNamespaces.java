package dev.berth.runc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * A pod's UTS and IPC namespaces kept without a process, so that a pod needs no pause container (CRI-O calls this
 * dropping the infra container; its {@code pinns} helper does the same in C). Core pins the network namespace
 * the same way.
 *
 * <p>How: a fresh platform thread calls {@code unshare(CLONE_NEWUTS | CLONE_NEWIPC)}, which moves only that
 * thread, sets the pod's hostname, bind-mounts {@code /proc/thread-self/ns/uts} and {@code .../ipc} onto empty
 * files, switches back and ends. Its OS thread exits with it, so no other Java code ever runs in the pod's
 * namespaces. The bind mounts keep the namespaces alive across restarts of berth; containers join them by path.
 */
final class PodNamespaces {
    /** The namespaces a pod can pin, by their names in an OCI spec and under /proc/PID/ns. */
    enum Kind {
        UTS("uts", Native.CLONE_NEWUTS), IPC("ipc", Native.CLONE_NEWIPC);

        final String file;
        final int flag;

        Kind(String file, int flag) {
            this.file = file;
            this.flag = flag;
        }
    }

    private PodNamespaces() {}

    /**
     * Pins new namespaces of {@code kinds} at {@code dir/<uts|ipc>} ({@code dir} is created), with
     * {@code hostname} set in the UTS one when not empty. On failure nothing stays mounted.
     */
    static void pin(Path dir, List<Kind> kinds, String hostname) throws IOException {
        if (kinds.isEmpty()) {
            return;
        }
        Files.createDirectories(dir);
        int flags = 0;
        for (Kind k : kinds) {
            Files.deleteIfExists(dir.resolve(k.file));
            Files.createFile(dir.resolve(k.file));
            flags |= k.flag;
        }
        int unshareFlags = flags;
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread thread = Thread.ofPlatform().daemon().name("berth-pod-ns").unstarted(() -> {
            try {
                pinOnThisThread(dir, kinds, unshareFlags, hostname);
                done.complete(null);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        thread.start();
        try {
            done.get();
        } catch (InterruptedException e) {
            // The thread runs to its end regardless; wait for it, then undo what it did.
            while (thread.isAlive()) {
                try {
                    thread.join();
                } catch (InterruptedException again) {
                    // keep waiting
                }
            }
            Thread.currentThread().interrupt();
            unpin(dir);
            throw new IOException("interrupted while pinning the pod's namespaces");
        } catch (ExecutionException e) {
            unpin(dir);
            throw e.getCause() instanceof IOException io ? io : new IOException(String.valueOf(e.getCause()));
        }
    }

    private static void pinOnThisThread(Path dir, List<Kind> kinds, int flags, String hostname) throws IOException {
        List<int[]> originals = new ArrayList<>();
        try {
            for (Kind k : kinds) {
                originals.add(new int[] {Native.open("/proc/thread-self/ns/" + k.file, Native.O_RDONLY), k.flag});
            }
            Native.unshare(flags);
            if (kinds.contains(Kind.UTS) && !hostname.isEmpty()) {
                Native.sethostname(hostname);
            }
            for (Kind k : kinds) {
                Native.mount("/proc/thread-self/ns/" + k.file, dir.resolve(k.file).toString(), null, Mounts.MS_BIND,
                        null);
            }
        } finally {
            // Best effort: the thread ends right after, so a failed setns cannot leak into other work.
            for (int[] o : originals) {
                try {
                    Native.setns(o[0], o[1]);
                } catch (IOException ignored) {
                    // see above
                }
                Native.close(o[0]);
            }
        }
    }

    /** Whether every pin of {@code kinds} under {@code dir} holds a namespace (a bind mount, not the bare file). */
    static boolean pinned(Path dir, List<Kind> kinds) {
        if (kinds.isEmpty()) {
            return true;
        }
        try {
            Object own = Files.getAttribute(dir, "unix:dev");
            for (Kind k : kinds) {
                if (own.equals(Files.getAttribute(dir.resolve(k.file), "unix:dev"))) {
                    return false;
                }
            }
            return true;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    /** Unmounts and deletes every pin under {@code dir}, and {@code dir}. Idempotent. */
    static void unpin(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        for (Kind k : Kind.values()) {
            Path p = dir.resolve(k.file);
            for (int i = 0; i < 8 && Files.exists(p) && Native.umount(p.toString(), Native.MNT_DETACH); i++) {
                // peel every mount stacked on the pin
            }
            Files.deleteIfExists(p);
        }
        Files.deleteIfExists(dir);
    }
}
