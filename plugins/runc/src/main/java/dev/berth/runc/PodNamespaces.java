package dev.berth.runc;

import dev.berth.oci.Libc;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
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
        UTS("uts", Libc.CLONE_NEWUTS), IPC("ipc", Libc.CLONE_NEWIPC);

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
        try {
            onFreshThread("pinning the pod's namespaces", () -> {
                List<int[]> originals = saveNamespaces(kinds.stream().map(k -> k.file).toList());
                try {
                    Libc.unshare(unshareFlags);
                    if (kinds.contains(Kind.UTS) && !hostname.isEmpty()) {
                        Libc.sethostname(hostname);
                    }
                    for (Kind k : kinds) {
                        Libc.mount("/proc/thread-self/ns/" + k.file, dir.resolve(k.file).toString(), null,
                                Libc.MS_BIND, null);
                    }
                } finally {
                    restoreNamespaces(originals);
                }
            });
        } catch (IOException e) {
            unpin(dir);
            throw e;
        }
    }

    /**
     * Writes a pod's sysctls inside its namespaces: {@code net.*} in the network namespace at {@code netns}, the
     * IPC ones in the pin {@code pins/ipc}, {@code kernel.hostname} and {@code kernel.domainname} in
     * {@code pins/uts} (what the caller checked with {@link PodSysctls#validate}). A thread joins those namespaces
     * and writes {@code /proc/sys}, which shows the namespaces of the thread that opens it, then leaves them and
     * ends, as {@link #pin} does. A setting the kernel refuses fails the call, naming it.
     */
    static void writeSysctls(Path pins, Path netns, Map<String, String> sysctls) throws IOException {
        if (sysctls.isEmpty()) {
            return;
        }
        onFreshThread("writing the pod's sysctls", () -> {
            List<int[]> originals = saveNamespaces(List.of("net", "ipc", "uts"));
            try {
                if (netns != null) {
                    setns(netns, Libc.CLONE_NEWNET);
                }
                for (Kind k : Kind.values()) {
                    if (pinned(pins, List.of(k))) {
                        setns(pins.resolve(k.file), k.flag);
                    }
                }
                for (var e : new TreeMap<>(sysctls).entrySet()) {
                    Path file = PodSysctls.file(e.getKey());
                    try {
                        Files.writeString(file, e.getValue());
                    } catch (NoSuchFileException ex) {
                        throw new IOException("sysctl \"" + e.getKey() + "\": no such setting in the pod's namespaces");
                    } catch (IOException ex) {
                        throw new IOException("sysctl \"" + e.getKey() + "\" = \"" + e.getValue() + "\": "
                                + String.valueOf(ex.getMessage()).replace(file + ": ", ""));
                    }
                }
            } finally {
                restoreNamespaces(originals);
            }
        });
    }

    private static void setns(Path file, int type) throws IOException {
        int fd = Libc.open(file.toString(), Libc.O_RDONLY);
        try {
            Libc.setns(fd, type);
        } finally {
            Libc.close(fd);
        }
    }

    /** This thread's namespaces of the given kinds ({@code net}, {@code ipc}, {@code uts}), to go back to. */
    private static List<int[]> saveNamespaces(List<String> kinds) throws IOException {
        List<int[]> originals = new ArrayList<>();
        try {
            for (String k : kinds) {
                int flag = switch (k) {
                    case "net" -> Libc.CLONE_NEWNET;
                    case "ipc" -> Libc.CLONE_NEWIPC;
                    default -> Libc.CLONE_NEWUTS;
                };
                originals.add(new int[] {Libc.open("/proc/thread-self/ns/" + k, Libc.O_RDONLY), flag});
            }
        } catch (IOException e) {
            restoreNamespaces(originals);
            throw e;
        }
        return originals;
    }

    /** Best effort: the thread ends right after, so a failed setns cannot leak into other work. */
    private static void restoreNamespaces(List<int[]> originals) {
        for (int[] o : originals) {
            try {
                Libc.setns(o[0], o[1]);
            } catch (IOException ignored) {
                // see above
            }
            Libc.close(o[0]);
        }
    }

    private interface NamespaceWork {
        void run() throws IOException;
    }

    /**
     * Runs {@code work} on a fresh platform thread and waits for it, even if interrupted: work that moves a thread
     * into other namespaces must never run on a thread that other code uses afterwards.
     */
    private static void onFreshThread(String what, NamespaceWork work) throws IOException {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread thread = Thread.ofPlatform().daemon().name("berth-pod-ns").unstarted(() -> {
            try {
                work.run();
                done.complete(null);
            } catch (Throwable t) {
                done.completeExceptionally(t);
            }
        });
        thread.start();
        try {
            done.get();
        } catch (InterruptedException e) {
            // The thread runs to its end regardless; wait for it.
            while (thread.isAlive()) {
                try {
                    thread.join();
                } catch (InterruptedException again) {
                    // keep waiting
                }
            }
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while " + what);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(String.valueOf(e.getCause()));
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
            for (int i = 0; i < 8 && Files.exists(p) && Libc.umount(p.toString(), Libc.MNT_DETACH); i++) {
                // peel every mount stacked on the pin
            }
            Files.deleteIfExists(p);
        }
        Files.deleteIfExists(dir);
    }
}
