package dev.berth.runc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The systemd cgroup driver's names. With it, kubelet gives a pod's cgroup parent as a slice
 * ({@code /kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid>.slice}, or only its last
 * element); each of the pod's containers, its pause container too, runs in a scope {@code berth-<id>.scope} that
 * the runtime asks systemd for in that slice ({@code linux.cgroupsPath} = {@code slice:berth:<id>}). systemd
 * puts a slice {@code a-b-c.slice} at {@code /a.slice/a-b.slice/a-b-c.slice} below its own root cgroup, in every
 * hierarchy; that is where the stats are read.
 */
final class SystemdCgroups {
    /** The scope prefix: a container's unit is {@code berth-<id>.scope}. */
    static final String PREFIX = "berth";
    /** The sub-cgroup of its scope crun runs a container's processes in. */
    static final String CRUN_SUBGROUP = "container";
    /** Slices systemd itself keeps: never stopped by berth. */
    private static final List<String> SYSTEM_SLICES = List.of("-.slice", "system.slice", "user.slice",
            "machine.slice");

    private SystemdCgroups() {}

    /**
     * The slice a pod's containers go in: the last element of its cgroup parent, or {@code system.slice} without
     * one.
     *
     * @throws IllegalArgumentException when the parent does not name a valid slice
     */
    static String slice(String cgroupParent) {
        if (cgroupParent == null || cgroupParent.isBlank()) {
            return "system.slice";
        }
        String p = cgroupParent.strip();
        while (p.length() > 1 && p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        String last = p.substring(p.lastIndexOf('/') + 1);
        if (last.isEmpty()) {
            return "system.slice";
        }
        if (!last.endsWith(".slice")) {
            throw new IllegalArgumentException("cgroup parent \"" + cgroupParent + "\" is not a systemd slice"
                    + " (NAME.slice), as the systemd cgroup driver needs");
        }
        expand(last);
        return last;
    }

    /** A container's {@code linux.cgroupsPath}: {@code slice:berth:<id>}. */
    static String cgroupsPath(String cgroupParent, String containerId) {
        return slice(cgroupParent) + ":" + PREFIX + ":" + containerId;
    }

    /** A container's scope unit. */
    static String scope(String containerId) {
        return PREFIX + "-" + containerId + ".scope";
    }

    /**
     * systemd's path of a slice below its root: {@code a-b-c.slice} is {@code /a.slice/a-b.slice/a-b-c.slice};
     * {@code -.slice} is the root, {@code /}.
     *
     * @throws IllegalArgumentException for a name systemd would refuse (no {@code .slice}, a {@code /}, an empty
     *     part between dashes)
     */
    static String expand(String slice) {
        if (slice == null || !slice.endsWith(".slice")) {
            throw new IllegalArgumentException("\"" + slice + "\" is not a slice name (NAME.slice)");
        }
        String name = slice.substring(0, slice.length() - ".slice".length());
        if (name.contains("/")) {
            throw new IllegalArgumentException("slice name \"" + slice + "\" holds a /");
        }
        if (name.equals("-")) {
            return "/";
        }
        StringBuilder path = new StringBuilder();
        StringBuilder prefix = new StringBuilder();
        for (String part : name.split("-", -1)) {
            if (part.isEmpty()) {
                throw new IllegalArgumentException("slice name \"" + slice + "\" has an empty part between dashes");
            }
            prefix.append(part);
            path.append('/').append(prefix).append(".slice");
            prefix.append('-');
        }
        return path.toString();
    }

    /**
     * The cgroup (relative to a hierarchy's mount point) systemd makes for a {@code slice:prefix:name}
     * cgroups path, below systemd's root cgroup {@code root} ({@link #root}).
     *
     * @throws IllegalArgumentException when {@code cgroupsPath} is not of that form
     */
    static String cgroup(String root, String cgroupsPath) {
        String[] parts = cgroupsPath.split(":", -1);
        if (parts.length != 3 || parts[2].isEmpty()) {
            throw new IllegalArgumentException("\"" + cgroupsPath + "\" is not a slice:prefix:name cgroups path");
        }
        String slice = parts[0].isEmpty() ? "system.slice" : parts[0];
        String unit = parts[2].endsWith(".slice") ? parts[2]
                : (parts[1].isEmpty() ? "" : parts[1] + "-") + parts[2] + ".scope";
        return under(root, expand(slice)) + "/" + unit;
    }

    /** The cgroup of a slice below systemd's root cgroup {@code root}. */
    static String sliceCgroup(String root, String slice) {
        return under(root, expand(slice));
    }

    private static String under(String root, String path) {
        String base = root == null || root.equals("/") ? "" : root.replaceAll("/+$", "");
        if (path.equals("/")) {
            return base.isEmpty() ? "/" : base;
        }
        return base + path;
    }

    /**
     * systemd's root cgroup as seen in PID 1's {@code /proc/1/cgroup} lines: its {@code name=systemd} (v1) or
     * unified ({@code 0::}) cgroup without the trailing {@code init.scope}; {@code /} on a host.
     */
    static String root(List<String> procOneCgroup) {
        String found = null;
        for (String line : procOneCgroup) {
            String[] f = line.split(":", 3);
            if (f.length < 3) {
                continue;
            }
            if (f[1].equals("name=systemd")) {
                found = f[2];
                break;
            }
            if (f[0].equals("0") && f[1].isEmpty()) {
                found = f[2];
            }
        }
        if (found == null || found.isEmpty()) {
            return "/";
        }
        String r = found.endsWith("/init.scope") ? found.substring(0, found.length() - "/init.scope".length())
                : found;
        return r.isEmpty() ? "/" : r;
    }

    /** {@link #root(List)} of this host's PID 1. */
    static String root() {
        try {
            return root(Files.readAllLines(Path.of("/proc/1/cgroup")));
        } catch (IOException e) {
            return "/";
        }
    }

    /** Whether berth may stop this slice once it holds nothing: not one of systemd's own. */
    static boolean stoppable(String slice) {
        return !SYSTEM_SLICES.contains(slice);
    }
}
