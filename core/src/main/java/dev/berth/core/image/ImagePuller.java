package dev.berth.core.image;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.core.image.Metadata.ImageMeta;
import dev.berth.core.image.LayerJobs.LayerJob;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * One pull from the registry into the store: the reference's manifest (through an index to this node's platform),
 * the config, then every layer in parallel ({@link LayerFetcher}), and the image recorded last, once all its
 * content is stored and unpacked. A Windows image's layers (config {@code os: windows}) are only stored and checked:
 * they go to the backend as blobs ({@link WindowsLayers}). A pull refused for its content or failing locally has what it wrote discarded
 * ({@link ImageGc#discard}); one cut short by the network keeps its verified blobs and layers for a retry.
 */
final class ImagePuller implements AutoCloseable {
    private static final Set<String> CONFIG_TYPES = Set.of("application/vnd.docker.container.image.v1+json",
            "application/vnd.oci.image.config.v1+json");

    private final ImageStore store;
    private final ImageGc gc;
    private final RegistryClient registry;
    private final PlatformMatcher platforms;
    private final LayerFetcher layers;
    private final String sandboxRef;
    private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();

    ImagePuller(ImageStore store, ImageGc gc, RegistryClient registry, PlatformMatcher platforms,
                LayerFetcher layers, String sandboxRef) {
        this.store = store;
        this.gc = gc;
        this.registry = registry;
        this.platforms = platforms;
        this.layers = layers;
        this.sandboxRef = sandboxRef;
    }

    /** Pulls {@code ref} (no collection runs meanwhile) and discards what it wrote when it is refused. */
    Image doPull(ImageReference ref, RegistryCredentials credentials) {
        return gc.duringPull(() -> {
            PullScratch scratch = new PullScratch();
            store.withLock(() -> store.running.add(scratch));
            try {
                return fetchAndUnpack(ref, credentials, scratch);
            } catch (BackendException e) {
                if (e.kind() != Kind.UNAVAILABLE && e.kind() != Kind.DEADLINE_EXCEEDED) {
                    gc.discard(scratch);
                }
                throw e;
            } catch (RuntimeException e) {
                gc.discard(scratch);
                throw e;
            } finally {
                store.withLock(() -> store.running.remove(scratch));
            }
        });
    }

    /** Records that the pull uses these digests (blobs or diff ids) before it looks them up or writes them. */
    private void use(PullScratch scratch, String... digests) {
        store.withLock(() -> scratch.uses.addAll(List.of(digests)));
    }

    private void put(PullScratch scratch, String digest, byte[] body) throws IOException {
        use(scratch, digest);
        if (store.content.put(digest, body)) {
            scratch.wroteBlobs.add(digest);
        }
    }

    private Image fetchAndUnpack(ImageReference ref, RegistryCredentials credentials, PullScratch scratch) {
        try {
            RegistryClient.Session session = registry.session(ref, credentials);
            RegistryClient.Fetched top = session.manifest(ref.manifestReference());
            put(scratch, top.digest(), top.body());
            RegistryClient.Fetched manifest = top;
            if (top.mediaType().equals(RegistryClient.OCI_INDEX) || top.mediaType().equals(RegistryClient.DOCKER_LIST)) {
                String chosen = platforms.select(ref, Metadata.parseObject(top.body(), "index of \"" + ref + "\""));
                manifest = session.manifest(chosen);
                if (!manifest.mediaType().equals(RegistryClient.OCI_MANIFEST)
                        && !manifest.mediaType().equals(RegistryClient.DOCKER_MANIFEST)) {
                    throw BackendException.invalid("failed to pull image \"" + ref + "\": the index entry for "
                            + platforms.describe() + " is a " + manifest.mediaType() + ", not an image manifest");
                }
                put(scratch, manifest.digest(), manifest.body());
            }
            JsonNode m = Metadata.parseObject(manifest.body(), "manifest of \"" + ref + "\"");
            JsonNode cfgDesc = m.path("config");
            String cfgDigest = cfgDesc.path("digest").asText("");
            ContentStore.checkDigest(cfgDigest);
            String cfgType = cfgDesc.path("mediaType").asText("");
            if (!cfgType.isEmpty() && !CONFIG_TYPES.contains(cfgType)) {
                throw BackendException.invalid("failed to pull image \"" + ref + "\": it is not a container image"
                        + " (config media type \"" + cfgType + "\")");
            }
            use(scratch, cfgDigest);
            byte[] cfgBytes = store.content.has(cfgDigest) ? store.content.read(cfgDigest)
                    : session.smallBlob(cfgDigest, cfgDesc.path("size").asLong(-1));
            put(scratch, cfgDigest, cfgBytes);
            JsonNode config = Metadata.parseObject(cfgBytes, "config of \"" + ref + "\"");
            if (top == manifest) {
                platforms.checkConfig(ref, config);
            }
            List<String> diffIds = new ArrayList<>();
            config.path("rootfs").path("diff_ids").forEach(d -> diffIds.add(d.asText()));
            List<JsonNode> layerDescs = new ArrayList<>();
            m.path("layers").forEach(layerDescs::add);
            if (diffIds.size() != layerDescs.size()) {
                throw BackendException.invalid("failed to pull image \"" + ref + "\": the manifest has "
                        + layerDescs.size() + " layers but the config lists " + diffIds.size() + " diff ids");
            }
            Image.Platform platform = Image.Platform.ofConfig(config);
            boolean windows = platform.windows();
            List<String> layerDigests = new ArrayList<>();
            List<String> mediaTypes = new ArrayList<>();
            long size = cfgBytes.length;
            List<LayerJob> jobs = new ArrayList<>();
            for (int i = 0; i < layerDescs.size(); i++) {
                JsonNode d = layerDescs.get(i);
                String digest = d.path("digest").asText("");
                ContentStore.checkDigest(digest);
                ContentStore.checkDigest(diffIds.get(i));
                long layerSize = d.path("size").asLong(-1);
                layerDigests.add(digest);
                mediaTypes.add(d.path("mediaType").asText(""));
                size += Math.max(0, layerSize);
                String diffId = diffIds.get(i);
                use(scratch, digest, diffId);
                jobs.add(new LayerJob(windows
                        ? () -> {
                            layers.ensureBlob(session, ref, scratch, digest, layerSize, diffId);
                            return null;
                        }
                        : () -> layers.ensureLayer(session, ref, scratch, digest, layerSize, diffId)));
            }
            LayerJobs.runAll(workers, jobs, ref);
            String user = config.path("config").path("User").asText("");
            return commit(ref, top.digest(), manifest.digest(), cfgDigest, layerDigests, diffIds, size, user,
                    platform, mediaTypes);
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to pull image \"" + ref + "\": " + e.getMessage(), e);
        }
    }

    /** Records the pulled image; the tag moves to it from any other image, which goes when nothing names it. */
    private Image commit(ImageReference ref, String topDigest, String manifestDigest, String configDigest,
                         List<String> layerDigests, List<String> diffIds, long size, String user,
                         Image.Platform platform, List<String> layerMediaTypes) {
        return store.withLock(() -> {
            String tag = ref.tagged();
            String repoDigest = ref.withDigest(topDigest);
            if (!tag.isEmpty()) {
                for (var it = store.images.entrySet().iterator(); it.hasNext(); ) {
                    var e = it.next();
                    ImageMeta other = e.getValue();
                    if (!other.id().equals(configDigest) && other.repoTags().contains(tag)) {
                        List<String> tags = new ArrayList<>(other.repoTags());
                        tags.remove(tag);
                        if (tags.isEmpty() && other.repoDigests().isEmpty() && !other.pinned()) {
                            it.remove();
                        } else {
                            e.setValue(ImageStore.withRefs(other, tags, other.repoDigests(), other.pinned()));
                        }
                    }
                }
            }
            ImageMeta old = store.images.get(configDigest);
            Set<String> tags = new LinkedHashSet<>(old == null ? List.of() : old.repoTags());
            if (!tag.isEmpty()) {
                tags.add(tag);
            }
            Set<String> digests = new LinkedHashSet<>(old == null ? List.of() : old.repoDigests());
            digests.add(repoDigest);
            boolean pinned = (old != null && old.pinned()) || !sandboxRef.isEmpty()
                    && (sandboxRef.equals(ref.toString()) || tags.contains(sandboxRef));
            ImageMeta meta = new ImageMeta(configDigest, List.copyOf(tags), List.copyOf(digests), topDigest,
                    manifestDigest, configDigest, layerDigests, diffIds, size, user, pinned, platform, layerMediaTypes);
            store.images.put(configDigest, meta);
            store.persist();
            return store.toImage(meta);
        });
    }

    @Override
    public void close() {
        workers.shutdownNow();
        registry.close();
    }
}
