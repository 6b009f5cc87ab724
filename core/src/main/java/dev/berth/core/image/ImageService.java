package dev.berth.core.image;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.core.image.Metadata.ContainerMeta;
import dev.berth.core.image.Metadata.ImageMeta;
import dev.berth.core.image.Metadata.LayerMeta;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import dev.berth.spi.MountSpec;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

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
 * unpacked, and leftovers of interrupted pulls are removed when the service is opened.
 *
 * <p>A pull refused for its content (INVALID_ARGUMENT, FAILED_PRECONDITION) or failing locally removes, before
 * it answers, every blob and unpacked layer it wrote that no image, container or other running pull uses; its
 * other layers are stopped and waited for first. A pull cut short by the network (UNAVAILABLE,
 * DEADLINE_EXCEEDED) keeps the verified blobs and layers it got, so a retry resumes there; they are freed by
 * {@link #garbageCollect()} (which core should run now and then, e.g. with the kubelet's image GC) when no image
 * ends up using them. Unverified downloads never stay. {@link #remove} collects right away when no pull is running.
 */
public final class ImageService implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ImageService.class.getName());
    private static final Pattern HEX = Pattern.compile("[a-f0-9]{1,64}");
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
    private static final long EMPTY_SNAPSHOT = 0;
    private static final Set<String> CONFIG_TYPES = Set.of("application/vnd.docker.container.image.v1+json",
            "application/vnd.oci.image.config.v1+json");

    private final ImageSettings settings;
    private final dev.berth.core.metrics.Metrics metrics;
    private final Path root;
    private final Path snapshots;
    private final Path metadataFile;
    private final ContentStore content;
    private final RegistryClient registry;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<String, ImageMeta> images = new LinkedHashMap<>();
    private final Map<String, LayerMeta> layers = new HashMap<>();
    private final Map<String, ContainerMeta> containers = new HashMap<>();
    private long nextSnapshot = 1;
    private final ConcurrentHashMap<String, CompletableFuture<Image>> pulls = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, CompletableFuture<LayerMeta>> unpacks = new ConcurrentHashMap<>();
    /** Running pulls; guarded by {@link #lock}. */
    private final Set<PullScratch> running = new HashSet<>();
    private final Semaphore downloads;
    private final ReentrantReadWriteLock gcLock = new ReentrantReadWriteLock();
    private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();
    private final WritableLayerMeter meter = new WritableLayerMeter(WRITABLE_LAYER_TTL);
    private final String sandboxRef;

    /**
     * Opens (or creates) the store under {@code settings.root()}, removing leftovers of interrupted pulls.
     *
     * @throws BackendException INTERNAL when the store cannot be opened
     */
    public ImageService(ImageSettings settings) {
        this(settings, dev.berth.core.metrics.Metrics.disabled());
    }

    /** With pulls, downloaded bytes and unpacks recorded in {@code metrics}, and the store's size served by it. */
    public ImageService(ImageSettings settings, dev.berth.core.metrics.Metrics metrics) {
        this(settings, Duration.ofMillis(250), metrics);
    }

    ImageService(ImageSettings settings, Duration retryBackoff) {
        this(settings, retryBackoff, dev.berth.core.metrics.Metrics.disabled());
    }

    private ImageService(ImageSettings settings, Duration retryBackoff, dev.berth.core.metrics.Metrics metrics) {
        this.settings = settings;
        this.metrics = metrics;
        this.root = settings.root().toAbsolutePath();
        this.snapshots = root.resolve("snapshots");
        this.metadataFile = root.resolve("metadata.json");
        this.downloads = new Semaphore(settings.maxConcurrentDownloads());
        this.sandboxRef = settings.sandboxImage().isEmpty() ? ""
                : ImageReference.parse(settings.sandboxImage()).toString();
        try {
            Files.createDirectories(snapshots);
            this.content = new ContentStore(root);
            Metadata.State state = Metadata.read(metadataFile);
            if (state != null) {
                images.putAll(state.images());
                layers.putAll(state.layers());
                containers.putAll(state.containers());
                nextSnapshot = Math.max(1, state.nextSnapshot());
            }
            Files.deleteIfExists(root.resolve("metadata.json.tmp"));
            recoverSnapshots();
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to open image store \"" + root + "\": " + e.getMessage(), e);
        }
        this.registry = new RegistryClient(new RegistryHosts(settings.registryConfigPath()),
                settings.pullProgressTimeout(), settings.maxManifestBytes(), retryBackoff);
        metrics.gauge("berth_image_content_store_bytes", "Bytes of the blobs (manifests, configs, compressed "
                + "layers) in the image content store.", cb -> cb.call(walk(content.blobsDir())[0]));
        metrics.gauge("berth_image_snapshots_bytes", "Bytes of the unpacked image layers.", cb -> {
            long[] bytes = {0};
            withLock(() -> {
                layers.values().forEach(l -> bytes[0] += l.bytes());
                return null;
            });
            cb.call(bytes[0]);
        });
        metrics.gauge("berth_images", "Images in the image store.", cb -> cb.call(withLock(images::size)));
    }

    /** Removes snapshot directories that no record points at (unpacks cut short), and drops records of lost ones. */
    private void recoverSnapshots() throws IOException {
        Set<String> known = new HashSet<>();
        known.add(Long.toString(EMPTY_SNAPSHOT));
        layers.values().forEach(l -> known.add(Long.toString(l.snapshot())));
        containers.values().forEach(c -> known.add(Long.toString(c.snapshot())));
        try (DirectoryStream<Path> all = Files.newDirectoryStream(snapshots)) {
            for (Path p : all) {
                if (!known.contains(p.getFileName().toString())) {
                    LOG.info(() -> "removing leftover snapshot " + p);
                    LayerUnpacker.deleteTree(p);
                }
            }
        }
        boolean changed = layers.values().removeIf(l -> !Files.isDirectory(snapshotFs(l.snapshot())));
        Files.createDirectories(snapshotFs(EMPTY_SNAPSHOT));
        if (changed) {
            persist();
        }
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
        gcLock.readLock().lock();
        PullScratch scratch = new PullScratch();
        withLock(() -> running.add(scratch));
        try {
            return fetchAndUnpack(ref, credentials, scratch);
        } catch (BackendException e) {
            if (e.kind() != Kind.UNAVAILABLE && e.kind() != Kind.DEADLINE_EXCEEDED) {
                discard(scratch);
            }
            throw e;
        } catch (RuntimeException e) {
            discard(scratch);
            throw e;
        } finally {
            withLock(() -> running.remove(scratch));
            gcLock.readLock().unlock();
        }
    }

    /**
     * What one pull uses and what it wrote itself. {@code uses} is changed under {@link #lock} only, so that
     * {@link #discard} never removes what another running pull is about to use.
     */
    private static final class PullScratch {
        final Set<String> uses = new HashSet<>();
        final Set<String> wroteBlobs = ConcurrentHashMap.newKeySet();
        final Set<String> unpacked = ConcurrentHashMap.newKeySet();
    }

    /** Records that the pull uses these digests (blobs or diff ids) before it looks them up or writes them. */
    private void use(PullScratch scratch, String... digests) {
        withLock(() -> scratch.uses.addAll(List.of(digests)));
    }

    private void put(PullScratch scratch, String digest, byte[] body) throws IOException {
        use(scratch, digest);
        if (content.put(digest, body)) {
            scratch.wroteBlobs.add(digest);
        }
    }

    /**
     * Removes the blobs and layers a failed pull wrote, unless an image, a container or another running pull
     * uses them. Runs after every layer job of the pull has ended.
     */
    private void discard(PullScratch scratch) {
        List<Long> dirs = new ArrayList<>();
        try {
            withLock(() -> {
                Set<String> kept = new HashSet<>();
                for (ImageMeta m : images.values()) {
                    kept.add(m.topDigest());
                    kept.add(m.manifestDigest());
                    kept.add(m.configDigest());
                    kept.addAll(m.layerDigests());
                    kept.addAll(m.diffIds());
                }
                running.stream().filter(p -> p != scratch).forEach(p -> kept.addAll(p.uses));
                Set<Long> mounted = new HashSet<>();
                containers.values().forEach(c -> mounted.addAll(c.lowers()));
                for (String diffId : scratch.unpacked) {
                    LayerMeta l = layers.get(diffId);
                    if (l != null && !kept.contains(diffId) && !mounted.contains(l.snapshot())) {
                        layers.remove(diffId);
                        dirs.add(l.snapshot());
                    }
                }
                if (!dirs.isEmpty()) {
                    persist();
                }
                for (String digest : scratch.wroteBlobs) {
                    if (!kept.contains(digest)) {
                        try {
                            content.delete(digest);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }
                }
                return null;
            });
            for (long id : dirs) {
                LayerUnpacker.deleteTree(snapshots.resolve(Long.toString(id)));
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "failed to remove what a failed pull wrote; image GC will", e);
        }
    }

    private Image fetchAndUnpack(ImageReference ref, RegistryCredentials credentials, PullScratch scratch) {
        try {
            RegistryClient.Session session = registry.session(ref, credentials);
            RegistryClient.Fetched top = session.manifest(ref.manifestReference());
            put(scratch, top.digest(), top.body());
            RegistryClient.Fetched manifest = top;
            if (top.mediaType().equals(RegistryClient.OCI_INDEX) || top.mediaType().equals(RegistryClient.DOCKER_LIST)) {
                String chosen = selectPlatform(ref, parse(top.body(), "index of \"" + ref + "\""));
                manifest = session.manifest(chosen);
                if (!manifest.mediaType().equals(RegistryClient.OCI_MANIFEST)
                        && !manifest.mediaType().equals(RegistryClient.DOCKER_MANIFEST)) {
                    throw BackendException.invalid("failed to pull image \"" + ref + "\": the index entry for "
                            + platform() + " is a " + manifest.mediaType() + ", not an image manifest");
                }
                put(scratch, manifest.digest(), manifest.body());
            }
            JsonNode m = parse(manifest.body(), "manifest of \"" + ref + "\"");
            JsonNode cfgDesc = m.path("config");
            String cfgDigest = cfgDesc.path("digest").asText("");
            ContentStore.checkDigest(cfgDigest);
            String cfgType = cfgDesc.path("mediaType").asText("");
            if (!cfgType.isEmpty() && !CONFIG_TYPES.contains(cfgType)) {
                throw BackendException.invalid("failed to pull image \"" + ref + "\": it is not a container image"
                        + " (config media type \"" + cfgType + "\")");
            }
            use(scratch, cfgDigest);
            byte[] cfgBytes = content.has(cfgDigest) ? content.read(cfgDigest)
                    : session.smallBlob(cfgDigest, cfgDesc.path("size").asLong(-1));
            put(scratch, cfgDigest, cfgBytes);
            JsonNode config = parse(cfgBytes, "config of \"" + ref + "\"");
            if (top == manifest) {
                checkConfigPlatform(ref, config);
            }
            List<String> diffIds = new ArrayList<>();
            config.path("rootfs").path("diff_ids").forEach(d -> diffIds.add(d.asText()));
            List<JsonNode> layerDescs = new ArrayList<>();
            m.path("layers").forEach(layerDescs::add);
            if (diffIds.size() != layerDescs.size()) {
                throw BackendException.invalid("failed to pull image \"" + ref + "\": the manifest has "
                        + layerDescs.size() + " layers but the config lists " + diffIds.size() + " diff ids");
            }
            List<String> layerDigests = new ArrayList<>();
            long size = cfgBytes.length;
            List<LayerJob> jobs = new ArrayList<>();
            for (int i = 0; i < layerDescs.size(); i++) {
                JsonNode d = layerDescs.get(i);
                String digest = d.path("digest").asText("");
                ContentStore.checkDigest(digest);
                ContentStore.checkDigest(diffIds.get(i));
                long layerSize = d.path("size").asLong(-1);
                layerDigests.add(digest);
                size += Math.max(0, layerSize);
                String diffId = diffIds.get(i);
                use(scratch, digest, diffId);
                jobs.add(new LayerJob(() -> ensureLayer(session, ref, scratch, digest, layerSize, diffId)));
            }
            runAll(jobs, ref);
            String user = config.path("config").path("User").asText("");
            return commit(ref, top.digest(), manifest.digest(), cfgDigest, layerDigests, diffIds, size, user);
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to pull image \"" + ref + "\": " + e.getMessage(), e);
        }
    }

    /** Fetches and unpacks one layer on its own virtual thread; {@link #cancel} interrupts it. */
    private static final class LayerJob implements Runnable {
        private final Callable<LayerMeta> body;
        private Thread thread;
        private boolean cancelled;
        private volatile Throwable failure;

        LayerJob(Callable<LayerMeta> body) {
            this.body = body;
        }

        @Override
        public void run() {
            synchronized (this) {
                if (cancelled) {
                    return;
                }
                thread = Thread.currentThread();
            }
            try {
                body.call();
            } catch (Throwable t) {
                failure = t;
            } finally {
                synchronized (this) {
                    thread = null;
                }
            }
        }

        synchronized void cancel() {
            cancelled = true;
            if (thread != null) {
                thread.interrupt();
            }
        }
    }

    /**
     * Runs the layer jobs in parallel and returns when all succeeded. When one fails, the others are interrupted,
     * and the failure is thrown only once every job has ended, so nothing of the pull is still being written.
     */
    private void runAll(List<LayerJob> jobs, ImageReference ref) {
        BlockingQueue<LayerJob> ended = new LinkedBlockingQueue<>();
        for (LayerJob job : jobs) {
            try {
                workers.execute(() -> {
                    try {
                        job.run();
                    } finally {
                        ended.add(job);
                    }
                });
            } catch (RejectedExecutionException e) {
                job.failure = new BackendException(Kind.UNAVAILABLE, "the image service is closing");
                ended.add(job);
            }
        }
        Throwable failure = null;
        boolean interrupted = false;
        for (int left = jobs.size(); left > 0; ) {
            LayerJob done;
            try {
                done = ended.take();
            } catch (InterruptedException e) {
                if (!interrupted) {
                    interrupted = true;
                    jobs.forEach(LayerJob::cancel);
                }
                continue;
            }
            left--;
            if (done.failure != null && failure == null) {
                failure = done.failure;
                jobs.forEach(LayerJob::cancel);
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
            throw new BackendException(Kind.UNAVAILABLE, "failed to pull image \"" + ref + "\": interrupted");
        }
        switch (failure) {
            case null -> { }
            case BackendException be -> throw new BackendException(be.kind(), be.getMessage(), be);
            case IOException io -> throw new BackendException(Kind.INTERNAL, io.getMessage(), io);
            default -> throw BackendException.internal(failure.getMessage() == null
                    ? failure.getClass().getSimpleName() : failure.getMessage(), failure);
        }
    }

    private String platform() {
        return settings.platformOs() + "/" + settings.platformArchitecture()
                + (settings.platformVariant().isEmpty() ? "" : "/" + settings.platformVariant());
    }

    /** Picks the node's platform from an index: same os and architecture, the variant matching when given. */
    private String selectPlatform(ImageReference ref, JsonNode index) {
        String best = null;
        int bestScore = -1;
        List<String> seen = new ArrayList<>();
        for (JsonNode d : index.path("manifests")) {
            JsonNode p = d.path("platform");
            String os = p.path("os").asText("");
            String arch = p.path("architecture").asText("");
            String variant = p.path("variant").asText("");
            seen.add(os + "/" + arch + (variant.isEmpty() ? "" : "/" + variant));
            if (!os.equals(settings.platformOs()) || !arch.equals(settings.platformArchitecture())) {
                continue;
            }
            int score;
            if (variant.equals(settings.platformVariant())) {
                score = 2;
            } else if (variant.isEmpty()) {
                score = 1;
            } else {
                continue;
            }
            if (score > bestScore) {
                bestScore = score;
                best = d.path("digest").asText("");
            }
        }
        if (best == null) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "failed to pull image \"" + ref
                    + "\": no manifest for platform " + platform() + " (the index has " + String.join(", ", seen) + ")");
        }
        ContentStore.checkDigest(best);
        return best;
    }

    private void checkConfigPlatform(ImageReference ref, JsonNode config) {
        String os = config.path("os").asText("");
        String arch = config.path("architecture").asText("");
        if (!os.isEmpty() && !os.equals(settings.platformOs())
                || !arch.isEmpty() && !arch.equals(settings.platformArchitecture())) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "failed to pull image \"" + ref + "\": the image is for "
                    + os + "/" + arch + ", this node is " + platform());
        }
    }

    private static JsonNode parse(byte[] body, String what) {
        try {
            JsonNode n = Metadata.json().readTree(body);
            if (n == null || !n.isObject()) {
                throw BackendException.invalid("failed to parse " + what + ": not a JSON object");
            }
            return n;
        } catch (IOException e) {
            throw BackendException.invalid("failed to parse " + what + ": not valid JSON");
        }
    }

    /**
     * Downloads (when needed) and unpacks one layer, once even when several pulls want it. When the pull doing
     * the work is cancelled (another of its layers was refused), a pull waiting for the same layer takes over.
     */
    private LayerMeta ensureLayer(RegistryClient.Session session, ImageReference ref, PullScratch scratch,
                                  String digest, long size, String diffId) throws IOException {
        while (true) {
            LayerMeta have = withLock(() -> layers.get(diffId));
            if (have != null) {
                return have;
            }
            CompletableFuture<LayerMeta> mine = new CompletableFuture<>();
            CompletableFuture<LayerMeta> other = unpacks.putIfAbsent(diffId, mine);
            if (other != null) {
                LayerMeta theirs = awaitOther(other);
                if (theirs != null) {
                    return theirs;
                }
                continue; // its pull gave up: do the work here
            }
            try {
                have = withLock(() -> layers.get(diffId));
                if (have == null) {
                    if (!content.has(digest) && download(session, ref, digest, size)) {
                        scratch.wroteBlobs.add(digest);
                    }
                    long start = System.nanoTime();
                    have = unpack(digest, diffId);
                    metrics.layerUnpacked(System.nanoTime() - start);
                    scratch.unpacked.add(diffId);
                }
                mine.complete(have);
                return have;
            } catch (RuntimeException | IOException e) {
                mine.completeExceptionally(Thread.currentThread().isInterrupted()
                        ? new CancellationException("the pull was cancelled") : e);
                throw e;
            } finally {
                unpacks.remove(diffId, mine);
            }
        }
    }

    /** The layer another pull unpacks, or null when that pull was cancelled before it finished. */
    private static LayerMeta awaitOther(CompletableFuture<LayerMeta> other) {
        try {
            return other.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancellationException("the pull was cancelled");
        } catch (CancellationException e) {
            return null;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof BackendException be) {
                throw new BackendException(be.kind(), be.getMessage(), be);
            }
            throw BackendException.internal(String.valueOf(e.getCause().getMessage()), e.getCause());
        }
    }

    /** Downloads a layer blob into the content store; true when this call wrote it. */
    private boolean download(RegistryClient.Session session, ImageReference ref, String digest, long size)
            throws IOException {
        try {
            downloads.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackendException(Kind.UNAVAILABLE, "failed to pull image \"" + ref + "\": interrupted");
        }
        try {
            boolean wrote = session.layer(digest, size, content);
            if (wrote) {
                metrics.imagePullBytes(size);
            }
            return wrote;
        } catch (BackendException e) {
            if (e.getMessage().startsWith("failed to fetch")) {
                throw new BackendException(e.kind(), "failed to pull image \"" + ref + "\": " + e.getMessage(), e);
            }
            throw e;
        } finally {
            downloads.release();
        }
    }

    private LayerMeta unpack(String digest, String diffId) throws IOException {
        long id = withLock(() -> nextSnapshot++);
        Path dir = snapshots.resolve(Long.toString(id));
        Path fs = dir.resolve("fs");
        Files.createDirectories(fs);
        boolean ok = false;
        try {
            MessageDigest md = ContentStore.newSha256();
            LayerUnpacker.Stats stats;
            try (InputStream raw = Files.newInputStream(content.path(digest));
                 InputStream plain = decompress(new BufferedInputStream(raw, 64 * 1024));
                 DigestInputStream in = new DigestInputStream(plain, md)) {
                try {
                    stats = LayerUnpacker.unpack(in, fs, settings.maxUnpackedBytes());
                    drain(in);
                } catch (LayerUnpacker.BadArchive e) {
                    throw LayerUnpacker.rejected(digest, e);
                }
            }
            String actual = "sha256:" + HexFormat.of().formatHex(md.digest());
            if (!actual.equals(diffId)) {
                throw BackendException.invalid("failed to unpack layer \"" + digest + "\": its uncompressed digest is "
                        + actual + " but the image config says " + diffId);
            }
            LayerMeta meta = new LayerMeta(diffId, id, stats.bytes(), stats.inodes());
            withLock(() -> {
                layers.put(diffId, meta);
                try {
                    persist();
                } catch (RuntimeException e) {
                    layers.remove(diffId);
                    throw e;
                }
                return null;
            });
            ok = true;
            return meta;
        } finally {
            if (!ok) {
                LayerUnpacker.deleteTree(dir);
            }
        }
    }

    /** Reads what follows the tar's end marker (padding) into the digest, at most 64 MiB of it. */
    private static void drain(InputStream in) throws IOException {
        long limit = 64L << 20;
        long total = 0;
        byte[] buf = new byte[64 * 1024];
        try {
            int n;
            while ((n = in.read(buf)) >= 0) {
                total += n;
                if (total > limit) {
                    throw new LayerUnpacker.BadArchive("more than " + limit + " bytes of data after the tar end");
                }
            }
        } catch (LayerUnpacker.BadArchive e) {
            throw e;
        } catch (IOException e) {
            throw new LayerUnpacker.BadArchive("corrupt layer data after the tar end: " + e.getMessage());
        }
    }

    /** Picks gzip, zstd or plain tar from the stream's first bytes. */
    private static InputStream decompress(BufferedInputStream in) throws IOException {
        in.mark(4);
        byte[] magic = in.readNBytes(4);
        in.reset();
        try {
            if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
                return new GZIPInputStream(in, 64 * 1024);
            }
            if (magic.length == 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5
                    && (magic[2] & 0xff) == 0x2f && (magic[3] & 0xff) == 0xfd) {
                return new com.github.luben.zstd.ZstdInputStream(in);
            }
        } catch (IOException e) {
            throw BackendException.invalid("failed to unpack layer: bad compressed data: " + e.getMessage());
        }
        return in;
    }

    private Image commit(ImageReference ref, String topDigest, String manifestDigest, String configDigest,
                         List<String> layerDigests, List<String> diffIds, long size, String user) {
        return withLock(() -> {
            String tag = ref.tagged();
            String repoDigest = ref.withDigest(topDigest);
            if (!tag.isEmpty()) {
                for (var it = images.entrySet().iterator(); it.hasNext(); ) {
                    var e = it.next();
                    ImageMeta other = e.getValue();
                    if (!other.id().equals(configDigest) && other.repoTags().contains(tag)) {
                        List<String> tags = new ArrayList<>(other.repoTags());
                        tags.remove(tag);
                        if (tags.isEmpty() && other.repoDigests().isEmpty() && !other.pinned()) {
                            it.remove();
                        } else {
                            e.setValue(withRefs(other, tags, other.repoDigests(), other.pinned()));
                        }
                    }
                }
            }
            ImageMeta old = images.get(configDigest);
            Set<String> tags = new LinkedHashSet<>(old == null ? List.of() : old.repoTags());
            if (!tag.isEmpty()) {
                tags.add(tag);
            }
            Set<String> digests = new LinkedHashSet<>(old == null ? List.of() : old.repoDigests());
            digests.add(repoDigest);
            boolean pinned = (old != null && old.pinned()) || !sandboxRef.isEmpty()
                    && (sandboxRef.equals(ref.toString()) || tags.contains(sandboxRef));
            ImageMeta meta = new ImageMeta(configDigest, List.copyOf(tags), List.copyOf(digests), topDigest,
                    manifestDigest, configDigest, layerDigests, diffIds, size, user, pinned);
            images.put(configDigest, meta);
            persist();
            return toImage(meta);
        });
    }

    private static ImageMeta withRefs(ImageMeta m, List<String> tags, List<String> digests, boolean pinned) {
        return new ImageMeta(m.id(), tags, digests, m.topDigest(), m.manifestDigest(), m.configDigest(),
                m.layerDigests(), m.diffIds(), m.size(), m.user(), pinned);
    }

    // ------------------------------------------------------------------------------------------------- queries

    /** Finds an image by tag reference, digest reference, full id ({@code sha256:...}) or unique id prefix. */
    public Optional<Image> find(String refOrIdOrDigest) {
        return withLock(() -> findMeta(refOrIdOrDigest).map(this::toImage));
    }

    private Optional<ImageMeta> findMeta(String s) {
        if (s == null || s.isBlank()) {
            return Optional.empty();
        }
        String q = s.trim();
        if (q.startsWith("sha256:") && ContentStore.SHA256.matcher(q).matches()) {
            ImageMeta m = images.get(q);
            if (m != null) {
                return Optional.of(m);
            }
        }
        if (ImageReference.isValid(q)) {
            ImageReference ref = ImageReference.parse(q);
            for (ImageMeta m : images.values()) {
                if (!ref.digest().isEmpty() ? m.repoDigests().contains(ref.withDigest(ref.digest()))
                        : m.repoTags().contains(ref.tagged())) {
                    return Optional.of(m);
                }
            }
        }
        String hex = q.startsWith("sha256:") ? q.substring(7) : q;
        if (HEX.matcher(hex).matches()) {
            List<ImageMeta> matches = images.values().stream().filter(m -> m.id().startsWith("sha256:" + hex)).toList();
            if (matches.size() == 1) {
                return Optional.of(matches.getFirst());
            }
        }
        return Optional.empty();
    }

    private ImageMeta require(String refOrId) {
        return findMeta(refOrId).orElseThrow(() -> BackendException.notFound("image", refOrId));
    }

    /** Every image in the store. */
    public List<Image> list() {
        return withLock(() -> images.values().stream().map(this::toImage).toList());
    }

    private Image toImage(ImageMeta m) {
        return new Image(m.id(), m.repoTags(), m.repoDigests(), m.size(), m.user(), m.pinned(), m.manifestDigest(),
                readText(m.manifestDigest()), readText(m.configDigest()), m.diffIds());
    }

    private String readText(String digest) {
        try {
            return new String(content.read(digest), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * Removes an image and all its tags and digests; nothing happens when it is not there. Pinned images are
     * removed too (as containerd does: pinning only tells the kubelet not to garbage-collect them). Content that
     * no other image or container uses is freed by a garbage collection right away unless a pull is running.
     */
    public void remove(String refOrIdOrDigest) {
        boolean removed = withLock(() -> {
            Optional<ImageMeta> m = findMeta(refOrIdOrDigest);
            if (m.isEmpty()) {
                return false;
            }
            images.remove(m.get().id());
            persist();
            return true;
        });
        if (removed && gcLock.writeLock().tryLock()) {
            try {
                collect();
            } finally {
                gcLock.writeLock().unlock();
            }
        }
    }

    /** Pins or unpins an image (CRI's {@code Image.pinned}). */
    public void pin(String imageId, boolean pinned) {
        withLock(() -> {
            ImageMeta m = require(imageId);
            if (m.pinned() == pinned) {
                return null; // every RunPodSandbox pins its sandbox image: do not rewrite the metadata each time
            }
            images.put(m.id(), withRefs(m, m.repoTags(), m.repoDigests(), pinned));
            persist();
            return null;
        });
    }

    /** Bytes and inodes used by images (blobs plus unpacked layers) and by containers' writable layers. */
    public FsUsage usage() {
        long[] image = {0, 0};
        List<Long> uppers = new ArrayList<>();
        withLock(() -> {
            layers.values().forEach(l -> {
                image[0] += l.bytes();
                image[1] += l.inodes();
            });
            containers.values().forEach(c -> uppers.add(c.snapshot()));
            return null;
        });
        long[] blobs = walk(content.blobsDir());
        long[] ctr = {0, 0};
        for (long id : uppers) {
            long[] u = walk(snapshotFs(id));
            ctr[0] += u[0];
            ctr[1] += u[1];
        }
        return new FsUsage(Instant.now(), root, image[0] + blobs[0], image[1] + blobs[1], snapshots, ctr[0], ctr[1]);
    }

    private static long[] walk(Path dir) {
        return WritableLayerMeter.walk(dir);
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
        Long id = withLock(() -> {
            ContainerMeta c = containers.get(key);
            return c == null ? null : c.snapshot();
        });
        if (id == null) {
            return Optional.empty();
        }
        return Optional.of(meter.get(key, snapshotFs(id), snapshots));
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
     * @param key the container id
     * @throws BackendException NOT_FOUND for an unknown image, ALREADY_EXISTS when the key is used for another image
     */
    public List<MountSpec> prepareRootfs(String key, String imageRefOrId) {
        if (key == null || !KEY.matcher(key).matches()) {
            throw BackendException.invalid("failed to prepare rootfs \"" + key + "\": invalid key");
        }
        ContainerMeta c = withLock(() -> {
            ImageMeta image = require(imageRefOrId);
            ContainerMeta existing = containers.get(key);
            if (existing != null) {
                if (existing.imageId().equals(image.id())) {
                    return existing;
                }
                throw new BackendException(Kind.ALREADY_EXISTS, "failed to prepare rootfs \"" + key
                        + "\": it exists for image " + existing.imageId());
            }
            List<Long> lowers = new ArrayList<>();
            for (String diffId : image.diffIds().reversed()) {
                LayerMeta l = layers.get(diffId);
                if (l == null) {
                    throw new BackendException(Kind.FAILED_PRECONDITION, "failed to prepare rootfs \"" + key
                            + "\": layer " + diffId + " of image " + image.id() + " is not unpacked; pull it again");
                }
                lowers.add(l.snapshot());
            }
            if (lowers.isEmpty()) {
                lowers.add(EMPTY_SNAPSHOT);
            }
            long id = nextSnapshot++;
            try {
                Files.createDirectories(snapshotFs(id));
                Files.createDirectories(snapshots.resolve(Long.toString(id)).resolve("work"));
            } catch (IOException e) {
                throw new BackendException(Kind.INTERNAL, "failed to prepare rootfs \"" + key + "\": "
                        + e.getMessage(), e);
            }
            ContainerMeta meta = new ContainerMeta(key, id, image.id(), lowers);
            containers.put(key, meta);
            persist();
            return meta;
        });
        List<String> lower = c.lowers().stream().map(l -> snapshotFs(l).toString()).toList();
        Path dir = snapshots.resolve(Long.toString(c.snapshot()));
        return List.of(new MountSpec("overlay", "overlay", "", List.of(
                "lowerdir=" + String.join(":", lower),
                "upperdir=" + dir.resolve("fs"),
                "workdir=" + dir.resolve("work"))));
    }

    /** The keys of every prepared root file system, for reconciling with the records after a restart. */
    public java.util.Set<String> rootfsKeys() {
        return withLock(() -> java.util.Set.copyOf(containers.keySet()));
    }

    /** Deletes a container's writable layer; nothing happens when it is not there. The backend unmounts first. */
    public void releaseRootfs(String key) {
        ContainerMeta c = withLock(() -> {
            ContainerMeta m = containers.remove(key);
            if (m != null) {
                persist();
            }
            return m;
        });
        if (c != null) {
            meter.forget(key);
            try {
                LayerUnpacker.deleteTree(snapshots.resolve(Long.toString(c.snapshot())));
            } catch (IOException e) {
                throw new BackendException(Kind.INTERNAL, "failed to release rootfs \"" + key + "\": "
                        + e.getMessage(), e);
            }
        }
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
        ImageMeta image = withLock(() -> require(imageRefOrId));
        JsonNode cfg = parse(content.readOrEmpty(image.configDigest()), "config of image \"" + image.id() + "\"")
                .path("config");
        List<Path> lowers = withLock(() -> image.diffIds().reversed().stream()
                .map(layers::get).filter(java.util.Objects::nonNull).map(l -> snapshotFs(l.snapshot())).toList());
        String spec = runAs == null || runAs.isEmpty() ? cfg.path("User").asText("") : runAs;
        UserResolver.Resolved user = UserResolver.resolve(spec, image.id(),
                path -> ImageFiles.read(lowers, path, 4L << 20));
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

    // ----------------------------------------------------------------------------------------------------- gc

    /** Deletes blobs and unpacked layers that no image and no container uses. Waits for running pulls. */
    public void garbageCollect() {
        gcLock.writeLock().lock();
        try {
            collect();
        } finally {
            gcLock.writeLock().unlock();
        }
    }

    private void collect() {
        Set<String> blobs = new HashSet<>();
        List<LayerMeta> dead = withLock(() -> {
            Set<String> diffIds = new HashSet<>();
            Set<Long> used = new HashSet<>();
            for (ImageMeta m : images.values()) {
                blobs.add(m.topDigest());
                blobs.add(m.manifestDigest());
                blobs.add(m.configDigest());
                blobs.addAll(m.layerDigests());
                diffIds.addAll(m.diffIds());
            }
            containers.values().forEach(c -> used.addAll(c.lowers()));
            List<LayerMeta> out = new ArrayList<>();
            for (var it = layers.values().iterator(); it.hasNext(); ) {
                LayerMeta l = it.next();
                if (!diffIds.contains(l.diffId()) && !used.contains(l.snapshot())) {
                    out.add(l);
                    it.remove();
                }
            }
            if (!out.isEmpty()) {
                persist();
            }
            return out;
        });
        try {
            for (LayerMeta l : dead) {
                LayerUnpacker.deleteTree(snapshots.resolve(Long.toString(l.snapshot())));
            }
            int n = content.retainOnly(blobs);
            LOG.fine(() -> "image gc removed " + dead.size() + " snapshots and " + n + " blobs");
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to garbage-collect images: " + e.getMessage(), e);
        }
    }

    // -------------------------------------------------------------------------------------------------- misc

    /** The unpacked directory of a layer, by diff id (for tests and diagnostics). */
    Optional<Path> layerPath(String diffId) {
        return withLock(() -> Optional.ofNullable(layers.get(diffId)).map(l -> snapshotFs(l.snapshot())));
    }

    Path snapshotFs(long id) {
        return snapshots.resolve(Long.toString(id)).resolve("fs");
    }

    /** The store's root directory. */
    public Path root() {
        return root;
    }

    /**
     * Writes the metadata. A pending interrupt (a pull's layer job being cancelled) is held back meanwhile: it
     * would close the file channel half-way and leave the records in memory ahead of those on disk.
     */
    private void persist() {
        boolean interrupted = Thread.interrupted();
        try {
            Metadata.write(metadataFile, new Metadata.State(Metadata.VERSION, new LinkedHashMap<>(images),
                    new HashMap<>(layers), new HashMap<>(containers), nextSnapshot));
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to write image metadata \"" + metadataFile + "\": "
                    + e.getMessage(), e);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @FunctionalInterface
    private interface Locked<T> {
        T run();
    }

    private <T> T withLock(Locked<T> body) {
        lock.lock();
        try {
            return body.run();
        } catch (UncheckedIOException e) {
            throw new BackendException(Kind.INTERNAL, e.getMessage(), e);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        workers.shutdownNow();
        meter.close();
        registry.close();
    }
}
