package dev.berth.spi;

/** Optional: resize a pod's sandbox-level resources in place, for CRI's {@code UpdatePodSandboxResources}. */
public interface SandboxResizing {
    void updateSandboxResources(String sandboxId, LinuxResources overhead, LinuxResources resources);
}
