package dev.berth.core.store;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.berth.core.tracing.Tracing;
import dev.berth.spi.BackendException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.LongConsumer;
import java.util.stream.Stream;

/**
 * A map of records kept in memory and persisted as one JSON file per record under a directory. Every put
 * replaces the record's file atomically, so a {@code kill -9} at any point leaves either the old or the new
 * record, never a torn one. Leftover temp files are deleted on load.
 *
 * <p>Thread-safe. Writers of the same id are serialised by the caller (the RPC that owns the object).
 */
public final class RecordStore<T> {
    static final ObjectMapper JSON = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .findAndAddModules()
            .build();

    private final Path dir;
    private final Class<T> type;
    private final Function<T, String> idOf;
    private final Map<String, T> records = new ConcurrentHashMap<>();
    private final LongConsumer writeNanos;
    private volatile Listener<T> listener = Listener.none();

    /** Told of every write and removal (after it happened), on the writing thread; must be quick and not throw. */
    public interface Listener<T> {
        static <T> Listener<T> none() {
            return new Listener<>() {
                @Override
                public void written(T old, T now) {}

                @Override
                public void removed(T old) {}
            };
        }

        /** {@code old} is the record it replaced, or null for a new one. */
        void written(T old, T now);

        void removed(T old);
    }

    /** Sets the one listener (the objects' histories for {@code berth explain}). */
    public void listen(Listener<T> l) {
        this.listener = l;
    }

    public RecordStore(Path dir, Class<T> type, Function<T, String> idOf) {
        this(dir, type, idOf, nanos -> { });
    }

    /** With each write's duration (nanoseconds) reported to {@code writeNanos}, for the metrics. */
    public RecordStore(Path dir, Class<T> type, Function<T, String> idOf, LongConsumer writeNanos) {
        this.dir = dir;
        this.type = type;
        this.idOf = idOf;
        this.writeNanos = writeNanos;
    }

    /**
     * Loads every record from disk, after deleting the temp files of writes a killed berth left half done.
     * Files that cannot be parsed are reported through {@code onBroken} and left
     * in place for an operator to inspect, rather than silently dropped.
     */
    public void load(java.util.function.BiConsumer<Path, Exception> onBroken) {
        try {
            Files.createDirectories(dir);
            AtomicFiles.removeStaleTemps(dir); // writes a kill -9 cut short
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    String name = f.getFileName().toString();
                    if (name.startsWith(".") && name.contains(".tmp-")) {
                        Files.deleteIfExists(f);
                        continue;
                    }
                    if (!name.endsWith(".json")) {
                        continue;
                    }
                    try {
                        T rec = JSON.readValue(f.toFile(), type);
                        records.put(idOf.apply(rec), rec);
                    } catch (IOException | RuntimeException e) {
                        onBroken.accept(f, e);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load records from " + dir, e);
        }
    }

    public void put(T record) {
        String id = idOf.apply(record);
        long start = System.nanoTime();
        try (var span = Tracing.child("record write").attr("berth.store", dir.getFileName().toString())) {
            AtomicFiles.write(dir.resolve(id + ".json"), JSON.writeValueAsBytes(record));
            writeNanos.accept(System.nanoTime() - start);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot persist record " + id + " in " + dir, e);
        }
        T old = records.put(id, record);
        listener.written(old, record);
    }

    public void remove(String id) {
        T old = records.remove(id);
        if (old != null) {
            listener.removed(old);
        }
        try {
            Files.deleteIfExists(dir.resolve(id + ".json"));
            AtomicFiles.syncDirectory(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete record " + id + " in " + dir, e);
        }
    }

    public Optional<T> get(String id) {
        return Optional.ofNullable(records.get(id));
    }

    public Collection<T> all() {
        return List.copyOf(records.values());
    }

    /**
     * Resolves a full id or a unique prefix of one, as crictl allows. Empty when nothing matches;
     * a {@link BackendException} (INVALID_ARGUMENT) when the prefix is ambiguous.
     */
    public Optional<T> find(String idOrPrefix) {
        T exact = records.get(idOrPrefix);
        if (exact != null || idOrPrefix.isEmpty()) {
            return Optional.ofNullable(exact);
        }
        List<T> hits = new ArrayList<>();
        for (var e : records.entrySet()) {
            if (e.getKey().startsWith(idOrPrefix)) {
                hits.add(e.getValue());
            }
        }
        if (hits.size() > 1) {
            throw BackendException.invalid("id prefix \"" + idOrPrefix + "\" matches " + hits.size() + " objects");
        }
        return hits.stream().findFirst();
    }
}
