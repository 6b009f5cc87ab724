package dev.berth.oci.spec;

import dev.berth.oci.spec.RuntimeSpec.Mount;
import dev.berth.spi.ContainerMount;
import dev.berth.spi.ContainerSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The mounts of a spec for {@link SpecMapper}: the default file systems, the pod's resolv.conf, hosts and hostname,
 * and the CRI mounts, in a plugin's {@code conventions}, with {@code rro} where the runtime and kernel support it.
 */
record SpecMounts(SpecMapper.Conventions conventions, boolean recursiveReadOnly) {
    /** proc, dev, pts, shm (private tmpfs, or the pod's shared one bound in), mqueue, sysfs and maybe cgroup. */
    List<Mount> defaults(boolean privileged, Path shm) {
        List<String> nodev = List.of("nosuid", "noexec", "nodev");
        List<Mount> m = new ArrayList<>();
        m.add(new Mount("/proc", "proc", "proc", nodev));
        m.add(new Mount("/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k")));
        m.add(new Mount("/dev/pts", "devpts", "devpts",
                List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")));
        m.add(shm != null
                ? new Mount("/dev/shm", "bind", shm.toString(), List.of("rbind", "rprivate", "nosuid", "noexec", "nodev"))
                : new Mount("/dev/shm", "tmpfs", "shm", List.of("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")));
        m.add(new Mount("/dev/mqueue", "mqueue", "mqueue", nodev));
        m.add(new Mount("/sys", "sysfs", "sysfs", access(nodev, !privileged)));
        if (conventions.has(SpecMapper.Option.CGROUP_MOUNT)) {
            m.add(new Mount("/sys/fs/cgroup", "cgroup", "cgroup",
                    privileged ? List.of("nosuid", "noexec", "nodev", "relatime")
                            : List.of("nosuid", "noexec", "nodev", "relatime", "ro")));
        }
        return m;
    }

    /** {@code options} and the access: {@code ro}, or {@code rw} where the conventions state it. */
    private List<String> access(List<String> options, boolean readOnly) {
        List<String> out = new ArrayList<>(options);
        if (readOnly || conventions.has(SpecMapper.Option.STATES_READ_WRITE)) {
            out.add(readOnly ? "ro" : "rw");
        }
        return List.copyOf(out);
    }

    /**
     * The pod's resolv.conf, hosts and hostname files, bound in unless null or requested at the same place; read-only
     * when the root file system is, so that a read-only container cannot rewrite the files its pod shares.
     */
    void addPodFiles(List<Mount> mounts, Path resolv, Path hosts, Path hostname, Set<String> requested,
            boolean readOnly) {
        Map<String, Path> files = new LinkedHashMap<>();
        files.put("/etc/resolv.conf", resolv);
        files.put("/etc/hosts", hosts);
        files.put("/etc/hostname", hostname);
        files.forEach((dest, src) -> {
            if (src != null && !requested.contains(dest)) {
                mounts.add(new Mount(dest, "bind", src.toString(), access(List.of("rbind", "rprivate"), readOnly)));
            }
        });
    }

    /** A CRI mount: a recursive bind with its propagation and access; {@code rro} only where supported. */
    Mount bind(ContainerSpec c, ContainerMount m) {
        if (m.hostPath().isEmpty()) {
            throw SpecMapper.refused(c, "mount at \"" + m.containerPath() + "\" has no host path");
        }
        if (!m.hostPath().startsWith("/")) {
            throw SpecMapper.refused(c, "mount at \"" + m.containerPath() + "\" has a relative host path, \""
                    + m.hostPath() + "\"");
        }
        if (m.recursiveReadOnly() && !recursiveReadOnly) {
            throw SpecMapper.refused(c, "recursive read-only mount of \"" + m.containerPath()
                    + "\" is not supported by this runtime and kernel");
        }
        String propagation = switch (m.propagation()) {
            case PRIVATE -> "rprivate";
            case HOST_TO_CONTAINER -> "rslave";
            case BIDIRECTIONAL -> "rshared";
        };
        List<String> opts = new ArrayList<>(List.of("rbind"));
        if (!conventions.has(SpecMapper.Option.ACCESS_BEFORE_PROPAGATION)) {
            opts.add(propagation);
        }
        if (m.recursiveReadOnly()) {
            opts.add("rro");
        } else if (m.readOnly() || conventions.has(SpecMapper.Option.STATES_READ_WRITE)) {
            opts.add(m.readOnly() ? "ro" : "rw");
        }
        if (conventions.has(SpecMapper.Option.ACCESS_BEFORE_PROPAGATION)) {
            opts.add(propagation);
        }
        return new Mount(m.containerPath(), "bind", m.hostPath(), List.copyOf(opts));
    }
}
