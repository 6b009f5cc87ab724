package dev.berth.spi;

import java.util.Optional;

/**
 * Optional: the OCI runtime spec a backend handed its runtime for a container or for a pod's sandbox. Core shows it
 * as {@code runtimeSpec} in the info of a verbose ContainerStatus or PodSandboxStatus ({@code crictl inspect},
 * {@code crictl inspectp}), where containerd shows its own; it is for people reading a node, and the kubelet never
 * asks for it. A backend whose runtime takes no OCI spec leaves this interface out. The common rules of
 * {@link RuntimeBackend} (threading, errors) apply.
 */
public interface SpecReading {
    /**
     * The spec the container was created with, as JSON text. Resources changed since by
     * {@link RuntimeBackend#updateContainer} need not be in it (core reports those in the status itself).
     *
     * @return empty when the backend kept no spec for the container
     * @throws BackendException {@code NOT_FOUND} if the container is unknown
     */
    Optional<String> containerRuntimeSpec(String containerId);

    /**
     * The spec of the pod's sandbox (its pause container, or what stands for it), as JSON text.
     *
     * @return empty when the backend kept none, e.g. for a pod whose sandbox has no container of its own
     * @throws BackendException {@code NOT_FOUND} if the pod is unknown
     */
    Optional<String> sandboxRuntimeSpec(String sandboxId);
}
