package dev.berth.core.image;

import dev.berth.core.image.Metadata.ContainerMeta;
import dev.berth.core.image.Metadata.ImageMeta;
import dev.berth.core.image.Metadata.LayerMeta;
import dev.berth.core.util.FileTrees;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import dev.berth.spi.MountSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Containers' root file systems: a writable snapshot over an image's unpacked layers, mounted as overlay. For a
 * Windows image the root file system is the hand-off of {@link WindowsLayers}: the image's layer blobs, base first,
 * and an empty scratch directory ({@code snapshots/<id>/fs}) created and removed with the container as a writable
 * layer is; the blobs are kept while the container exists.
 *
 * <p>The writable layer is mounted with overlay's {@code volatile} option (Linux 5.10 and later) unless the config
 * says {@code images.volatile_rootfs = false}. Without it, unmounting a container's root file system syncs the whole
 * file system its upper directory is on ({@code syncfs}), so every container removal waits for whatever any other
 * process left unwritten there, and a container's own {@code fsync} calls reach the disk for a layer that is thrown
 * away with the container. A Kubernetes container's writable layer does not outlive the container, and after a
 * crash of the host its containers are not restarted but created anew, so the sync buys nothing: CRI-O mounts its
 * containers volatile for the same reason. What it costs: data a container keeps in its writable layer is not
 * durable across a crash of the host (volumes are not overlay and are unaffected), and overlay refuses to mount a
 * volatile upper directory a second time, which berth never does (a container's layer is mounted once, at create,
 * and removed with it).
 */
final class RootfsSnapshots implements AutoCloseable {
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
    private static final Pattern RELEASE = Pattern.compile("(\\d+)\\.(\\d+)");

    private final ImageStore store;
    private final WritableLayerMeter meter;
    private final boolean volatileLayers;

    RootfsSnapshots(ImageStore store, Duration writableLayerTtl, boolean volatileLayers) {
        this.store = store;
        this.meter = new WritableLayerMeter(writableLayerTtl);
        this.volatileLayers = volatileLayers;
    }

    /** Whether a kernel of this release ({@code uname -r}, as {@code os.version} has it) has overlay's volatile. */
    static boolean kernelHasVolatile(String release) {
        var m = RELEASE.matcher(release);
        if (!m.lookingAt()) {
            return false;
        }
        int major = Integer.parseInt(m.group(1));
        int minor = Integer.parseInt(m.group(2));
        return major > 5 || (major == 5 && minor >= 10);
    }

    /** A prepared container and, for a Windows image, the layers its root file system hands over. */
    private record Prepared(ContainerMeta container, List<WindowsLayers.Layer> windowsLayers) {
    }

    List<MountSpec> prepareRootfs(String key, String imageRefOrId) {
        if (key == null || !KEY.matcher(key).matches()) {
            throw BackendException.invalid("failed to prepare rootfs \"" + key + "\": invalid key");
        }
        Prepared p = store.withLock(() -> {
            ImageMeta image = store.require(imageRefOrId);
            ContainerMeta existing = store.containers.get(key);
            if (existing != null) {
                if (existing.imageId().equals(image.id())) {
                    return new Prepared(existing, image.windows() ? windowsLayers(key, image) : null);
                }
                throw new BackendException(Kind.ALREADY_EXISTS, "failed to prepare rootfs \"" + key
                        + "\": it exists for image " + existing.imageId());
            }
            if (image.windows()) {
                List<WindowsLayers.Layer> layers = windowsLayers(key, image); // checked before anything is recorded
                long id = store.newSnapshot();
                try {
                    Files.createDirectories(store.snapshotFs(id));
                } catch (IOException e) {
                    throw new BackendException(Kind.INTERNAL, "failed to prepare rootfs \"" + key + "\": "
                            + e.getMessage(), e);
                }
                ContainerMeta meta = new ContainerMeta(key, id, image.id(), List.of(), image.layerDigests());
                store.containers.put(key, meta);
                store.persist();
                return new Prepared(meta, layers);
            }
            List<Long> lowers = new ArrayList<>();
            for (String diffId : image.diffIds().reversed()) {
                LayerMeta l = store.layers.get(diffId);
                if (l == null) {
                    throw new BackendException(Kind.FAILED_PRECONDITION, "failed to prepare rootfs \"" + key
                            + "\": layer " + diffId + " of image " + image.id() + " is not unpacked; pull it again");
                }
                lowers.add(l.snapshot());
            }
            if (lowers.isEmpty()) {
                lowers.add(ImageStore.EMPTY_SNAPSHOT);
            }
            long id = store.newSnapshot();
            try {
                Files.createDirectories(store.snapshotFs(id));
                Files.createDirectories(store.snapshotDir(id).resolve("work"));
            } catch (IOException e) {
                throw new BackendException(Kind.INTERNAL, "failed to prepare rootfs \"" + key + "\": "
                        + e.getMessage(), e);
            }
            ContainerMeta meta = new ContainerMeta(key, id, image.id(), lowers, List.of());
            store.containers.put(key, meta);
            store.persist();
            return new Prepared(meta, null);
        });
        ContainerMeta c = p.container();
        if (p.windowsLayers() != null) {
            return WindowsLayers.rootfs(p.windowsLayers(), store.snapshotFs(c.snapshot()));
        }
        List<String> lower = c.lowers().stream().map(l -> store.snapshotFs(l).toString()).toList();
        Path dir = store.snapshotDir(c.snapshot());
        List<String> options = new ArrayList<>(List.of(
                "lowerdir=" + String.join(":", lower),
                "upperdir=" + dir.resolve("fs"),
                "workdir=" + dir.resolve("work")));
        if (volatileLayers) {
            options.add("volatile");
        }
        return List.of(new MountSpec("overlay", "overlay", "", options));
    }

