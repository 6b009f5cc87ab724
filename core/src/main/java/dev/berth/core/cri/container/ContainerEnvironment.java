package dev.berth.core.cri.container;

import dev.berth.core.cri.sandbox.RunPodSandbox;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.image.WritableLayerUsage;
import dev.berth.core.store.SandboxRecord;
import dev.berth.cri.v1.ContainerConfig;
import dev.berth.spi.ImageConfig;
import dev.berth.spi.MountSpec;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

/**
 * What core prepares for a container before the backend sees it: the image's config (resolved user included)
 * and a private root file system. Implemented over the image service.
 */
public interface ContainerEnvironment {

    /**
     * The prepared image and root file system; {@code rootfsKey} names the snapshot to release later.
     * {@code imageName} and {@code imageRef} are what the container's status reports as its image and its image's
     * reference (the repository digest where the image has one).
     */
    record Prepared(ImageConfig image, String imageId, List<MountSpec> rootfs, String rootfsKey, String imageName,
                    String imageRef) {}

    Prepared prepare(String containerId, ContainerConfig config, SandboxRecord sandbox, Handler handler,
                     Deque<RunPodSandbox.Undo> undo);

    /** Releases the root file system; idempotent. */
    void release(String rootfsKey);

    /**
     * Disk use of the writable layer of the root file system {@code rootfsKey}, from a cached reading (cheap
     * enough to ask for every container every second); empty when core prepared no root file system for it.
     */
    default Optional<WritableLayerUsage> writableLayer(String rootfsKey) {
        return Optional.empty();
    }

    /**
     * At startup, before serving: releases the root file systems no container record names (berth was killed
     * in CreateContainer after preparing the root and before writing the record). Logs what it releases.
     */
    default void reconcile(java.util.Set<String> rootfsKeys) {}

    /** The image reference passed through as it is, with no root mounts. */
    static Prepared passThrough(ContainerConfig config) {
        String ref = config.getImage().getImage();
        return new Prepared(new ImageConfig(ref, ref, List.of(), List.of(), List.of(), "", "", -1, -1, List.of(), "",
                java.util.Map.of()), ref, List.of(), "", ref, ref);
    }

    /** No image service: the image reference is passed through and the backend gets no root mounts. */
    ContainerEnvironment NONE = new ContainerEnvironment() {
        @Override
        public Prepared prepare(String containerId, ContainerConfig config, SandboxRecord sandbox, Handler handler,
                                Deque<RunPodSandbox.Undo> undo) {
            return passThrough(config);
        }

        @Override
        public void release(String rootfsKey) {}
    };
}
