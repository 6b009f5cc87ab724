package dev.berth.spi;

/** Where a Linux namespace comes from, as in CRI's {@code NamespaceMode}. */
public enum NamespaceMode {
    /** Shared by every container of the pod. */
    POD,
    /** Private to the container. */
    CONTAINER,
    /** The host's own namespace. */
    NODE,
    /** The namespace of another container of the pod ({@code target_id}). */
    TARGET
}
