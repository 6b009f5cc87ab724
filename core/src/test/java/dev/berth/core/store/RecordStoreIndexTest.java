package dev.berth.core.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.berth.spi.BackendException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecordStoreIndexTest {
    @TempDir
    Path dir;

    private static ContainerRecord ctr(String id, String pod, Map<String, String> labels) {
        return new ContainerRecord(id, pod, "key-" + id, "n-" + id, 0, "busybox", "sha256:1", labels, Map.of(),
                Instant.EPOCH, "", null, "");
    }

    private RecordStore<ContainerRecord> store() {
        return new RecordStore<>(dir, ContainerRecord.class, ContainerRecord::id);
    }

    @Test
    void indexesFollowPutsReplacementsAndRemovals() {
        var store = store();
        var byPod = store.index(c -> List.of(c.sandboxId()));
        var byLabel = store.index(c -> c.labels().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .toList());
        store.put(ctr("aa1", "p1", Map.of("app", "web")));
        store.put(ctr("aa2", "p1", Map.of("app", "db")));
        store.put(ctr("bb1", "p2", Map.of("app", "web")));
        assertEquals(Set.of("aa1", "aa2"), byPod.get("p1"));
        assertEquals(Set.of("aa1", "bb1"), byLabel.get("app=web"));

        store.put(ctr("aa1", "p1", Map.of("app", "db"))); // its labels changed
        assertEquals(Set.of("bb1"), byLabel.get("app=web"));
        assertEquals(Set.of("aa1", "aa2"), byLabel.get("app=db"));

        store.remove("aa1");
        store.remove("aa2");
        store.remove("bb1");
        assertEquals(Set.of(), byPod.get("p1"));
        assertEquals(0, byPod.keys(), "a removed record leaves no key behind");
        assertEquals(0, byLabel.keys());
    }

    @Test
    void anIndexMadeAfterLoadingHoldsTheLoadedRecords() {
        var first = store();
        first.put(ctr("cc1", "p9", Map.of()));
        var second = store();
        second.load((f, e) -> { throw new AssertionError(e); });
        assertEquals(Set.of("cc1"), second.index(c -> List.of(c.sandboxId())).get("p9"));
    }

    @Test
    void prefixesAreRangeLookups() {
        var store = store();
        store.put(ctr("ab1", "p", Map.of()));
        store.put(ctr("ab2", "p", Map.of()));
        store.put(ctr("b", "p", Map.of()));
        assertEquals(List.of("ab1", "ab2"), store.withPrefix("ab").stream().map(ContainerRecord::id).toList());
        assertEquals(3, store.withPrefix("").size());
        assertTrue(store.withPrefix("abc").isEmpty());
        assertEquals("ab2", store.find("ab2").orElseThrow().id());
        assertEquals("b", store.find("b").orElseThrow().id());
        assertTrue(store.find("c").isEmpty());
        assertThrows(BackendException.class, () -> store.find("ab"), "an ambiguous prefix");
    }
}
