package dev.berth.core.plugin;

import dev.berth.core.store.AtomicFiles;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * The copies of plugin archives a previous run of the daemon left under its {@code <state>/plugins}, offered for
 * reuse so that a restart does not copy, hash and unpack every archive again.
 *
 * <p>A copy is reusable only if it is complete and its archive is still the same file. Complete: the host writes a
 * record ({@value #RECORD}) into a copy's directory only after the plugin in it loaded, so a copy cut short by a
 * crash (part-copied, part-unpacked) has none and is deleted. The same file: the record holds the archive's path,
 * size, modification time, file key (device and inode) and status-change time, and all five must match. The
 * status-change time cannot be set from user space, and any write to the file or rename onto its path changes it,
 * so an archive replaced or edited in place is copied and hashed anew. Where the file system does not report it (no
 * {@code unix} attribute view), nothing is reused.
 */
final class PluginCopies {
    static final String RECORD = ".source";
    private static final System.Logger LOG = System.getLogger(PluginHost.class.getName());

    /** A reusable copy: its content hash and directory. */
    record Copy(String hash, Path dir) {}

    private final Path copies;
    private final Map<String, Copy> byIdentity;

    private PluginCopies(Path copies, Map<String, Copy> byIdentity) {
        this.copies = copies;
        this.byIdentity = byIdentity;
    }

    /** No copies to reuse (the CLI's temporary copies, or a first start). */
    static PluginCopies none(Path copies) {
        return new PluginCopies(copies, new HashMap<>());
    }

    /**
     * Reads what a previous run left in {@code copies}. Directories without a valid record, and leftovers of copies
     * in progress, are deleted now.
     */
    static PluginCopies scan(Path copies) {
        Map<String, Copy> found = new HashMap<>();
        if (!Files.isDirectory(copies)) {
            return new PluginCopies(copies, found);
        }
        try (Stream<Path> s = Files.list(copies)) {
            for (Path d : s.toList()) {
                Properties p = read(d.resolve(RECORD));
                String hash = p == null ? null : p.getProperty("hash");
                String identity = p == null ? null : p.getProperty("identity");
                if (hash == null || identity == null || !hash.matches("[0-9a-f]{64}")
                        || !d.getFileName().toString().equals(hash.substring(0, 16)) || found.containsKey(identity)) {
                    PluginFiles.deleteQuietly(d);
                    continue;
                }
                found.put(identity, new Copy(hash, d));
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot read old plugin copies in {0}: {1}; they are deleted",
                    copies, e.getMessage());
            PluginFiles.deleteQuietly(copies);
            found.clear();
        }
        return new PluginCopies(copies, found);
    }

    /** The copy of the archive whose {@link #identity} is {@code id} if it can be reused; taken once. */
    synchronized Copy take(String id) {
        return id == null ? null : byIdentity.remove(id);
    }

    /** Deletes every copy no archive took. */
    synchronized void dropUntaken() {
        for (Copy c : byIdentity.values()) {
            PluginFiles.deleteQuietly(c.dir());
        }
        byIdentity.clear();
    }

    /**
     * Marks the copy in {@code dir} of the archive of identity {@code id} ({@link #identity}, read before it was
     * copied) complete, so that the next run may reuse it. Best effort: a copy without a record is only redone.
     */
    void record(Path dir, String id, String hash) {
        if (id == null || dir == null || !dir.getParent().equals(copies)
                || !dir.getFileName().toString().equals(hash.substring(0, 16))) {
            return;
        }
        Properties props = new Properties();
        props.setProperty("identity", id);
        props.setProperty("hash", hash);
        try {
            var out = new java.io.StringWriter();
            props.store(out, "berth: the plugin archive this directory is a complete copy of");
            AtomicFiles.write(dir.resolve(RECORD), out.toString().getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot record the plugin copy in {0}: {1}", dir, e.getMessage());
        }
    }

    /**
     * Prepares every archive in {@code paths} ({@link #prepare}), several at a time: copying, hashing and unpacking
     * are most of a plugin's load. Each path maps to its prepared archive or to the exception that stopped it.
     */
    Map<Path, Object> prepareAll(List<Path> paths) {
        Map<Path, Object> out = new HashMap<>();
        int threads = Math.min(paths.size(), Runtime.getRuntime().availableProcessors());
        if (threads <= 1) {
            paths.forEach(p -> out.put(p, tryPrepare(p)));
            return out;
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads,
                Thread.ofPlatform().name("berth-plugin-copy-", 0).daemon().factory());
        try {
            List<Future<Object>> futures = paths.stream().map(p -> pool.submit(() -> tryPrepare(p))).toList();
            for (int i = 0; i < paths.size(); i++) {
                out.put(paths.get(i), futures.get(i).get());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while copying plugin archives", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        } finally {
            pool.shutdown();
        }
        return out;
    }

    private Object tryPrepare(Path p) {
        try {
            return prepare(p);
        } catch (IOException | RuntimeException e) {
            return e;
        }
    }

    /**
     * Archive {@code p} copied into a new directory under {@link #copies}, hashed and (a zip) unpacked there, or the
     * previous run's complete copy of it. Touches no state but the copies on offer, so archives are prepared in
     * parallel; the host then files a new copy under its hash.
     */
    private LoadedArchive prepare(Path p) throws IOException {
        var attrs = Files.readAttributes(p, BasicFileAttributes.class);
        String identity = identity(p, attrs);
        Copy reuse = take(identity);
        if (reuse != null && Files.isRegularFile(reuse.dir().resolve(p.getFileName()))) {
            LoadedArchive a = archive(reuse.hash(), p, attrs, identity);
            a.copyDir = reuse.dir();
            a.reused = true;
            return a;
        }
        if (reuse != null) {
            PluginFiles.deleteQuietly(reuse.dir());
        }
        Files.createDirectories(copies);
        Path incoming = Files.createTempDirectory(copies, ".incoming-");
        try {
            Path copied = incoming.resolve(p.getFileName());
            Files.copy(p, copied, StandardCopyOption.COPY_ATTRIBUTES);
            LoadedArchive a = archive(PluginFiles.sha256(copied), p, attrs, identity);
            // Unpacked here rather than by PF4J's load, which finds the directory newer than the zip and keeps it.
            org.pf4j.util.FileUtils.expandIfZip(copied);
            a.copyDir = incoming;
            return a;
        } catch (IOException | RuntimeException e) {
            PluginFiles.deleteQuietly(incoming);
            throw e;
        }
    }

    private static LoadedArchive archive(String hash, Path p, BasicFileAttributes attrs, String identity) {
        LoadedArchive a = new LoadedArchive(hash, p);
        a.size = attrs.size();
        a.modified = attrs.lastModifiedTime();
        a.fileKey = attrs.fileKey();
        a.identity = identity;
        return a;
    }

    /** Path, size, modification time, file key and status-change time; null where the last is not reported. */
    static String identity(Path p, BasicFileAttributes attrs) {
        Object changed;
        try {
            changed = Files.getAttribute(p, "unix:ctime");
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return null;
        }
        if (changed == null || attrs.fileKey() == null) {
            return null;
        }
        return String.join("|", p.toAbsolutePath().normalize().toString(), Long.toString(attrs.size()),
                Objects.toString(attrs.lastModifiedTime()), attrs.fileKey().toString(), changed.toString());
    }

    private static Properties read(Path record) {
        try {
            Properties p = new Properties();
            p.load(new StringReader(Files.readString(record, StandardCharsets.UTF_8)));
            return p;
        } catch (IOException | IllegalArgumentException e) {
            return null;
        }
    }
}
