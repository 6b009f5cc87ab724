package dev.berth.core.image;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.core.image.Metadata.ImageMeta;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/** What the CRI asks of the store's records: list, status, remove, pin, file-system usage, and run configs. */
final class ImageQueries {
    private final ImageStore store;

    ImageQueries(ImageStore store) {
        this.store = store;
    }

    Optional<Image> find(String refOrIdOrDigest) {
        return store.withLock(() -> store.findMeta(refOrIdOrDigest).map(store::toImage));
    }

    /**
     * The images a list filter names: for a repository without a tag or digest, every image with a tag or digest in
     * it; else, or when there is none, the one {@link #find} finds.
     */
    List<Image> matching(String filter) {
        return store.withLock(() -> {
            var repository = ImageReference.tryParseRepository(filter);
            if (repository.isPresent()) {
                String tagged = repository.get().name() + ":";
                String digested = repository.get().name() + "@";
                List<Image> inRepository = store.images.values().stream()
                        .filter(m -> m.repoTags().stream().anyMatch(t -> t.startsWith(tagged))
                                || m.repoDigests().stream().anyMatch(d -> d.startsWith(digested)))
                        .map(store::toImage).toList();
                if (!inRepository.isEmpty()) {
                    return inRepository;
                }
            }
            return store.findMeta(filter).map(store::toImage).stream().toList();
        });
    }

    List<Image> list() {
        return store.withLock(() -> store.images.values().stream().map(store::toImage).toList());
    }

    /** Drops an image's record; true when there was one. */
    boolean remove(String refOrIdOrDigest) {
        return store.withLock(() -> {
            Optional<ImageMeta> m = store.findMeta(refOrIdOrDigest);
            if (m.isEmpty()) {
                return false;
            }
            store.images.remove(m.get().id());
            store.persist();
            return true;
        });
    }

    void pin(String imageId, boolean pinned) {
        store.withLock(() -> {
            ImageMeta m = store.require(imageId);
            if (m.pinned() == pinned) {
                return null; // every RunPodSandbox pins its sandbox image: do not rewrite the metadata each time
            }
            store.images.put(m.id(), ImageStore.withRefs(m, m.repoTags(), m.repoDigests(), pinned));
            store.persist();
            return null;
        });
    }

    FsUsage usage() {
        long[] image = {0, 0};
        List<Long> uppers = new ArrayList<>();
        store.withLock(() -> {
            store.layers.values().forEach(l -> {
                image[0] += l.bytes();
                image[1] += l.inodes();
            });
            store.containers.values().forEach(c -> uppers.add(c.snapshot()));
            return null;
        });
        long[] blobs = WritableLayerMeter.walk(store.content.blobsDir());
        long[] ctr = {0, 0};
        for (long id : uppers) {
            long[] u = WritableLayerMeter.walk(store.snapshotFs(id));
            ctr[0] += u[0];
            ctr[1] += u[1];
        }
        return new FsUsage(Instant.now(), store.root, image[0] + blobs[0], image[1] + blobs[1], store.snapshots,
                ctr[0], ctr[1]);
    }

    dev.berth.spi.ImageConfig imageConfig(String imageRefOrId, String runAs) {
        ImageMeta image = store.withLock(() -> store.require(imageRefOrId));
        JsonNode cfg = Metadata.parseObject(store.content.readOrEmpty(image.configDigest()),
                "config of image \"" + image.id() + "\"").path("config");
        List<Path> lowers = store.withLock(() -> image.diffIds().reversed().stream()
                .map(store.layers::get).filter(Objects::nonNull).map(l -> store.snapshotFs(l.snapshot())).toList());
        String spec = runAs == null || runAs.isEmpty() ? cfg.path("User").asText("") : runAs;
        // A Windows user (ContainerUser, ContainerAdministrator) is a name the container's own system resolves;
        // the image has no /etc/passwd and its layers are not unpacked here.
        UserResolver.Resolved user = image.windows() ? new UserResolver.Resolved(0, 0, List.of())
                : UserResolver.resolve(spec, image.id(), path -> ImageFiles.read(lowers, path, 4L << 20));
        Map<String, String> labels = new LinkedHashMap<>();
        cfg.path("Labels").properties().forEach(e -> labels.put(e.getKey(), e.getValue().asText()));
        String ref = image.repoTags().isEmpty() ? image.repoDigests().isEmpty() ? image.id()
                : image.repoDigests().getFirst() : image.repoTags().getFirst();
        return new dev.berth.spi.ImageConfig(image.id(), ref, strings(cfg.path("Entrypoint")), strings(cfg.path("Cmd")),
                strings(cfg.path("Env")), cfg.path("WorkingDir").asText(""), spec, user.uid(), user.gid(),
                user.additionalGids(), cfg.path("StopSignal").asText(""), labels);
    }

    private static List<String> strings(JsonNode n) {
        List<String> out = new ArrayList<>();
        n.forEach(x -> out.add(x.asText()));
        return out;
    }
}
