package dev.berth.runc;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerMount;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The mounts of an OCI spec: the default file systems every container gets, the pod's resolv.conf, hosts and
 * hostname files, and the bind mounts CRI asks for.
 */
final class OciMounts {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private OciMounts() {}

    static ObjectNode criMount(String containerId, ContainerMount m, boolean rroSupported) {
        if (m.hostPath().isEmpty()) {
            throw BackendException.invalid("failed to create container \"" + containerId + "\": mount at \""
                    + m.containerPath() + "\" has no host path");
        }
        ObjectNode n = F.objectNode();
        n.put("destination", m.containerPath());
        n.put("type", "bind");
        n.put("source", m.hostPath());
        ArrayNode opts = n.putArray("options");
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
        return n;
    }

    /** proc, dev, pts, shm (private tmpfs, or the pod's shared one bound in), mqueue, sysfs and cgroup. */
    static ArrayNode defaultMounts(boolean privileged, Path shm) {
        ArrayNode m = F.arrayNode();
        m.add(mount("/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev")));
        m.add(mount("/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k")));
        m.add(mount("/dev/pts", "devpts", "devpts",
                List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")));
        m.add(shm != null
                ? mount("/dev/shm", "bind", shm.toString(), List.of("rbind", "rprivate", "nosuid", "noexec", "nodev"))
                : mount("/dev/shm", "tmpfs", "shm", List.of("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")));
        m.add(mount("/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev")));
        m.add(mount("/sys", "sysfs", "sysfs", privileged ? List.of("nosuid", "noexec", "nodev")
                : List.of("nosuid", "noexec", "nodev", "ro")));
        m.add(mount("/sys/fs/cgroup", "cgroup", "cgroup", privileged ? List.of("nosuid", "noexec", "nodev", "relatime")
                : List.of("nosuid", "noexec", "nodev", "relatime", "ro")));
        return m;
    }

    static void addPodFileMounts(ArrayNode mounts, Path resolv, Path hosts, Path hostname,
                                         Set<String> requested) {
        Map<String, Path> files = new LinkedHashMap<>();
        files.put("/etc/resolv.conf", resolv);
        files.put("/etc/hosts", hosts);
        files.put("/etc/hostname", hostname);
        files.forEach((dest, src) -> {
            if (src != null && !requested.contains(dest)) {
                mounts.add(mount(dest, "bind", src.toString(), List.of("rbind", "rprivate")));
            }
        });
    }

    static ObjectNode mount(String dest, String type, String source, List<String> options) {
        ObjectNode n = F.objectNode();
        n.put("destination", dest);
        n.put("type", type);
        n.put("source", source);
        n.set("options", OciSpecs.strings(options));
        return n;
    }
}
