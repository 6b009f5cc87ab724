package dev.berth.runc;

import dev.berth.oci.spec.RuntimeSpec.Resources;
import dev.berth.oci.spec.SpecMapper;
import dev.berth.spi.LinuxResources;

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
     * A container's {@code cgroupsPath}: under the pod cgroup with cgroupfs; {@code slice:berth:<id>} with
     * systemd, where the slice is the last element of the pod's cgroup parent ({@link SystemdCgroups#slice}). A
     * create refuses a pod whose parent names no slice; a spec made for one anyway goes to {@code system.slice}.
     */
    public static String cgroupsPath(boolean systemd, String cgroupParent, String sandboxId, String containerId) {
        if (systemd) {
            try {
                return SystemdCgroups.cgroupsPath(cgroupParent, containerId);
            } catch (IllegalArgumentException e) {
                return SystemdCgroups.cgroupsPath("", containerId);
            }
        }
        return podCgroup(cgroupParent, sandboxId) + "/" + containerId;
    }

    /** Resources for {@code runc update --resources -}: the limits, without devices. */
    public static Resources updateResources(LinuxResources r) {
        return SpecMapper.resources(r);
    }
}
