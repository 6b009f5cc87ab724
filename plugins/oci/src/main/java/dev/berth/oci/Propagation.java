package dev.berth.oci;

import dev.berth.spi.ContainerMount;
import java.util.List;
import java.util.Optional;

/** Mount propagation of a container's root, from the propagation its CRI mounts ask for. */
public final class Propagation {
    private Propagation() {}

    /**
     * The OCI {@code linux.rootfsPropagation} a container needs: the root must propagate too, or a bidirectional
     * (rshared) or host-to-container (rslave) mount stops at it. Empty when every mount is private.
     */
    public static Optional<String> rootfs(List<ContainerMount> mounts) {
        if (mounts.stream().anyMatch(m -> m.propagation() == ContainerMount.Propagation.BIDIRECTIONAL)) {
            return Optional.of("rshared");
        }
        if (mounts.stream().anyMatch(m -> m.propagation() == ContainerMount.Propagation.HOST_TO_CONTAINER)) {
            return Optional.of("rslave");
        }
        return Optional.empty();
    }
}
