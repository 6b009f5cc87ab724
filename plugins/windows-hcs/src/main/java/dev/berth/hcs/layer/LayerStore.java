package dev.berth.hcs.layer;

import dev.berth.hcs.bind.BackupFiles;
import dev.berth.hcs.bind.HResults;
import dev.berth.hcs.bind.LayerApi;
import dev.berth.hcs.handle.HcsException;
import dev.berth.hcs.log.StateFiles;
import dev.berth.spi.BackendException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The imported layers of the handler, under its persistent directory (shared by all generations of the handler):
 * one folder per layer, named after the layer's chain id (its diff id and all its parents', as OCI defines it,
 * because a Windows layer is imported over its parents), imported once and shared by every container whose image
 * has it.
 *
 * <p>A layer is imported under a lock of its own (a file lock, so that two generations of the handler in one berth
 * also exclude each other) in hcsshim's order: a base layer's files are written into its folder and
 * {@code ProcessBaseImage} (and {@code ProcessUtilityImage} for a {@code UtilityVM}) finishes it; any other layer is
 * written into an import folder next to it and {@code ImportLayer} makes the layer from it over its parents. Only
 * then is its marker ({@code <chain>.imported}) written: a folder without a marker is a half-imported layer, which
 * the next import destroys ({@code DestroyLayer}) and does again. A failed import destroys what it wrote.
 *
 * <p>Who uses a layer is on disk too: one owner file per pod or container ({@code owners/<generation>/<id>}, the
 * chain ids of its image), written before its layers are imported. {@link #release} removes an owner and destroys
 * the layers no owner lists any more; {@link #gc} drops the owners a generation no longer has (after a restart) and
 * destroys every layer, or leftover of an import, that no owner lists.
 */
public final class LayerStore {
    private static final Pattern CHAIN = Pattern.compile("[0-9a-f]{64}");
    private static final String MARKER = ".imported";
    private static final String IMPORT = ".import";
    private static final String LOCK = ".lock";

    private final LayerApi api;
    private final BackupFiles files;
    private final Path root;
    private final Path owners;
    private final Path generationOwners;
    private final ConcurrentHashMap<String, ReentrantLock> locks = new ConcurrentHashMap<>();

    /** One layer of an image, base first: its blob as core keeps it and its diff id. */
    public record Source(Path blob, String diffId) {}

    /**
     * @param files      how a layer's files are written (with Win32 backup semantics on Windows)
     * @param root       the store's folder (under the handler's persistent directory)
     * @param generation names this generation of the handler (its state directory), whose owners it manages
     */
    public LayerStore(LayerApi api, BackupFiles files, Path root, String generation) {
        this.api = api;
        this.files = files;
        this.root = root;
        this.owners = root.resolve("owners");
        this.generationOwners = owners.resolve(sha256(generation).substring(0, 16));
    }

    public Path root() {
        return root;
    }

    /** OCI chain ids of layers given base first: the base's diff id, then sha256 of "parent-chain diff-id". */
    public static List<String> chainIds(List<String> diffIds) {
        List<String> out = new ArrayList<>();
        String chain = null;
        for (String d : diffIds) {
            chain = chain == null ? d : "sha256:" + sha256(chain + " " + d);
            out.add(chain);
        }
        return List.copyOf(out);
    }

    /** The folder of the layer with this chain id. */
    public Path folder(String chainId) {
        return root.resolve(hex(chainId));
    }

    /**
     * Imports the layers {@code owner}'s image needs (those not imported yet) and records that it uses them.
     * Returns the layers' folders nearest first, as the layer API takes parents. On failure the owner uses none.
     */
    public List<String> acquire(String owner, List<Source> layers) {
        List<String> chains = chainIds(layers.stream().map(Source::diffId).toList());
        writeOwner(owner, chains);
        try {
            List<String> parents = new ArrayList<>();
            for (int i = 0; i < layers.size(); i++) {
                importOne(chains.get(i), layers.get(i), List.copyOf(parents));
                parents.addFirst(folder(chains.get(i)).toString());
            }
            return List.copyOf(parents);
        } catch (RuntimeException e) {
            deleteOwner(owner);
            throw e;
        }
    }

    /** {@code owner} uses no layer any more; the layers nobody else uses are destroyed, nearest first. */
    public void release(String owner) {
        List<String> chains = readOwner(generationOwners.resolve(owner));
        deleteOwner(owner);
        for (String chain : chains.reversed()) {
            String h = hex(chain);
            locked(h, () -> {
                if (!used().contains(h)) {
                    discard(h);
                }
            });
        }
    }

    /**
     * Drops this generation's owners that are not in {@code live}, then destroys every layer and import leftover
     * that no owner of any generation lists. Returns the chain ids (hex) destroyed.
     */
    public List<String> gc(Set<String> live) {
        try (Stream<Path> s = Files.exists(generationOwners) ? Files.list(generationOwners) : Stream.empty()) {
            for (Path p : s.toList()) {
                String id = p.getFileName().toString();
                if (!id.endsWith(".tmp") && !live.contains(id)) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException e) {
            throw unavailable("cannot list the owners of layers in " + generationOwners, e);
        }
        Set<String> candidates = new HashSet<>();
        try (Stream<Path> s = Files.exists(root) ? Files.list(root) : Stream.empty()) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                String h = n.contains(".") ? n.substring(0, n.indexOf('.')) : n;
                if (CHAIN.matcher(h).matches() && !n.endsWith(LOCK)) {
                    candidates.add(h);
                }
            }
        } catch (IOException e) {
            throw unavailable("cannot list the layers in " + root, e);
        }
        List<String> removed = new ArrayList<>();
        for (String h : candidates.stream().sorted().toList()) {
            locked(h, () -> {
                if (!used().contains(h)) {
                    discard(h);
                    removed.add(h);
                }
            });
        }
        return List.copyOf(removed);
    }

    /** Whether the layer with this chain id is imported (its marker is written). */
    public boolean imported(String chainId) {
        return Files.exists(root.resolve(hex(chainId) + MARKER)) && Files.isDirectory(folder(chainId));
    }

    /** The import's hard links, made in the imported layer to its own file or the nearest parent's. */
    private void link(Path dir, List<LayerTar.Link> links, List<String> parents) throws IOException {
        for (LayerTar.Link l : links) {
            Path root = l.inLayer() ? dir : null;
            for (int i = 0; root == null && i < parents.size(); i++) {
                if (Files.exists(Path.of(parents.get(i)).resolve(l.target()), LinkOption.NOFOLLOW_LINKS)) {
                    root = Path.of(parents.get(i));
                }
            }
            if (root == null) {
                throw new IOException("hard link " + l.name() + ": no file " + l.target()
                        + " in the layer or its parents");
            }
            Path link = LayerTar.inside(dir, l.name());
            Files.createDirectories(link.getParent());
            Files.deleteIfExists(link);
            files.createHardLink(link, LayerTar.inside(root, l.target()));
        }
    }

    private void importOne(String chain, Source layer, List<String> parents) {
        String h = hex(chain);
        Path dir = root.resolve(h);
        Path marker = root.resolve(h + MARKER);
        Path staging = root.resolve(h + IMPORT);
        locked(h, () -> {
            if (Files.exists(marker) && Files.isDirectory(dir)) {
                return;
            }
            discard(h);
            try {
                Files.createDirectories(dir);
                if (parents.isEmpty()) {
                    LayerTar.Written w = LayerTar.write(layer.blob(), layer.diffId(), dir, files);
                    HcsException.check("ProcessBaseImage " + dir, api.processBaseImage(dir.toString()));
                    if (w.utilityVm()) {
                        Path uvm = dir.resolve("UtilityVM");
                        HcsException.check("ProcessUtilityImage " + uvm, api.processUtilityImage(uvm.toString()));
                    }
                } else {
                    Files.createDirectories(staging);
                    LayerTar.Written w = LayerTar.write(layer.blob(), layer.diffId(), staging, files,
                            LayerTar.Layout.IMPORT);
                    HcsException.check("ImportLayer " + dir, api.importLayer(dir.toString(), staging.toString(),
                            parents));
                    link(dir, w.links(), parents);
                    deleteTree(staging);
                }
                StateFiles.write(marker, (layer.diffId() + "\n" + chain + "\n").getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                discard(h);
                throw new BackendException(BackendException.Kind.FAILED_PRECONDITION, "cannot import layer "
                        + layer.diffId() + " from " + layer.blob() + ": " + e.getMessage(), e);
            } catch (RuntimeException e) {
                discard(h);
                throw e;
            }
        });
    }

    /** Destroys a layer and whatever an import of it left: marker first, so that nothing takes it as imported. */
    private void discard(String h) {
        Path dir = root.resolve(h);
        try {
            Files.deleteIfExists(root.resolve(h + MARKER));
            try (Stream<Path> s = Files.list(root)) { // the temp file of a marker write that a kill cut short
                for (Path p : s.toList()) {
                    String n = p.getFileName().toString();
                    if (n.startsWith(h + MARKER + ".") && n.endsWith(".tmp")) {
                        Files.deleteIfExists(p);
                    }
                }
            }
            if (Files.exists(dir)) {
                int hr = api.destroyLayer(dir.toString());
                if (HResults.failed(hr) && HcsException.kindOf(hr) != BackendException.Kind.NOT_FOUND) {
                    throw new HcsException("DestroyLayer " + dir, hr, null);
                }
                deleteTree(dir);
            }
            deleteTree(root.resolve(h + IMPORT));
        } catch (IOException e) {
            throw unavailable("cannot remove layer " + dir, e);
        }
    }

    private Set<String> used() {
        Set<String> out = new HashSet<>();
        try (Stream<Path> gens = Files.exists(owners) ? Files.list(owners) : Stream.empty()) {
            for (Path g : gens.toList()) {
                try (Stream<Path> s = Files.list(g)) {
                    for (Path f : s.toList()) {
                        if (!f.getFileName().toString().endsWith(".tmp")) {
                            readOwner(f).forEach(c -> out.add(hex(c)));
                        }
                    }
                } catch (NoSuchFileException gone) {
                    // a generation's owners removed meanwhile
                }
            }
        } catch (IOException e) {
            throw unavailable("cannot list the owners of layers in " + owners, e);
        }
        return out;
    }

    private void writeOwner(String owner, List<String> chains) {
        try {
            Files.createDirectories(generationOwners);
            StateFiles.write(generationOwners.resolve(owner),
                    chains.stream().map(c -> c + "\n").collect(Collectors.joining())
                    .getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw unavailable("cannot record the layers of " + owner + " in " + generationOwners, e);
        }
    }

    private void deleteOwner(String owner) {
        try {
            Files.deleteIfExists(generationOwners.resolve(owner));
        } catch (IOException e) {
            throw unavailable("cannot remove the layer record of " + owner, e);
        }
    }

    private static List<String> readOwner(Path f) {
        try {
            return Files.readAllLines(f, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw unavailable("cannot read " + f, e);
        }
    }

    /** Runs {@code body} holding the layer's lock: this store's threads first, then the file lock. */
    private void locked(String h, Runnable body) {
        ReentrantLock l = locks.computeIfAbsent(h, k -> new ReentrantLock());
        l.lock();
        try {
            Files.createDirectories(root);
            try (FileChannel ch = FileChannel.open(root.resolve(h + LOCK), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE); FileLock ignored = fileLock(ch)) {
                body.run();
            }
        } catch (IOException e) {
            throw unavailable("cannot lock layer " + h + " in " + root, e);
        } finally {
            l.unlock();
        }
    }

    /** The file lock; another store of this JVM (another generation) holding it shows as an overlap: wait. */
    private static FileLock fileLock(FileChannel ch) throws IOException {
        while (true) {
            try {
                return ch.lock();
            } catch (OverlappingFileLockException e) {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while waiting for a layer lock", ie);
                }
            }
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        }
    }

    private static String hex(String chainId) {
        String h = chainId.startsWith("sha256:") ? chainId.substring(7) : chainId;
        if (!CHAIN.matcher(h).matches()) {
            throw BackendException.invalid("not a sha256 chain id: " + chainId);
        }
        return h;
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static BackendException unavailable(String what, IOException e) {
        return new BackendException(BackendException.Kind.UNAVAILABLE, what + ": " + e.getMessage(), e);
    }
}
