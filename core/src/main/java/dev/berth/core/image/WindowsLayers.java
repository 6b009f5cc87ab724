package dev.berth.core.image;

import dev.berth.spi.MountSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How a Windows image's layers reach the windows-hcs backend, through the SPI as it is (2.0.0, no change).
 *
 * <p>A Windows layer is a tar whose entries live under {@code Files/} (the file system), {@code Hives/} (registry
 * hives) and, in base layers, {@code UtilityVM/}. It is imported on the host with the HCS layer API
 * ({@code ImportLayer} through the backup semantics hcsshim's {@code wclayer} uses), which only Windows has: core's
 * {@link LayerUnpacker} (overlay directories, whiteouts, Linux ownership) must not unpack it. So for a Windows image
 * core keeps each layer as the blob it pulled (compressed as the registry sent it) in its content store, and the
 * container's root file system ({@code ContainerSpec.rootfs()}, {@code SandboxSpec.rootfs()}: a list of
 * {@link MountSpec}) carries, in order:
 *
 * <ol>
 *   <li>one {@code windows-layer} entry per layer, base layer first: {@code source} the blob's path,
 *       {@code target} empty, {@code options} {@code digest=sha256:...} (the blob), {@code diffid=sha256:...} (the
 *       uncompressed tar, the layer's identity to key an import by) and {@code mediatype=...} (how the blob is
 *       compressed: gzip, zstd or none, and whether it is a foreign layer);</li>
 *   <li>one {@code windows-scratch} entry: {@code source} an empty directory private to this container, for the
 *       backend's scratch (writable) layer, e.g. its {@code sandbox.vhdx}.</li>
 * </ol>
 *
 * <p>The backend imports each diff id once into a layer store of its own (under its {@code BackendContext.rootDir()},
 * shared by all its generations), then prepares the container's storage from the imported parents and the scratch
 * directory. The blobs are core's and read-only to the backend; an imported layer is the backend's to delete when
 * no container of its uses it. A backend that finds any other mount type in a Windows container's rootfs refuses
 * it; the runc backend never sees these types, as a Linux node never pulls a Windows image
 * ({@link PlatformMatcher}).
 */
public final class WindowsLayers {
    public static final String LAYER = "windows-layer";
    public static final String SCRATCH = "windows-scratch";

    private WindowsLayers() {}

    /** One layer as pulled: its blob, its digests and media type. */
    public record Layer(Path blob, String digest, String diffId, String mediaType) {}

    /** The rootfs entries for {@code layers} (base first) and the container's scratch directory. */
    public static List<MountSpec> rootfs(List<Layer> layers, Path scratchDir) {
        List<MountSpec> out = new ArrayList<>();
        for (Layer l : layers) {
            ContentStore.checkDigest(l.digest());
            ContentStore.checkDigest(l.diffId());
            out.add(new MountSpec(LAYER, l.blob().toString(), "", List.of("digest=" + l.digest(),
                    "diffid=" + l.diffId(), "mediatype=" + l.mediaType())));
        }
        out.add(new MountSpec(SCRATCH, scratchDir.toString(), "", List.of()));
        return out;
    }

    /** The layers of a rootfs built by {@link #rootfs}, in order; empty when it is not a Windows rootfs. */
    public static Optional<List<Layer>> layers(List<MountSpec> rootfs) {
        if (rootfs.isEmpty() || !rootfs.getLast().type().equals(SCRATCH)) {
            return Optional.empty();
        }
        List<Layer> out = new ArrayList<>();
        for (MountSpec m : rootfs.subList(0, rootfs.size() - 1)) {
            if (!m.type().equals(LAYER)) {
                return Optional.empty();
            }
            out.add(new Layer(Path.of(m.source()), option(m, "digest"), option(m, "diffid"), option(m, "mediatype")));
        }
        return Optional.of(out);
    }

    private static String option(MountSpec m, String key) {
        return m.options().stream().filter(o -> o.startsWith(key + "=")).map(o -> o.substring(key.length() + 1))
                .findFirst().orElse("");
    }

    /** Whether an image config ({@code os}) is a Windows image, whose layers go to the backend unpacked. */
    public static boolean isWindowsImage(String configOs) {
        return "windows".equals(configOs);
    }

    /**
     * Whether the first entries of a layer tar are a Windows layer's ({@code Files/}, {@code Hives/},
     * {@code UtilityVM/} and nothing else at the top), so that unpacking it as a Linux layer can be refused with a
     * message that says why.
     */
    public static boolean isWindowsLayerTar(List<String> entryNames) {
        boolean windows = false;
        for (String n : entryNames) {
            String top = n.startsWith("./") ? n.substring(2) : n;
            int slash = top.indexOf('/');
            String first = slash < 0 ? top : top.substring(0, slash);
            switch (first) {
                case "Files", "Hives", "UtilityVM" -> windows = true;
                default -> {
                    return false;
                }
            }
        }
        return windows;
    }
}
