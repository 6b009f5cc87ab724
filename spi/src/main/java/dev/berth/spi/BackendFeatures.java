package dev.berth.spi;

/**
 * What a handler supports and needs: the static facts about one backend instance, reported to the kubelet
 * through CRI's {@code RuntimeHandlerFeatures} and {@code RuntimeConfig}, and read by core to decide how it
 * prepares pods and containers for the handler. The facts that depend on the pod are in {@link Pod}, which
 * core asks for each pod through {@link RuntimeBackend#podFeatures}.
 *
 * @param recursiveReadOnlyMounts recursive read-only mounts work (kernel and runtime both support them)
 * @param userNamespaces pods may ask for a user namespace
 * @param cgroupDriver the cgroup driver this handler uses, for CRI's {@code RuntimeConfig}
 * @param usesImages the backend runs sandboxes and containers from images. A backend that does not (such as the
 *     test fake) sets false: core then resolves no images and prepares no root file systems for its pods, and
 *     never asks {@link Pod#runsSandboxImage()}
 * @param sandboxImage the sandbox image this handler wants instead of core's default (set by its options), or
 *     empty for core's default. Core pulls and pins it for every pod of the handler
 */
public record BackendFeatures(boolean recursiveReadOnlyMounts, boolean userNamespaces, CgroupDriver cgroupDriver,
                              boolean usesImages, String sandboxImage) {
    public enum CgroupDriver { CGROUPFS, SYSTEMD }

    /**
     * No optional kernel feature, the cgroupfs driver, and runs from images with core's sandbox image: the
     * features of a plain OCI backend, to copy from.
     */
    public static final BackendFeatures NONE = new BackendFeatures(false, false, CgroupDriver.CGROUPFS, true, "");

    public BackendFeatures {
        cgroupDriver = cgroupDriver == null ? CgroupDriver.CGROUPFS : cgroupDriver;
        sandboxImage = Checks.text(sandboxImage);
    }

    /**
     * What {@link RuntimeBackend#createSandbox} needs from core for one pod. These are answers, not settings: they
     * can depend on the pod (its namespaces, its sysctls) and on the handler's options in ways a fixed rule in
     * the SPI could not express, so a backend computes them from the {@link SandboxSpec} (the runc backend's
     * decision whether a pod gets a pause container is an example). The default, {@link #of}, is right for a
     * backend that runs every sandbox from the sandbox image and reads the pod network when it creates the
     * sandbox, as a VM does.
     *
     * @param runsSandboxImage the sandbox of this pod runs from the sandbox image, that is, uses
     *     {@link SandboxSpec#rootfs()} and {@link SandboxSpec#image()}. When false (the runc backend's pods without
     *     a pause container) core still pulls and pins the sandbox image, as the kubelet expects, but prepares no
     *     root file system and the spec carries none. Only read when {@link BackendFeatures#usesImages()}
     * @param networkBeforeCreate {@code createSandbox} needs the pod network in place: the interfaces and
     *     addresses CNI puts in the pod's network namespace. A VM backend reads them when it creates the VM. A
     *     backend whose sandbox only joins the namespace answers false; core then runs CNI while the backend
     *     creates and starts the sandbox, and finishes it before RunPodSandbox returns (the runc backend answers
     *     true only for pods with {@code net.*} sysctls, which it writes at create, after the CNI plugins' own).
     *     Either way the namespace exists and is pinned at {@link SandboxSpec#netnsPath()} when
     *     {@code createSandbox} is called
     */
    public record Pod(boolean runsSandboxImage, boolean networkBeforeCreate) {
        /** The default answer for a backend with these features: its sandbox image if it uses images; network first. */
        public static Pod of(BackendFeatures features) {
            return new Pod(features.usesImages(), true);
        }
    }
}
