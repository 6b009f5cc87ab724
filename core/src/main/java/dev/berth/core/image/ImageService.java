package dev.berth.core.image;

import dev.berth.core.metrics.Metrics;
import dev.berth.spi.BackendException;
import dev.berth.spi.MountSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * berth's image store and registry puller. Thread-safe; every method may block on disk or network I/O and is
 * meant to run on a virtual thread. Errors are {@link BackendException}s:
 * <ul>
 *   <li>NOT_FOUND: an unknown image, or a reference the registry does not have;</li>
 *   <li>INVALID_ARGUMENT: a malformed reference, or content that is corrupt or hostile (digest mismatch,
 *       a layer escaping its root, a layer over the size limit);</li>
 *   <li>FAILED_PRECONDITION: no manifest for this node's platform, access denied by the registry;</li>
 *   <li>UNAVAILABLE: the registry cannot be reached; DEADLINE_EXCEEDED: a download stalled;</li>
 *   <li>INTERNAL: a local I/O failure.</li>
 * </ul>
 * The store survives restarts and {@code kill -9}: an image is recorded only once all its content is stored and
 * unpacked (a Windows image's layers are stored and checked against their diff ids, not unpacked), and leftovers of interrupted pulls are removed when the service is opened.
 *
 * <p>A pull refused for its content (INVALID_ARGUMENT, FAILED_PRECONDITION) or failing locally removes, before
 * it answers, every blob and unpacked layer it wrote that no image, container or other running pull uses; its
 * other layers are stopped and waited for first. A pull cut short by the network (UNAVAILABLE,
 * DEADLINE_EXCEEDED) keeps the verified blobs and layers it got, so a retry resumes there; they are freed by
 * {@link #garbageCollect()} (which core should run now and then, e.g. with the kubelet's image GC) when no image
 * ends up using them. Unverified downloads never stay. {@link #remove} collects right away when no pull is running.
 */
public final class ImageService implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ImageService.class.getName());
    private final Metrics metrics;
    private final ImageStore store;
    private final ImageGc gc;
    private final ImagePuller puller;
    private final ImageQueries queries;
    private final RootfsSnapshots rootfs;
    private final ConcurrentHashMap<String, CompletableFuture<Image>> pulls = new ConcurrentHashMap<>();

    /**
     * Opens (or creates) the store under {@code settings.root()}, removing leftovers of interrupted pulls.
     *
     * @throws BackendException INTERNAL when the store cannot be opened
     */
    public ImageService(ImageSettings settings) {
        this(settings, Metrics.disabled());
    }

    /** With pulls, downloaded bytes and unpacks recorded in {@code metrics}, and the store's size served by it. */
    public ImageService(ImageSettings settings, Metrics metrics) {
        this(settings, Duration.ofMillis(250), metrics);
    }

    ImageService(ImageSettings settings, Duration retryBackoff) {
        this(settings, retryBackoff, Metrics.disabled());
    }

    private ImageService(ImageSettings settings, Duration retryBackoff, Metrics metrics) {
        this(settings, retryBackoff, metrics, PlatformMatcher.forNode(settings.platformOs(),
                settings.platformArchitecture(), settings.platformVariant()));
    }

    /** With the node's platform given (for tests: a Windows node with a host build, on any host). */
    ImageService(ImageSettings settings, Duration retryBackoff, PlatformMatcher platforms) {
        this(settings, retryBackoff, Metrics.disabled(), platforms);
    }

    private ImageService(ImageSettings settings, Duration retryBackoff, Metrics metrics, PlatformMatcher platforms) {
        this.metrics = metrics;
        this.store = new ImageStore(settings.root().toAbsolutePath());
        this.gc = new ImageGc(store);
        String sandboxRef = settings.sandboxImage().isEmpty() ? ""
                : ImageReference.parse(settings.sandboxImage()).toString();
        RegistryClient registry = new RegistryClient(new RegistryHosts(settings.registryConfigPath()),
                settings.pullProgressTimeout(), settings.maxManifestBytes(), retryBackoff);
        this.puller = new ImagePuller(store, gc, registry, platforms, new LayerFetcher(store, settings, metrics),
                sandboxRef);
        this.queries = new ImageQueries(store);
        this.rootfs = new RootfsSnapshots(store, WRITABLE_LAYER_TTL,
                settings.volatileRootfs() && RootfsSnapshots.kernelHasVolatile(System.getProperty("os.version", "")));
        metrics.gauge("berth_image_content_store_bytes", "Bytes of the blobs (manifests, configs, compressed "
                + "layers) in the image content store.", cb -> cb.call(WritableLayerMeter.walk(store.content.blobsDir())[0]));
        metrics.gauge("berth_image_snapshots_bytes", "Bytes of the unpacked image layers.", cb -> {
            long[] bytes = {0};
            store.withLock(() -> {
                store.layers.values().forEach(l -> bytes[0] += l.bytes());
                return null;
            });
            cb.call(bytes[0]);
        });
        metrics.gauge("berth_images", "Images in the image store.", cb -> cb.call(store.withLock(store.images::size)));
    }

    // ---------------------------------------------------------------------------------------------------- pull

    /**
     * Pulls an image (blocking) and returns it. Concurrent pulls of the same reference share one download;
     * layers already unpacked for another image are not downloaded again.
     *
     * @param reference a reference as a user writes it ({@code busybox}, {@code quay.io/a/b:1@sha256:...})
     * @param credentials credentials for the registry, or {@link RegistryCredentials#NONE}
     */
    public Image pull(String reference, RegistryCredentials credentials) {
        try (var span = dev.berth.core.tracing.Tracing.child("image pull").attr("berth.image", reference)) {
            return span.call(() -> pullTraced(reference, credentials));
        }
    }

    private Image pullTraced(String reference, RegistryCredentials credentials) {
        ImageReference ref = ImageReference.parse(reference);
        String key = ref.toString();
        CompletableFuture<Image> mine = new CompletableFuture<>();
        CompletableFuture<Image> running = pulls.putIfAbsent(key, mine);
        if (running != null) {
            return join(running);
        }
        long start = System.nanoTime();
        try {
            Image image = doPull(ref, credentials);
            mine.complete(image);
            metrics.imagePull(null, System.nanoTime() - start);
            return image;
        } catch (BackendException e) {
            BackendException be = e.getMessage().startsWith("failed to pull image") ? e
                    : new BackendException(e.kind(), "failed to pull image \"" + ref + "\": " + e.getMessage(), e);
            mine.completeExceptionally(be);
            metrics.imagePull(be.kind(), System.nanoTime() - start);
            throw be;
        } catch (RuntimeException e) {
            BackendException be = BackendException.internal("failed to pull image \"" + ref + "\": " + e, e);
            mine.completeExceptionally(be);
            metrics.imagePull(be.kind(), System.nanoTime() - start);
            throw be;
        } finally {
            pulls.remove(key, mine);
        }
    }

    private static <T> T join(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof BackendException be) {
                throw new BackendException(be.kind(), be.getMessage(), be);
            }
            throw BackendException.internal("failed: " + e.getCause(), e.getCause());
        }
    }

    private Image doPull(ImageReference ref, RegistryCredentials credentials) {
        return puller.doPull(ref, credentials);
    }

    // ------------------------------------------------------------------------------------------------- queries

    /** Finds an image by tag reference, digest reference, full id ({@code sha256:...}) or unique id prefix. */
    public Optional<Image> find(String refOrIdOrDigest) {
        return queries.find(refOrIdOrDigest);
    }

    /** The manifest {@code image}'s layers came from, as stored; empty when it is gone. Read on each call. */
    public String manifestJson(Image image) {
        return store.readText(image.manifestDigest());
    }

    /** {@code image}'s config (its id is the config's digest), as stored; empty when it is gone. Read on each call. */
    public String configJson(Image image) {
        return store.readText(image.id());
    }

    /**
     * The images ListImages' filter names: every image of a repository named without a tag or digest (as
     * {@code docker images busybox} lists them), else the one {@link #find} finds.
     */
    public List<Image> matching(String filter) {
        return queries.matching(filter);
    }

    /** Every image in the store. */
    public List<Image> list() {
        return queries.list();
    }

    /**
     * Removes an image and all its tags and digests; nothing happens when it is not there. Pinned images are
     * removed too (as containerd does: pinning only tells the kubelet not to garbage-collect them). Content that
     * no other image or container uses is freed by a garbage collection right away unless a pull is running.
     */
    public void remove(String refOrIdOrDigest) {
        if (queries.remove(refOrIdOrDigest)) {
            gc.collectIfIdle();
        }
    }

    /** Pins or unpins an image (CRI's {@code Image.pinned}). */
    public void pin(String imageId, boolean pinned) {
        queries.pin(imageId, pinned);
    }

    /**
     * Bytes and inodes used by images (blobs, which include a Windows image's layers, plus unpacked layers) and by
     * containers' writable layers (a Windows container's scratch directory).
     */
    public FsUsage usage() {
        return queries.usage();
    }

    /**
     * How long a container's writable-layer reading is served before it is refreshed in the background: the
     * kubelet's housekeeping and eviction checks run every 10 s.
     */
    static final Duration WRITABLE_LAYER_TTL = Duration.ofSeconds(10);

    /**
     * Bytes and inodes used by a container's writable layer, from a reading at most about
     * {@link #WRITABLE_LAYER_TTL} old (refreshed in the background, so a stats loop does not walk directories);
     * empty when the key has no writable layer.
     *
     * @param key the key given to {@link #prepareRootfs}
     */
    public Optional<WritableLayerUsage> writableLayer(String key) {
        return rootfs.writableLayer(key);
    }

    // ------------------------------------------------------------------------------------------- container fs

    /**
     * Creates a container's writable layer over an image and returns its root file system as one overlay mount
     * (empty target) for the backend to mount. Calling it again with the same key and image returns the same
     * mount.
     *
     * <p>The option string lists every layer; the kernel limits it to one page, so very deep images (about 90
     * layers with a 30-character root) cannot be mounted this way.
     *
     * <p>For a Windows image (config {@code os: windows}), whose layers are kept as pulled and not unpacked, the
     * root file system is {@link WindowsLayers#rootfs}: one {@code windows-layer} entry per layer blob, base first,
     * then a {@code windows-scratch} directory private to the key, deleted by {@link #releaseRootfs}.
     *
     * @param key the container id
     * @throws BackendException NOT_FOUND for an unknown image, ALREADY_EXISTS when the key is used for another image
     */
    public List<MountSpec> prepareRootfs(String key, String imageRefOrId) {
        return rootfs.prepareRootfs(key, imageRefOrId);
    }

    /**
     * Makes the volumes the image declares directories in a prepared container's writable layer where the image's
     * layers lack them, except those the request's own mounts cover; the paths made, symbolic links resolved.
     * A volume that is a file in the image is skipped and logged.
     */
    public List<String> ensureImageVolumes(String key, java.util.Collection<String> coveredPaths) {
        List<String> made = new java.util.ArrayList<>();
        for (ImageVolumes.Outcome o : rootfs.ensureImageVolumes(key, coveredPaths)) {
            switch (o.result()) {
                case CREATED -> made.add(o.path());
                case NOT_A_DIRECTORY, TOO_MANY_LINKS, TOO_LONG -> LOG.log(System.Logger.Level.WARNING, "the image "
                        + "of container {0} declares the volume {1}, which it cannot have as a directory ({2} at {3}); "
                        + "left as the image has it", key, o.volume(), switch (o.result()) {
                            case NOT_A_DIRECTORY -> "not a directory";
                            case TOO_MANY_LINKS -> "too many symbolic links";
                            default -> "longer than " + ImageVolumes.PATH_MAX + " bytes";
                        }, o.path());
                case TOO_MANY -> LOG.log(System.Logger.Level.WARNING, "the image of container {0} declares more than "
                        + "{1} volumes; those after the first {1} are left as the image has them", key,
                        ImageVolumes.MAX_VOLUMES);
                default -> {
                }
            }
        }
        return made;
    }

    /** The keys of every prepared root file system, for reconciling with the records after a restart. */
    public Set<String> rootfsKeys() {
        return rootfs.rootfsKeys();
    }

    /** Deletes a container's writable layer; nothing happens when it is not there. The backend unmounts first. */
    public void releaseRootfs(String key) {
        rootfs.releaseRootfs(key);
    }

    /**
     * How to run the image: entrypoint, cmd, env, working dir, and the user resolved against the image's
     * /etc/passwd and /etc/group.
     *
     * @param runAs the user the request runs as ({@code run_as_username}, or {@code run_as_user} as a number),
     *     resolved instead of the image's {@code User}; empty for the image's own
     * @throws BackendException NOT_FOUND for an unknown image; FAILED_PRECONDITION when a user or group named
     *     by name is not in the image
     */
    public dev.berth.spi.ImageConfig imageConfig(String imageRefOrId, String runAs) {
        return queries.imageConfig(imageRefOrId, runAs);
    }

    // ----------------------------------------------------------------------------------------------------- gc

    /** Deletes blobs and unpacked layers that no image and no container uses. Waits for running pulls. */
    public void garbageCollect() {
        gc.garbageCollect();
    }

    // -------------------------------------------------------------------------------------------------- misc

    /** The unpacked directory of a layer, by diff id (for tests and diagnostics). */
    Optional<Path> layerPath(String diffId) {
        return store.withLock(() -> Optional.ofNullable(store.layers.get(diffId)).map(l -> store.snapshotFs(l.snapshot())));
    }

    Path snapshotFs(long id) {
        return store.snapshotFs(id);
    }

    /** The store's root directory. */
    public Path root() {
        return store.root;
    }

    @Override
    public void close() {
        puller.close();
        rootfs.close();
    }
}
