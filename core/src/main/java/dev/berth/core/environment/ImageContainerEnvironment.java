package dev.berth.core.environment;

import dev.berth.core.cri.container.ContainerEnvironment;
import dev.berth.core.cri.sandbox.RunPodSandbox;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.image.Image;
import dev.berth.core.image.ImageService;
import dev.berth.core.image.WritableLayerUsage;
import dev.berth.core.store.SandboxRecord;
import dev.berth.cri.v1.ContainerConfig;
import dev.berth.cri.v1.Mount;
import dev.berth.spi.BackendException;
import dev.berth.spi.ImageConfig;
import dev.berth.spi.MountSpec;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

/**
 * Containers' images from the image service: the image must have been pulled (the kubelet pulls before it
 * creates), its config and user are resolved, and the container gets its own overlay root.
 */
public final class ImageContainerEnvironment implements ContainerEnvironment {
    private static final System.Logger LOG = System.getLogger(ImageContainerEnvironment.class.getName());
    private final ImageService images;

    public ImageContainerEnvironment(ImageService images) {
        this.images = images;
    }

    @Override
    public Prepared prepare(String containerId, ContainerConfig config, SandboxRecord sandbox, Handler handler,
                            Deque<RunPodSandbox.Undo> undo) {
        if (!handler.backend().features().usesImages()) {
            return ContainerEnvironment.passThrough(config);
        }
        String ref = config.getImage().getImage();
        Image image = images.find(ref).orElseThrow(() -> new BackendException(BackendException.Kind.NOT_FOUND,
                "image \"" + ref + "\" is not present; pull it first"));
        ImageConfig imageConfig = images.imageConfig(image.id(), requestedUser(config));
        List<MountSpec> rootfs = images.prepareRootfs(containerId, image.id());
        undo.push(new RunPodSandbox.Undo("release the container root file system",
                () -> images.releaseRootfs(containerId)));
        images.ensureImageVolumes(containerId, config.getMountsList().stream().map(Mount::getContainerPath).toList());
        String asked = askedFor(config);
        return new Prepared(imageConfig, image.id(), rootfs, containerId, image.reportedName(asked),
                image.reportedRef(asked));
    }

    /**
     * The image as the pod asked for it: the kubelet sends the image id it pulled as {@code image} and the pod's own
     * reference as {@code user_specified_image}, which is then the name and repository the status reports.
     */
    static String askedFor(ContainerConfig config) {
        String user = config.getImage().getUserSpecifiedImage();
        return user.isEmpty() ? config.getImage().getImage() : user;
    }

    /**
     * The user the request asks to run as, to be resolved in the image instead of its {@code User}:
     * {@code run_as_username}, else {@code run_as_user} as a number, else empty for the image's own. The
     * group is not part of it: {@code run_as_group} overrides the primary gid afterwards and leaves the user's
     * memberships as they are.
     */
    public static String requestedUser(ContainerConfig config) {
        var sc = config.getLinux().getSecurityContext();
        if (!sc.getRunAsUsername().isEmpty()) {
            return sc.getRunAsUsername();
        }
        return sc.hasRunAsUser() ? Long.toString(sc.getRunAsUser().getValue()) : "";
    }

    /** Container roots are keyed by container id; sandbox roots ({@code sandbox-…}) are the sandbox side's. */
    @Override
    public void reconcile(java.util.Set<String> rootfsKeys) {
        for (String key : images.rootfsKeys()) {
            if (!key.startsWith(NodeSandboxEnvironment.ROOTFS_PREFIX) && !rootfsKeys.contains(key)) {
                LOG.log(System.Logger.Level.WARNING, "releasing the root file system of container {0}, which has no "
                        + "record (berth was stopped while creating it, or the state directory was lost, as at a "
                        + "reboot)", key);
                try {
                    images.releaseRootfs(key);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.ERROR, "cannot release root file system {0}: {1}", key, e.getMessage());
                }
            }
        }
    }

    @Override
    public void release(String rootfsKey) {
        if (!rootfsKey.isEmpty()) {
            images.releaseRootfs(rootfsKey);
        }
    }

    @Override
    public Optional<WritableLayerUsage> writableLayer(String rootfsKey) {
        return rootfsKey.isEmpty() ? Optional.empty() : images.writableLayer(rootfsKey);
    }
}
