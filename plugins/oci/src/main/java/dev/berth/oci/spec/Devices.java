package dev.berth.oci.spec;

import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.DeviceSpec;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Resolves CRI devices to their node type and numbers, from the host's device files; a privileged container gets
 * every device node of the host's {@code /dev} as well, as in containerd and CRI-O. The runc and kata plugins both
 * use it: a device a container asks for reaches the spec under either, as containerd passes it to any runtime.
 */
public final class Devices {
    /** Directories of {@code /dev} whose nodes are not the host's devices: each container has its own. */
    private static final Set<String> SKIPPED = Set.of("pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev");
    private static final Path DEV = Path.of("/dev");

    private Devices() {}

    /** The devices of {@code spec}: those it asks for, and when it is privileged (unless turned off) the host's. */
    public static List<SpecMapper.HostDevice> of(String containerId, ContainerSpec spec, boolean withoutHostDevices) {
        List<SpecMapper.HostDevice> asked = resolve(containerId, spec.devices());
        if (!spec.security().privileged() || withoutHostDevices) {
            return asked;
        }
        return withHost(asked, host(DEV));
    }

    /** {@code asked}, then each host device at a path none of them takes. */
    static List<SpecMapper.HostDevice> withHost(List<SpecMapper.HostDevice> asked,
                                                List<SpecMapper.HostDevice> host) {
        List<SpecMapper.HostDevice> out = new ArrayList<>(asked);
        Set<String> taken = new HashSet<>();
        asked.forEach(d -> taken.add(d.containerPath()));
        for (SpecMapper.HostDevice d : host) {
            if (taken.add(d.containerPath())) {
                out.add(d);
            }
        }
        return out;
    }

    /**
     * The character and block devices under {@code root}, each at its own path with all access: symbolic links,
     * the console and the per-container directories are left out. A node that goes away while it is read is
     * skipped.
     */
    public static List<SpecMapper.HostDevice> host(Path root) {
        return under(root, root.toString(), "rwm");
    }

    /**
     * The character and block devices under the directory {@code root}, each at the same path under
     * {@code containerRoot} with {@code permissions}: symbolic links, other files, consoles and the per-container
     * directories are left out, and a node that goes away while it is read is skipped.
     */
    private static List<SpecMapper.HostDevice> under(Path root, String containerRoot, String permissions) {
        List<SpecMapper.HostDevice> out = new ArrayList<>();
        try {
            Path real = root.toRealPath();
            Files.walkFileTree(real, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    return !dir.equals(real) && SKIPPED.contains(dir.getFileName().toString())
                            ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    if (attrs.isOther() && !file.getFileName().toString().equals("console")) {
                        String at = containerRoot.replaceAll("/+$", "") + "/" + real.relativize(file);
                        try {
                            node(file, at, permissions).ifPresent(out::add);
                        } catch (IOException e) {
                            // gone since the listing
                        }
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new BackendException(BackendException.Kind.INTERNAL, "failed to list the devices under "
                    + root + ": " + e.getMessage());
        }
        out.sort(Comparator.comparing(SpecMapper.HostDevice::containerPath));
        return out;
    }

    /**
     * The devices a container asks for. A host path that is a directory (a device plugin's {@code /dev/snd}, or
     * {@code /dev/dri}) gives every device under it, at the same place under the container path, as containerd
     * and CRI-O expand it.
     */
    public static List<SpecMapper.HostDevice> resolve(String containerId, List<DeviceSpec> specs) {
        List<SpecMapper.HostDevice> out = new ArrayList<>();
        for (DeviceSpec d : specs) {
            Path host = Path.of(d.hostPath());
            if (!host.isAbsolute()) {
                throw BackendException.invalid("failed to create container \"" + containerId + "\": device host path "
                        + "\"" + d.hostPath() + "\" is not absolute");
            }
            if (Files.isDirectory(host)) {
                List<SpecMapper.HostDevice> devices = under(host, d.containerPath(), d.permissions());
                if (devices.isEmpty()) {
                    throw BackendException.invalid("failed to create container \"" + containerId + "\": device "
                            + "directory " + d.hostPath() + " holds no device");
                }
                out.addAll(devices);
                continue;
            }
            try {
                out.add(node(host, d.containerPath(), d.permissions()).orElseThrow(() ->
                        BackendException.invalid("failed to create container \"" + containerId + "\": "
                                + d.hostPath() + " is not a device")));
            } catch (java.nio.file.NoSuchFileException e) {
                throw BackendException.invalid("failed to create container \"" + containerId + "\": device "
                        + d.hostPath() + " does not exist on the host");
            } catch (IOException e) {
                throw BackendException.invalid("failed to create container \"" + containerId + "\": device "
                        + d.hostPath() + ": " + e.getMessage());
            }
        }
        return out;
    }

    /** The device node at {@code p} (links followed), or empty when it is not a character or block device. */
    private static Optional<SpecMapper.HostDevice> node(Path p, String containerPath, String permissions)
            throws IOException {
        int mode = (Integer) Files.getAttribute(p, "unix:mode");
        long rdev = (Long) Files.getAttribute(p, "unix:rdev");
        int fmt = mode & 0170000;
        String type = fmt == 0020000 ? "c" : fmt == 0060000 ? "b" : null;
        if (type == null) {
            return Optional.empty();
        }
        // glibc's major()/minor() for the 64-bit dev_t
        long major = ((rdev >> 8) & 0xfff) | ((rdev >> 32) & ~0xfffL);
        long minor = (rdev & 0xff) | ((rdev >> 12) & ~0xffL);
        // The node's owner too, as containerd and CRI-O copy it: a group-only device such as /dev/kvm (root:kvm,
        // 0660) or a GPU's render node is for a container process in that group, not for root alone.
        long uid = ((Number) Files.getAttribute(p, "unix:uid")).longValue();
        long gid = ((Number) Files.getAttribute(p, "unix:gid")).longValue();
        return Optional.of(new SpecMapper.HostDevice(containerPath, p.toString(), type, major, minor, mode & 07777,
                permissions, uid, gid));
    }
}