    /**
     * Makes the image's declared volumes directories in the container's writable layer where its layers lack them
     * ({@link ImageVolumes}); before the backend mounts the root file system. A Windows container's are the
     * backend's.
     *
     * @param covered the container paths of the request's own mounts
     * @return what became of each volume the image declares
     */
    List<ImageVolumes.Outcome> ensureImageVolumes(String key, java.util.Collection<String> covered) {
        record Found(ContainerMeta container, ImageMeta image) {
        }
        Found f = store.withLock(() -> {
            ContainerMeta c = store.containers.get(key);
            return c == null ? null : new Found(c, store.images.get(c.imageId()));
        });
        if (f == null) {
            throw new BackendException(Kind.NOT_FOUND, "no root file system \"" + key + "\" is prepared");
        }
        if (f.image() == null || f.image().windows()) {
            return List.of();
        }
        byte[] config = store.content.readOrEmpty(f.image().configDigest());
        if (!new String(config, java.nio.charset.StandardCharsets.ISO_8859_1).contains("\"Volumes\"")) {
            return List.of(); // most images declare none: no parse
        }
        List<String> volumes = ImageVolumes.declared(Metadata.parseObject(config,
                "config of image \"" + f.image().id() + "\"").path("config"));
        if (volumes.isEmpty()) {
            return List.of();
        }
        List<Path> lowers = f.container().lowers().stream().map(store::snapshotFs).toList();
        try {
            return ImageVolumes.ensure(store.snapshotFs(f.container().snapshot()), lowers, volumes, covered);
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to make the image's volumes in the root file system of "
                    + "\"" + key + "\": " + e.getMessage(), e);
        }
    }

    /** A Windows image's layers as the backend gets them, base first; FAILED_PRECONDITION when a blob is gone. */
    private List<WindowsLayers.Layer> windowsLayers(String key, ImageMeta image) {
        List<WindowsLayers.Layer> out = new ArrayList<>();
        for (int i = 0; i < image.layerDigests().size(); i++) {
            String digest = image.layerDigests().get(i);
            if (!store.content.has(digest) || image.layerMediaTypes().size() != image.layerDigests().size()) {
                throw new BackendException(Kind.FAILED_PRECONDITION, "failed to prepare rootfs \"" + key
                        + "\": layer " + digest + " of image " + image.id() + " is not stored; pull it again");
            }
            out.add(new WindowsLayers.Layer(store.content.path(digest), digest, image.diffIds().get(i),
                    image.layerMediaTypes().get(i)));
        }
        return out;
    }

    Set<String> rootfsKeys() {
        return store.withLock(() -> Set.copyOf(store.containers.keySet()));
    }

    void releaseRootfs(String key) {
        ContainerMeta c = store.withLock(() -> {
            ContainerMeta m = store.containers.remove(key);
            if (m != null) {
                store.persist();
            }
            return m;
        });
        if (c != null) {
            meter.forget(key);
            try {
                FileTrees.deleteTree(store.snapshotDir(c.snapshot()));
            } catch (IOException e) {
                throw new BackendException(Kind.INTERNAL, "failed to release rootfs \"" + key + "\": "
                        + e.getMessage(), e);
            }
        }
    }

    Optional<WritableLayerUsage> writableLayer(String key) {
        Long id = store.withLock(() -> {
            ContainerMeta c = store.containers.get(key);
            return c == null ? null : c.snapshot();
        });
        if (id == null) {
            return Optional.empty();
        }
        return Optional.of(meter.get(key, store.snapshotFs(id), store.snapshots));
    }

    @Override
    public void close() {
        meter.close();
    }
}
