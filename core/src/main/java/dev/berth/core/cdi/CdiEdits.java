package dev.berth.core.cdi;

import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerMount;
import dev.berth.spi.ContainerSecurity;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.DeviceSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Applies resolved CDI edits to a container before its backend sees it, in the SPI's own terms, so that every
 * backend gets them: {@code env} (over the request's, as CDI's own library replaces a variable of the same name),
 * {@code deviceNodes} as devices, {@code mounts} as bind mounts and {@code additionalGids} as supplemental groups. A
 * device or mount of CDI replaces the request's at the same container path.
 *
 * <p>What berth cannot carry out is refused with {@code UNIMPLEMENTED}, naming the device and the edit, rather than
 * run the container without it: OCI hooks, {@code intelRdt}, {@code netDevices}, a device node's own {@code uid},
 * {@code gid} or {@code fileMode} (berth gives the node the host node's) or {@code none} permissions, and mounts
 * other than bind mounts or with options other than read-only, read-write, bind and propagation (a bind mount is
 * made recursive, as berth makes CRI's mounts).
 */
public final class CdiEdits {
    private static final Set<String> MOUNT_TYPES = Set.of("", "bind", "none");
    private static final Map<String, ContainerMount.Propagation> PROPAGATION = Map.of(
            "private", ContainerMount.Propagation.PRIVATE, "rprivate", ContainerMount.Propagation.PRIVATE,
            "slave", ContainerMount.Propagation.HOST_TO_CONTAINER,
            "rslave", ContainerMount.Propagation.HOST_TO_CONTAINER,
            "shared", ContainerMount.Propagation.BIDIRECTIONAL, "rshared", ContainerMount.Propagation.BIDIRECTIONAL);
    private static final Set<String> PLAIN_OPTIONS = Set.of("bind", "rbind", "ro", "rw");
    private static final int S_IFMT = 0170000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFBLK = 0060000;

    private CdiEdits() {}

    /**
     * The edits to make, checked: everything that can refuse a container does so here, before anything is made
     * for it.
     *
     * @throws BackendException {@code UNIMPLEMENTED} for an edit berth cannot make, {@code FAILED_PRECONDITION}
     *     for a host device or mount source that is missing or not what the spec says
     */
    public static Prepared prepare(List<CdiRegistry.Resolved> edits) {
        List<String> env = new ArrayList<>();
        List<DeviceSpec> devices = new ArrayList<>();
        List<ContainerMount> mounts = new ArrayList<>();
        List<Long> groups = new ArrayList<>();
        for (CdiRegistry.Resolved r : edits) {
            CdiSpec.Edits e = r.edits();
            String who = "CDI device " + r.device() + " (" + r.file() + ")";
            refuseUnsupported(who, e);
            env.addAll(e.env());
            e.deviceNodes().forEach(n -> devices.add(device(who, n)));
            e.mounts().forEach(m -> mounts.add(mount(who, m)));
            e.additionalGids().stream().filter(g -> g != 0).forEach(groups::add);
        }
        return new Prepared(env, devices, mounts, groups);
    }

    /** Checked edits, in the order they apply; {@link #NONE} for a container that asks for no CDI device. */
    public record Prepared(List<String> env, List<DeviceSpec> devices, List<ContainerMount> mounts,
                           List<Long> additionalGids) {
        public static final Prepared NONE = new Prepared(List.of(), List.of(), List.of(), List.of());

        public Prepared {
            env = List.copyOf(env);
            devices = List.copyOf(devices);
            mounts = List.copyOf(mounts);
            additionalGids = List.copyOf(additionalGids);
        }

        /** {@code spec} with these edits made. */
        public ContainerSpec applyTo(ContainerSpec spec) {
            if (equals(NONE)) {
                return spec;
            }
            List<String> envs = overridden(spec.env(), env, CdiEdits::envName);
            List<DeviceSpec> devs = overridden(spec.devices(), devices, DeviceSpec::containerPath);
            List<ContainerMount> mnts = overridden(spec.mounts(), mounts, ContainerMount::containerPath);
            Set<Long> groups = new LinkedHashSet<>(spec.security().supplementalGroups());
            groups.addAll(additionalGids);
            ContainerSecurity s = spec.security();
            ContainerSecurity security = new ContainerSecurity(s.addCapabilities(), s.dropCapabilities(),
                    s.privileged(), s.namespaces(), s.runAsUser(), s.runAsGroup(), s.runAsUsername(),
                    s.readonlyRootfs(), List.copyOf(groups), s.noNewPrivs(), s.maskedPaths(), s.readonlyPaths(),
                    s.seccomp(), s.apparmor(), s.selinux(), s.supplementalGroupsPolicy());
            return new ContainerSpec(spec.id(), spec.sandboxId(), spec.name(), spec.attempt(), spec.image(),
                    spec.command(), spec.args(), spec.workingDir(), envs, mnts, devs, spec.labels(), spec.annotations(),
                    spec.logPath(), spec.stdin(), spec.stdinOnce(), spec.tty(), spec.resources(), security,
                    spec.rootfs(), spec.raw());
        }
    }

    /**
     * {@code base}, then {@code over}, where an item of {@code over} takes the place of the earlier one of the same
     * key (which then moves to the end, where CDI's item stands).
     */
    private static <T> List<T> overridden(List<T> base, List<T> over, Function<T, String> key) {
        Map<String, T> out = new LinkedHashMap<>();
        base.forEach(t -> out.put(key.apply(t), t));
        over.forEach(t -> {
            out.remove(key.apply(t));
            out.put(key.apply(t), t);
        });
        return List.copyOf(out.values());
    }

    /** A variable's name: what stands before its first {@code =}, or the whole entry when it has none. */
    private static String envName(String entry) {
        int eq = entry.indexOf('=');
        return eq < 0 ? entry : entry.substring(0, eq);
    }

    private static void refuseUnsupported(String who, CdiSpec.Edits e) {
        if (!e.hooks().isEmpty()) {
            CdiSpec.Hook h = e.hooks().getFirst();
            throw BackendException.unimplemented(who + " asks for the OCI hook " + h.hookName() + " " + h.path()
                    + ", and berth does not run CDI hooks");
        }
        if (!e.intelRdt().isEmpty()) {
            throw BackendException.unimplemented(who + " asks for intelRdt, which berth does not set");
        }
        if (!e.netDevices().isEmpty()) {
            throw BackendException.unimplemented(who + " asks to move network devices (netDevices), which berth "
                    + "does not do");
        }
    }

    private static DeviceSpec device(String who, CdiSpec.DeviceNode n) {
        String what = who + ": device node " + n.path();
        if (n.uid() != null || n.gid() != null || n.fileMode() != null) {
            throw BackendException.unimplemented(what + " sets its own uid, gid or fileMode; berth gives a device "
                    + "node the host node's owner and mode");
        }
        if ("none".equals(n.permissions())) {
            throw BackendException.unimplemented(what + " asks for no access (permissions \"none\"), which berth "
                    + "does not grant");
        }
        String host = n.hostPath() == null ? n.path() : n.hostPath();
        int mode;
        long rdev;
        try {
            Map<String, Object> a = Files.readAttributes(Path.of(host), "unix:mode,rdev");
            mode = (Integer) a.get("mode");
            rdev = (Long) a.get("rdev");
        } catch (NoSuchFileException e) {
            throw new BackendException(BackendException.Kind.FAILED_PRECONDITION, what + ": host device " + host
                    + " does not exist");
        } catch (IOException | UnsupportedOperationException e) {
            throw new BackendException(BackendException.Kind.FAILED_PRECONDITION, what + ": host device " + host
                    + " cannot be read: " + e.getMessage());
        }
        String type = switch (mode & S_IFMT) {
            case S_IFCHR -> "c";
            case S_IFBLK -> "b";
            default -> throw new BackendException(BackendException.Kind.FAILED_PRECONDITION, what + ": host path "
                    + host + " is not a character or block device");
        };
        long major = ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL);
        long minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xffL);
        // As in CDI's own library, an empty type and a zero major or minor number are not given.
        boolean typeOk = n.type() == null || n.type().isEmpty() || n.type().equals(type)
                || (n.type().equals("u") && type.equals("c"));
        boolean majorOk = n.major() == null || n.major() == 0 || n.major() == major;
        boolean minorOk = n.minor() == null || n.minor() == 0 || n.minor() == minor;
        if (!typeOk || !majorOk || !minorOk) {
            throw new BackendException(BackendException.Kind.FAILED_PRECONDITION, what + " is described as "
                    + n.type() + " " + n.major() + ":" + n.minor() + ", but host device " + host + " is " + type + " "
                    + major + ":" + minor);
        }
        return new DeviceSpec(n.path(), host, n.permissions());
    }

    private static ContainerMount mount(String who, CdiSpec.Mount m) {
        String what = who + ": mount of " + m.hostPath() + " at " + m.containerPath();
        String type = m.type() == null ? "" : m.type();
        if (!MOUNT_TYPES.contains(type)) {
            throw BackendException.unimplemented(what + " is of type " + type + "; berth makes only bind mounts");
        }
        boolean readOnly = false;
        ContainerMount.Propagation propagation = ContainerMount.Propagation.PRIVATE;
        List<String> unsupported = new ArrayList<>();
        for (String o : m.options()) {
            if (PROPAGATION.containsKey(o)) {
                propagation = PROPAGATION.get(o);
            } else if (PLAIN_OPTIONS.contains(o)) {
                readOnly = o.equals("ro") || (readOnly && !o.equals("rw"));
            } else {
                unsupported.add(o);
            }
        }
        if (!unsupported.isEmpty()) {
            throw BackendException.unimplemented(what + " has options " + unsupported + ", which berth does not set "
                    + "on a mount (it sets ro, rw, bind and propagation)");
        }
        if (!Files.exists(Path.of(m.hostPath()), LinkOption.NOFOLLOW_LINKS)) {
            throw new BackendException(BackendException.Kind.FAILED_PRECONDITION, what + ": " + m.hostPath()
                    + " does not exist on this node");
        }
        return new ContainerMount(m.containerPath(), m.hostPath(), readOnly, false, propagation, false, "");
    }
}
