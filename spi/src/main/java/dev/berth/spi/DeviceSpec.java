package dev.berth.spi;

/** A host device made available in a container, from CRI's {@code Device}. */
public record DeviceSpec(String containerPath, String hostPath, String permissions) {
    public DeviceSpec {
        containerPath = Checks.id(containerPath, "device container path");
        hostPath = Checks.id(hostPath, "device host path");
        permissions = permissions == null || permissions.isEmpty() ? "rwm" : permissions;
    }
}
