package dev.berth.spi;

/** A host path mounted into a container, from CRI's {@code Mount}. */
public record ContainerMount(
        String containerPath,
        String hostPath,
        boolean readOnly,
        boolean recursiveReadOnly,
        Propagation propagation,
        boolean selinuxRelabel,
        String imageReference) {

    /** Mount propagation, as in CRI. */
    public enum Propagation { PRIVATE, HOST_TO_CONTAINER, BIDIRECTIONAL }

    public ContainerMount {
        containerPath = Checks.id(containerPath, "container path");
        hostPath = Checks.text(hostPath);
        propagation = propagation == null ? Propagation.PRIVATE : propagation;
        imageReference = Checks.text(imageReference);
        if (recursiveReadOnly && !readOnly) {
            throw new IllegalArgumentException("recursive read-only mount of " + containerPath + " must also be read-only");
        }
    }
}
