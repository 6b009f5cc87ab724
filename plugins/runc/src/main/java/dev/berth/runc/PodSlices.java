package dev.berth.runc;

import dev.berth.oci.ProcessRunner;
import dev.berth.runc.StateStore.SandboxRecord;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The pod slices of the systemd cgroup driver. systemd makes a slice when the runtime starts the first scope in
 * it, and keeps it loaded and active after its last scope is gone. kubelet makes its pod slices before the pod
 * and stops them after it; a slice that did not exist when berth created a pod in it is berth's, and berth stops
 * it once the last of its pods there is removed and it holds nothing. Which slices are berth's is kept as files in
 * the handler's state directory ({@code slices/<name>.slice}), so a restarted berth still knows.
 */
final class PodSlices {
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private final HandlerState state;
    private final Path dir;
    /** Pods being created per slice: their records come only at the end of the create. Guarded by this. */
    private final Map<String, Integer> creating = new HashMap<>();

    PodSlices(HandlerState state, Path dir) {
        this.state = state;
        this.dir = dir;
    }

    /**
     * Before a pod's first scope in {@code slice}: notes the slice as berth's when it does not exist yet. Each call
     * is followed by {@link #created} when the create is over, whether it worked or not.
     */
    synchronized void creating(String slice) throws IOException {
        creating.merge(slice, 1, Integer::sum);
        if (SystemdCgroups.stoppable(slice) && !exists(slice)) {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(slice), "");
        }
    }

    synchronized void created(String slice) {
        creating.computeIfPresent(slice, (k, n) -> n == 1 ? null : n - 1);
    }

    /**
     * After a pod in {@code slice} was removed: stops the slice if berth made it, no other pod is in it or being
     * created in it, and it holds no cgroup (no scope of anyone else's either).
     */
    synchronized void removed(String slice) {
        Path note = dir.resolve(slice);
        if (!Files.exists(note) || creating.containsKey(slice)) {
            return;
        }
        for (SandboxRecord r : state.sandboxes.values()) {
            if (slice.equals(sliceOf(r))) {
                return;
            }
        }
        if (!empty(slice)) {
            return;
        }
        ProcessRunner.Result r = ProcessRunner.run(List.of("systemctl", "stop", slice), null, STOP_TIMEOUT);
        if (!r.ok()) {
            state.log.log(Level.WARNING, "cannot stop the pod slice {0}: {1}", slice, r.stderr().strip());
            return;
        }
        // systemd removed the slice's cgroups in the hierarchies it manages; the runtime made it in the others.
        Cgroups.remove(SystemdCgroups.sliceCgroup(state.systemdRoot(), slice));
        try {
            Files.deleteIfExists(note);
        } catch (IOException e) {
            state.log.log(Level.WARNING, "cannot forget the pod slice {0}: {1}", slice, e.getMessage());
        }
    }

    /** A pod's slice, or null when its cgroup parent names none. */
    static String sliceOf(SandboxRecord r) {
        try {
            return SystemdCgroups.slice(r.cgroupParent());
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /**
     * Whether systemd has the slice: its cgroup in the hierarchy systemd tracks units in. (Hierarchies systemd
     * does not manage, such as v1 cpuset, keep a stopped slice's directory until someone removes it.)
     */
    private boolean exists(String slice) {
        Path h = Cgroups.systemdHierarchy();
        return h != null && Files.isDirectory(h.resolve(
                Cgroups.relative(SystemdCgroups.sliceCgroup(state.systemdRoot(), slice))));
    }

    private boolean empty(String slice) {
        String rel = Cgroups.relative(SystemdCgroups.sliceCgroup(state.systemdRoot(), slice));
        for (Cgroups.Hierarchy h : Cgroups.hierarchies()) {
            Path d = h.mountPoint().resolve(rel);
            if (!Files.isDirectory(d)) {
                continue;
            }
            try (Stream<Path> s = Files.list(d)) {
                if (s.anyMatch(Files::isDirectory)) {
                    return false;
                }
            } catch (IOException e) {
                return false;
            }
        }
        return true;
    }
}
