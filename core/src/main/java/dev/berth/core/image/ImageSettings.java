package dev.berth.core.image;

import dev.berth.core.config.HostOs;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of the image service.
 *
 * @param root the directory holding content, snapshots and metadata; created when missing
 * @param registryConfigPath containerd-style registry host configs ({@code <path>/<host>/hosts.toml}); null = none
 * @param sandboxImage the pause image, pinned when pulled
 * @param maxConcurrentDownloads layers downloaded at the same time, over all pulls
 * @param pullProgressTimeout a download that receives no byte for this long fails with DEADLINE_EXCEEDED
 * @param maxUnpackedBytes the most bytes one layer may unpack to
 * @param maxManifestBytes the largest manifest, index or image config accepted
 * @param platformOs the os a pulled image must match (the node's)
 * @param platformArchitecture the architecture (GOARCH spelling: amd64, arm64)
 * @param platformVariant the variant, e.g. v8 for arm64; empty when none
 */
public record ImageSettings(Path root, Path registryConfigPath, String sandboxImage, int maxConcurrentDownloads,
                            Duration pullProgressTimeout, long maxUnpackedBytes, long maxManifestBytes,
                            String platformOs, String platformArchitecture, String platformVariant,
                            boolean volatileRootfs) {

    public static final String DEFAULT_SANDBOX_IMAGE = "registry.k8s.io/pause:3.9";

    public ImageSettings {
        Objects.requireNonNull(root, "root");
        sandboxImage = sandboxImage == null ? "" : sandboxImage;
        if (maxConcurrentDownloads < 1) {
            throw new IllegalArgumentException("maxConcurrentDownloads must be at least 1");
        }
        Objects.requireNonNull(pullProgressTimeout, "pullProgressTimeout");
        if (maxUnpackedBytes < 1 || maxManifestBytes < 1) {
            throw new IllegalArgumentException("size limits must be positive");
        }
        platformOs = platformOs == null || platformOs.isEmpty() ? "linux" : platformOs;
        platformArchitecture = platformArchitecture == null || platformArchitecture.isEmpty()
                ? nodeArchitecture() : platformArchitecture;
        platformVariant = platformVariant == null ? "" : platformVariant;
    }

    /**
     * Defaults: this host's os (windows on Windows, else linux), no registry config, pause 3.9, 3 downloads, 1 min
     * progress timeout, 16 GiB per layer, 4 MiB manifests, volatile writable layers.
     */
    public static ImageSettings defaults(Path root) {
        String arch = nodeArchitecture();
        return new ImageSettings(root, null, DEFAULT_SANDBOX_IMAGE, 3, Duration.ofMinutes(1), 16L << 30, 4L << 20,
                HostOs.current().imageOs(), arch, arch.equals("arm64") ? "v8" : "", true);
    }

    public ImageSettings withRegistryConfigPath(Path path) {
        return new ImageSettings(root, path, sandboxImage, maxConcurrentDownloads, pullProgressTimeout,
                maxUnpackedBytes, maxManifestBytes, platformOs, platformArchitecture, platformVariant,
                volatileRootfs);
    }

    public ImageSettings withSandboxImage(String image) {
        return new ImageSettings(root, registryConfigPath, image, maxConcurrentDownloads, pullProgressTimeout,
                maxUnpackedBytes, maxManifestBytes, platformOs, platformArchitecture, platformVariant,
                volatileRootfs);
    }

    public ImageSettings withLimits(int downloads, Duration progressTimeout, long unpackedBytes) {
        return new ImageSettings(root, registryConfigPath, sandboxImage, downloads, progressTimeout, unpackedBytes,
                maxManifestBytes, platformOs, platformArchitecture, platformVariant,
                volatileRootfs);
    }

    public ImageSettings withPlatform(String os, String architecture, String variant) {
        return new ImageSettings(root, registryConfigPath, sandboxImage, maxConcurrentDownloads, pullProgressTimeout,
                maxUnpackedBytes, maxManifestBytes, os, architecture, variant, volatileRootfs);
    }

    /** Whether containers' writable layers are mounted volatile where the kernel allows ({@code RootfsSnapshots}). */
    public ImageSettings withVolatileRootfs(boolean volatileRootfs) {
        return new ImageSettings(root, registryConfigPath, sandboxImage, maxConcurrentDownloads, pullProgressTimeout,
                maxUnpackedBytes, maxManifestBytes, platformOs, platformArchitecture, platformVariant,
                volatileRootfs);
    }

    /** The JVM's architecture in the OCI (GOARCH) spelling. */
    public static String nodeArchitecture() {
        return switch (System.getProperty("os.arch", "")) {
            case "amd64", "x86_64" -> "amd64";
            case "aarch64", "arm64" -> "arm64";
            case "ppc64le" -> "ppc64le";
            case "s390x" -> "s390x";
            case "riscv64" -> "riscv64";
            case String other -> other;
        };
    }
}
