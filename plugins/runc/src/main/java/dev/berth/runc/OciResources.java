package dev.berth.runc;

import dev.berth.oci.spec.RuntimeSpec.DeviceRule;
import dev.berth.oci.spec.RuntimeSpec.Resources;
import dev.berth.oci.spec.SpecMapper;
import dev.berth.spi.LinuxResources;
import java.util.ArrayList;
import java.util.List;

/**
 * The cgroup side of an OCI spec: where a pod's and a container's cgroups go ({@code linux.cgroupsPath}) and
 * what limits they get ({@code linux.resources}, also the input of {@code runc update}).
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

    /**
     * The spec's {@code linux.resources}: the limits ({@link SpecMapper#resources}) and the device rules: all
     * denied but {@code devices}, or all allowed for a privileged container.
     */
    static Resources resources(LinuxResources r, List<OciSpecs.Device> devices, boolean privileged) {
        List<DeviceRule> rules = new ArrayList<>();
        rules.add(new DeviceRule(privileged, null, null, null, "rwm"));
        if (!privileged) {
            for (OciSpecs.Device d : devices) {
                rules.add(new DeviceRule(true, d.type(), d.major(), d.minor(), d.permissions()));
            }
        }
        return SpecMapper.resources(r).withDevices(List.copyOf(rules));
    }

    /** Resources for {@code runc update --resources -}: the limits, without devices. */
    public static Resources updateResources(LinuxResources r) {
        return SpecMapper.resources(r);
    }
}
