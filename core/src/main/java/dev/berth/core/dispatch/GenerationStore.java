package dev.berth.core.dispatch;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import dev.berth.core.store.AtomicFiles;
import dev.berth.core.util.FileTrees;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Where the backend generations of handlers live on disk, and what each was created with.
 *
 * <p>A generation is one backend instance of a handler, with a state directory of its own: generation 0 has
 * {@code <state>/handlers/<name>} (the layout from before generations existed, so pods created then are still
 * found), generation N has {@code <state>/handlers/<name>@N}. Core keeps a small TOML file per generation under
 * {@code <state>/generations/<name>@<N>.toml} with the handler's type and options as the generation was created,
 * so that after a restart a generation that still owns pods is re-created with exactly those options, whatever
 * the config says now. {@code @} cannot appear in a RuntimeClass handler name, so the names never collide.
 */
public final class GenerationStore {
    private static final System.Logger LOG = System.getLogger(GenerationStore.class.getName());
    private static final String SUFFIX = ".toml";

    /** One persisted generation. */
    public record Entry(String handler, int generation, String type, Map<String, Object> options) {
        public Entry {
            options = options == null ? Map.of() : options;
        }
    }

    private final TomlMapper toml = new TomlMapper();
    private final Path handlers;
    private final Path meta;

    /** The generations under berth's state directory {@code state}. */
    public GenerationStore(Path state) {
        this.handlers = state.resolve("handlers");
        this.meta = state.resolve("generations");
    }

    /** The state directory of {@code handler}'s generation {@code generation}. */
    Path stateDir(String handler, int generation) {
        return generation == 0 ? handlers.resolve(handler) : handlers.resolve(handler + "@" + generation);
    }

    /** Every persisted generation; a file that cannot be read is logged and left for an operator. */
    public List<Entry> load() {
        if (!Files.isDirectory(meta)) {
            return List.of();
        }
        List<Entry> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(meta)) {
            for (Path f : files.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).sorted().toList()) {
                try {
                    out.add(read(f));
                } catch (IOException | RuntimeException e) {
                    LOG.log(System.Logger.Level.ERROR, "unreadable handler generation {0}: {1}", f, e.getMessage());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + meta, e);
        }
        return out;
    }

    private Entry read(Path f) throws IOException {
        Map<String, Object> m = toml.readValue(Files.readString(f, StandardCharsets.UTF_8),
                new TypeReference<LinkedHashMap<String, Object>>() {});
        @SuppressWarnings("unchecked")
        Map<String, Object> options = m.get("options") instanceof Map<?, ?> o ? (Map<String, Object>) o : Map.of();
        if (!(m.get("handler") instanceof String handler) || !(m.get("type") instanceof String type)
                || !(m.get("generation") instanceof Number gen)) {
            throw new IOException("missing handler, type or generation");
        }
        return new Entry(handler, gen.intValue(), type, options);
    }

    /**
     * Persists a generation before its backend is created (temp file, fsync, rename), so that a crash at any
     * point leaves either no file or a whole one.
     */
    public void save(Entry e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("handler", e.handler());
        m.put("generation", e.generation());
        m.put("type", e.type());
        m.put("options", e.options());
        try {
            AtomicFiles.write(file(e.handler(), e.generation()), toml.writeValueAsBytes(m));
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot persist generation " + e.generation() + " of handler "
                    + e.handler(), ex);
        }
    }

    /**
     * Forgets a generation whose backend is closed and owns no pod: deletes its state directory and its file.
     * Refuses (logging why) to delete a directory with something mounted below it, as a pod's leftover mount must
     * never have its contents deleted; the file then stays too, so a later start retries.
     */
    void delete(String handler, int generation) {
        Path dir = stateDir(handler, generation);
        try {
            List<String> mounts = mountsUnder(dir);
            if (!mounts.isEmpty()) {
                LOG.log(System.Logger.Level.WARNING, "keeping state directory {0} of handler \"{1}\" generation {2}: "
                        + "still mounted below it: {3}", dir, handler, generation, mounts);
                return;
            }
            FileTrees.deleteTree(dir);
            Files.deleteIfExists(file(handler, generation));
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot delete state directory {0} of handler \"{1}\" generation "
                    + "{2}: {3}", dir, handler, generation, e.getMessage());
        }
    }

    /** Whether generation {@code generation} of {@code handler} is persisted. */
    boolean exists(String handler, int generation) {
        return Files.exists(file(handler, generation));
    }

    /** Deletes only the persisted entry of a generation, leaving its state directory. */
    void forget(String handler, int generation) {
        try {
            Files.deleteIfExists(file(handler, generation));
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot delete {0}: {1}", file(handler, generation), e.getMessage());
        }
    }

    private Path file(String handler, int generation) {
        return meta.resolve(handler + "@" + generation + SUFFIX);
    }

    /** Mount points at or below {@code dir}, from {@code /proc/self/mountinfo}. */
    private static List<String> mountsUnder(Path dir) throws IOException {
        Path info = Path.of("/proc/self/mountinfo");
        if (!Files.isReadable(info)) {
            return List.of();
        }
        String prefix = dir.toAbsolutePath().normalize().toString();
        List<String> found = new ArrayList<>();
        for (String line : Files.readAllLines(info)) {
            String[] fields = line.split(" ");
            if (fields.length > 4) {
                String mountPoint = fields[4].replace("\\040", " ");
                if (mountPoint.equals(prefix) || mountPoint.startsWith(prefix + "/")) {
                    found.add(mountPoint);
                }
            }
        }
        return found;
    }
}
