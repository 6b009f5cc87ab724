package dev.berth.runc;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.oci.ResourceLimits;
import dev.berth.spi.LinuxResources;
import java.nio.file.Path;
import java.util.List;

/**
 * The cgroup side of an OCI spec: where a pod's and a container's cgroups go ({@code linux.cgroupsPath}) and
 * what limits they get ({@code linux.resources}, also the input of {@code runc update}).
 */
public final class OciResources {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

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

    /**
     * The spec's {@code linux.resources}: device rules (all denied but {@code devices}, or all allowed for a
     * privileged container), then the limits ({@link ResourceLimits}).
     */
    static ObjectNode resources(LinuxResources r, List<OciSpecs.Device> devices, boolean privileged) {
        ObjectNode res = F.objectNode();
        ArrayNode devs = res.putArray("devices");
        ObjectNode deny = devs.addObject();
        deny.put("allow", privileged);
        deny.put("access", "rwm");
        if (!privileged) {
            for (OciSpecs.Device d : devices) {
                ObjectNode a = devs.addObject();
                a.put("allow", true);
                a.put("type", d.type());
                a.put("major", d.major());
                a.put("minor", d.minor());
                a.put("access", d.permissions());
            }
        }
        res.setAll((ObjectNode) OciSpecs.JSON.valueToTree(ResourceLimits.toOci(r)));
        return res;
    }

    /** Resources for {@code runc update --resources -}: the same shape, without devices. */
    public static ObjectNode updateResources(LinuxResources r) {
        ObjectNode res = resources(r, List.of(), false);
        res.remove("devices");
        return res;
    }
}
