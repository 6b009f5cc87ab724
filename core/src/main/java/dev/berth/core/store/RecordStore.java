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
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.function.LongConsumer;
import java.util.stream.Stream;

/**
 * A map of records kept in memory and persisted as one JSON file per record under a directory. Every put
 * replaces the record's file atomically, so a {@code kill -9} at any point leaves either the old or the new
 * record, never a torn one. Leftover temp files are deleted on load.
 *
 * <p>The records are sorted by id, so that an id prefix is a range lookup, and a store keeps any number of
 * secondary {@link Index indexes} (e.g. containers by pod, records by label) in step with every put, remove and
 * load, so that the List RPCs look their filters up instead of scanning every record.
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
    private final NavigableMap<String, T> records = new ConcurrentSkipListMap<>();
    private final LongConsumer writeNanos;
    private final List<java.util.function.BiConsumer<T, T>> listeners = new CopyOnWriteArrayList<>();
    private final java.util.concurrent.atomic.AtomicLong version = new java.util.concurrent.atomic.AtomicLong();
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

    /** Adds a listener of writes and removals (the objects' histories for {@code berth explain}). */
    public void listen(Listener<T> l) {
        listen((before, after) -> {
            if (after != null) {
                l.written(before, after);
            } else if (before != null) {
                l.removed(before);
            }
        });
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
                        changed(records.put(idOf.apply(rec), rec), rec);
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
        changed(records.put(id, record), record);
    }

    public void remove(String id) {
        changed(records.remove(id), null);
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

    /** How many records there are. */
    public int size() {
        return records.size();
    }

    /** The records whose id starts with {@code prefix} (all for an empty one), by id. */
    public List<T> withPrefix(String prefix) {
        if (prefix.isEmpty()) {
            return List.copyOf(records.values());
        }
        return List.copyOf(records.subMap(prefix, true, prefix + Character.MAX_VALUE, false).values());
    }

    /**
     * A secondary index: the ids of the records each key names, {@code keys} giving a record's keys (none is
     * fine). It is filled from the records there are and kept in step with every later put, remove and load.
     */
    public Index<T> index(java.util.function.Function<T, Collection<String>> keys) {
        Index<T> index = new Index<>(keys, idOf);
        listen(index::update);
        records.values().forEach(r -> index.update(null, r));
        return index;
    }

    /**
     * Calls {@code listener} with the record before and after every change (null before for a new record, null
     * after for a removed one), on the writer's thread after the change; it must be quick and not throw.
     */
    public void listen(java.util.function.BiConsumer<T, T> listener) {
        listeners.add(listener);
    }

    private void changed(T before, T after) {
        for (var l : listeners) {
            l.accept(before, after);
        }
        version.incrementAndGet();
    }

    /**
     * A number that grows with every change of the records, after the change and its listeners: an answer built from
     * the records while it stayed the same is still true as long as it stays the same.
     */
    public long version() {
        return version.get();
    }

    /**
     * The ids of the records with a key, kept by {@link RecordStore#index}. A lookup is a copy of the ids at that
     * moment; the records may have changed by the time the caller reads them, so a caller checks the records
     * it gets against its filter.
     */
    public static final class Index<T> {
        private final java.util.function.Function<T, Collection<String>> keys;
        private final java.util.function.Function<T, String> idOf;
        private final Map<String, Set<String>> ids = new ConcurrentHashMap<>();

        private Index(java.util.function.Function<T, Collection<String>> keys,
                      java.util.function.Function<T, String> idOf) {
            this.keys = keys;
            this.idOf = idOf;
        }

        /** The ids of the records with {@code key} (empty if none). */
        public Set<String> get(String key) {
            Set<String> s = ids.get(key);
            return s == null ? Set.of() : Set.copyOf(s);
        }

        /** How many keys the index holds: none is left behind by a removed record. */
        public int keys() {
            return ids.size();
        }

        private void update(T before, T after) {
            Collection<String> old = before == null ? List.of() : keys.apply(before);
            Collection<String> now = after == null ? List.of() : keys.apply(after);
            for (String k : old) {
                if (!now.contains(k)) {
                    String id = idOf.apply(before);
                    ids.computeIfPresent(k, (key, set) -> {
                        set.remove(id);
                        return set.isEmpty() ? null : set;
                    });
                }
            }
            for (String k : now) {
                String id = idOf.apply(after);
                ids.compute(k, (key, set) -> {
                    Set<String> s = set == null ? ConcurrentHashMap.newKeySet() : set;
                    s.add(id);
                    return s;
                });
            }
        }
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
        List<T> hits = new ArrayList<>(records.subMap(idOrPrefix, true, idOrPrefix + Character.MAX_VALUE, false)
                .values());
        if (hits.size() > 1) {
            throw BackendException.invalid("id prefix \"" + idOrPrefix + "\" matches " + hits.size() + " objects");
        }
        return hits.stream().findFirst();
    }
}
