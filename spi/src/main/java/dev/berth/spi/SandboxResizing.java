package dev.berth.spi;

/**
 * Optional: resize a pod's sandbox-level resources in place, for CRI's {@code UpdatePodSandboxResources} (the
 * kubelet's in-place pod resize). The common rules of {@link RuntimeBackend} (threading, errors) apply.
 */
public interface SandboxResizing {
    /**
     * Applies new pod-level limits: {@code overhead} plus {@code resources} (the sum of the containers'), as
     * {@link SandboxSpec#overhead()} and {@link SandboxSpec#resources()} at create. A field left at its "unset"
     * value keeps the limit in force. Core holds the sandbox's lock meanwhile. Repeatable: applying the same
     * limits again changes nothing. A failed update may have applied part of the limits; the kubelet retries.
     *
     * @throws BackendException {@code NOT_FOUND} if the sandbox is unknown; {@code INVALID_ARGUMENT} for a value
     *     the kernel refuses
     */
    void updateSandboxResources(String sandboxId, LinuxResources overhead, LinuxResources resources);
}
