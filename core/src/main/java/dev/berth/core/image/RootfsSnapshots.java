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

/** Containers' root file systems: a writable snapshot over an image's unpacked layers, mounted as overlay. */
final class RootfsSnapshots implements AutoCloseable {
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");

    private final ImageStore store;
    private final WritableLayerMeter meter;

    RootfsSnapshots(ImageStore store, Duration writableLayerTtl) {
        this.store = store;
        this.meter = new WritableLayerMeter(writableLayerTtl);
    }

    List<MountSpec> prepareRootfs(String key, String imageRefOrId) {
        if (key == null || !KEY.matcher(key).matches()) {
            throw BackendException.invalid("failed to prepare rootfs \"" + key + "\": invalid key");
        }
        ContainerMeta c = store.withLock(() -> {
            ImageMeta image = store.require(imageRefOrId);
            ContainerMeta existing = store.containers.get(key);
            if (existing != null) {
                if (existing.imageId().equals(image.id())) {
                    return existing;
                }
                throw new BackendException(Kind.ALREADY_EXISTS, "failed to prepare rootfs \"" + key
                        + "\": it exists for image " + existing.imageId());
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
            ContainerMeta meta = new ContainerMeta(key, id, image.id(), lowers);
            store.containers.put(key, meta);
            store.persist();
            return meta;
        });
        List<String> lower = c.lowers().stream().map(l -> store.snapshotFs(l).toString()).toList();
        Path dir = store.snapshotDir(c.snapshot());
        return List.of(new MountSpec("overlay", "overlay", "", List.of(
                "lowerdir=" + String.join(":", lower),
                "upperdir=" + dir.resolve("fs"),
                "workdir=" + dir.resolve("work"))));
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
