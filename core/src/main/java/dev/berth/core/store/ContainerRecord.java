package dev.berth.core.store;

import java.time.Instant;
import java.util.Map;

/**
 * What core remembers about a container, persisted across restarts.
 *
 * @param image the image reference the kubelet asked for
 * @param imageId the resolved image id ({@code sha256:...}), or the reference when no image store resolved it
 * @param config the CRI {@code ContainerConfig} as sent (runtime.v1 wire format)
 * @param rootfsKey the key of the container's root file system snapshot, empty if none
 * @param imageName the image's name as the container's status reports it, empty in records written before berth
 *     kept it (the status then reports {@code image})
 * @param imageRef the image's reference as the status reports it (its repository digest where it has one), empty in
 *     records written before berth kept it (the status then reports {@code imageId})
 */
public record ContainerRecord(
        String id,
        String sandboxId,
        String nameKey,
        String name,
        int attempt,
        String image,
        String imageId,
        Map<String, String> labels,
        Map<String, String> annotations,
        Instant createdAt,
        String logPath,
        byte[] config,
        String rootfsKey,
        String imageName,
        String imageRef) {

    public ContainerRecord {
        labels = labels == null ? Map.of() : Map.copyOf(labels);
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
        config = config == null ? new byte[0] : config;
        rootfsKey = rootfsKey == null ? "" : rootfsKey;
        imageName = imageName == null ? "" : imageName;
        imageRef = imageRef == null ? "" : imageRef;
    }

    /** A record that reports its image as {@code image} and {@code imageId}. */
    public ContainerRecord(String id, String sandboxId, String nameKey, String name, int attempt, String image,
                           String imageId, Map<String, String> labels, Map<String, String> annotations,
                           Instant createdAt, String logPath, byte[] config, String rootfsKey) {
        this(id, sandboxId, nameKey, name, attempt, image, imageId, labels, annotations, createdAt, logPath, config,
                rootfsKey, "", "");
    }

    /** The image's name for the container's status. */
    public String reportedImage() {
        return imageName.isEmpty() ? image : imageName;
    }

    /** The image's reference for the container's status. */
    public String reportedImageRef() {
        return imageRef.isEmpty() ? imageId : imageRef;
    }

    /** This record with another stored CRI config (e.g. after UpdateContainerResources). */
    public ContainerRecord withConfig(byte[] newConfig) {
        return new ContainerRecord(id, sandboxId, nameKey, name, attempt, image, imageId, labels, annotations,
                createdAt, logPath, newConfig, rootfsKey, imageName, imageRef);
    }
}
