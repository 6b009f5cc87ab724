package dev.berth.spi;

/**
 * What a handler really supports, reported to the kubelet through CRI's {@code RuntimeHandlerFeatures} and
 * used by core to pick defaults.
 *
 * @param recursiveReadOnlyMounts recursive read-only mounts work (kernel and runtime both support them)
 * @param userNamespaces pods may ask for a user namespace
 * @param cgroupDriver the cgroup driver this handler uses, for CRI's {@code RuntimeConfig}
 */
public record BackendFeatures(boolean recursiveReadOnlyMounts, boolean userNamespaces, CgroupDriver cgroupDriver) {
    public enum CgroupDriver { CGROUPFS, SYSTEMD }

    public static final BackendFeatures NONE = new BackendFeatures(false, false, CgroupDriver.CGROUPFS);

    public BackendFeatures {
        cgroupDriver = cgroupDriver == null ? CgroupDriver.CGROUPFS : cgroupDriver;
    }
}
