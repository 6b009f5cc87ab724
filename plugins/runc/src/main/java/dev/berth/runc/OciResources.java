package dev.berth.runc;

import dev.berth.oci.spec.RuntimeSpec.Resources;
import dev.berth.oci.spec.SpecMapper;
import dev.berth.spi.LinuxResources;
import java.nio.file.Path;

/**
 * The cgroup side of an OCI spec: where a pod's and a container's cgroups go ({@code linux.cgroupsPath}) and
 * the limits of an update ({@code runc update}; a spec's own are {@link SpecMapper}'s).
 */
public final class OciResources {
    private OciResources() {}

    /** The pod's own cgroup (cgroupfs driver): {@code <cgroup_parent or /berth>/<sandbox-id>}. */
    public static String podCgroup(String cgroupParent, String sandboxId) {
        String parent = cgroupParent == null || cgroupParent.isBlank() ? "/berth" : cgroupParent;
        if (!parent.startsWith("/")) {
            parent = "/" + parent;
        }
        if (parent.endsWith("/")) {
            parent = parent.substring(0, parent.length() - 1);
        }
        return parent + "/" + sandboxId;
    }

    /**
     * A container's {@code cgroupsPath}: under the pod cgroup with cgroupfs; {@code slice:prefix:name} with
     * systemd, where the slice is the pod's cgroup parent when it names a slice.
     */
    public static String cgroupsPath(boolean systemd, String cgroupParent, String sandboxId, String containerId) {
        if (systemd) {
            String slice = cgroupParent != null && cgroupParent.endsWith(".slice")
                    ? Path.of(cgroupParent).getFileName().toString() : "system.slice";
            return slice + ":berth:" + containerId;
        }
        return podCgroup(cgroupParent, sandboxId) + "/" + containerId;
    }

    /** Resources for {@code runc update --resources -}: the limits, without devices. */
    public static Resources updateResources(LinuxResources r) {
        return SpecMapper.resources(r);
    }
}
