package dev.berth.runc;

import dev.berth.oci.spec.RuntimeSpec.Mount;
import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerMount;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The mounts of an OCI spec: the default file systems every container gets, the pod's resolv.conf, hosts and
 * hostname files, and the bind mounts CRI asks for.
 */
final class OciMounts {
    private OciMounts() {}

    static Mount criMount(String containerId, ContainerMount m, boolean rroSupported) {
        if (m.hostPath().isEmpty()) {
            throw BackendException.invalid("failed to create container \"" + containerId + "\": mount at \""
                    + m.containerPath() + "\" has no host path");
        }
        List<String> opts = new ArrayList<>();
        opts.add("rbind");
        opts.add(switch (m.propagation()) {
            case PRIVATE -> "rprivate";
            case HOST_TO_CONTAINER -> "rslave";
            case BIDIRECTIONAL -> "rshared";
        });
        if (m.recursiveReadOnly()) {
            if (!rroSupported) {
                throw BackendException.invalid("failed to create container \"" + containerId
                        + "\": recursive read-only mount of \"" + m.containerPath()
                        + "\" is not supported by this runtime and kernel");
            }
            opts.add("rro");
        } else if (m.readOnly()) {
            opts.add("ro");
        }
        return new Mount(m.containerPath(), "bind", m.hostPath(), List.copyOf(opts));
    }

    /** proc, dev, pts, shm (private tmpfs, or the pod's shared one bound in), mqueue, sysfs and cgroup. */
    static List<Mount> defaultMounts(boolean privileged, Path shm) {
        List<Mount> m = new ArrayList<>();
        m.add(new Mount("/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev")));
        m.add(new Mount("/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k")));
        m.add(new Mount("/dev/pts", "devpts", "devpts",
                List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")));
        m.add(shm != null
                ? new Mount("/dev/shm", "bind", shm.toString(),
                        List.of("rbind", "rprivate", "nosuid", "noexec", "nodev"))
                : new Mount("/dev/shm", "tmpfs", "shm",
                        List.of("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")));
        m.add(new Mount("/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev")));
        m.add(new Mount("/sys", "sysfs", "sysfs", privileged ? List.of("nosuid", "noexec", "nodev")
                : List.of("nosuid", "noexec", "nodev", "ro")));
        m.add(new Mount("/sys/fs/cgroup", "cgroup", "cgroup", privileged
                ? List.of("nosuid", "noexec", "nodev", "relatime")
                : List.of("nosuid", "noexec", "nodev", "relatime", "ro")));
        return m;
    }

    static void addPodFileMounts(List<Mount> mounts, Path resolv, Path hosts, Path hostname, Set<String> requested) {
        Map<String, Path> files = new LinkedHashMap<>();
        files.put("/etc/resolv.conf", resolv);
        files.put("/etc/hosts", hosts);
        files.put("/etc/hostname", hostname);
        files.forEach((dest, src) -> {
            if (src != null && !requested.contains(dest)) {
                mounts.add(new Mount(dest, "bind", src.toString(), List.of("rbind", "rprivate")));
            }
        });
    }
}
