package dev.berth.core.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.spi.BackendException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One JSON file per record, replaced atomically; what a killed write leaves is ignored on load. */
class RecordStoreTest {
    record Rec(String id, String value) {}

    @TempDir
    Path dir;

    private RecordStore<Rec> store() {
        return new RecordStore<>(dir, Rec.class, Rec::id);
    }

    private RecordStore<Rec> reloaded(Map<Path, Exception> broken) {
        RecordStore<Rec> s = store();
        s.load(broken::put);
        return s;
    }

    private List<String> files() throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aPutIsOneFileThatAnotherStoreLoads() throws Exception {
        RecordStore<Rec> s = store();
        s.put(new Rec("a", "1"));
        s.put(new Rec("a", "2"));
        s.put(new Rec("b", "3"));
        assertThat(files()).containsExactly("a.json", "b.json");
        Map<Path, Exception> broken = new ConcurrentHashMap<>();
        RecordStore<Rec> again = reloaded(broken);
        assertThat(again.get("a")).contains(new Rec("a", "2"));
        assertThat(again.all()).containsExactlyInAnyOrder(new Rec("a", "2"), new Rec("b", "3"));
        assertThat(broken).isEmpty();
    }

    /** Container records loaded from {@link #dir}, none of them unreadable. */
    private RecordStore<ContainerRecord> loadedContainers() {
        RecordStore<ContainerRecord> s = new RecordStore<>(dir, ContainerRecord.class, ContainerRecord::id);
        s.load((path, e) -> {
            throw new AssertionError(path + ": " + e);
        });
        return s;
    }

    @Test
    void aContainerRecordWrittenBeforeTheReportedImageFieldsReportsItsImageAndId() throws Exception {
        // As a berth before the imageName and imageRef fields wrote it; a downgrade ignores the fields it lacks.
        Files.writeString(dir.resolve("c1.json"), """
                {"id":"c1","sandboxId":"p1","nameKey":"k","name":"app","attempt":0,"image":"busybox:1.36",
                 "imageId":"sha256:abc","labels":{},"annotations":{},"createdAt":"2026-12-01T00:00:00Z",
                 "logPath":"","config":"","rootfsKey":"c1"}""");
        RecordStore<ContainerRecord> s = loadedContainers();
        ContainerRecord old = s.get("c1").orElseThrow();
        assertThat(old.reportedImage()).isEqualTo("busybox:1.36");
        assertThat(old.reportedImageRef()).isEqualTo("sha256:abc");

        s.put(new ContainerRecord("c2", "p1", "k2", "app", 0, "busybox:1.36", "sha256:abc", Map.of(), Map.of(),
                java.time.Instant.EPOCH, "", new byte[0], "c2", "docker.io/library/busybox:1.36",
                "docker.io/library/busybox@sha256:def"));
        ContainerRecord kept = loadedContainers().get("c2").orElseThrow();
        assertThat(kept.reportedImage()).isEqualTo("docker.io/library/busybox:1.36");
        assertThat(kept.reportedImageRef()).isEqualTo("docker.io/library/busybox@sha256:def");
        assertThat(kept.withConfig(new byte[] {1}).reportedImageRef()).isEqualTo("docker.io/library/busybox@sha256:def");
    }

    @Test
    void aTornTempFileIsIgnoredAndDeletedOnLoad() throws Exception {
        store().put(new Rec("a", "old"));
        // A write killed before its rename: half a record in the temp file, of another process.
        Files.writeString(dir.resolve(".a.json.tmp-999999999-7"), "{\"id\":\"a\",\"val");
        Files.writeString(dir.resolve(".b.json.tmp-999999999-8"), "{\"id\":\"b\",\"value\":\"new\"}");
        Files.writeString(dir.resolve(".c.json.tmp"), "{");
        Map<Path, Exception> broken = new ConcurrentHashMap<>();
        RecordStore<Rec> s = reloaded(broken);
        assertThat(s.all()).containsExactly(new Rec("a", "old"));
        assertThat(broken).isEmpty();
        assertThat(files()).containsExactly("a.json");
    }

    @Test
    void anUnreadableRecordIsReportedAndKept() throws Exception {
        store().put(new Rec("a", "1"));
        Files.writeString(dir.resolve("z.json"), "{not json");
        Map<Path, Exception> broken = new ConcurrentHashMap<>();
        RecordStore<Rec> s = reloaded(broken);
        assertThat(s.all()).containsExactly(new Rec("a", "1"));
        assertThat(broken).containsOnlyKeys(dir.resolve("z.json"));
        assertThat(files()).contains("z.json");
    }

    @Test
    void removeDeletesTheFileAndForgetsTheRecord() throws Exception {
        RecordStore<Rec> s = store();
        s.put(new Rec("a", "1"));
        s.put(new Rec("b", "2"));
        s.remove("a");
        s.remove("a");
        s.remove("never");
        assertThat(s.get("a")).isEmpty();
        assertThat(files()).containsExactly("b.json");
        assertThat(reloaded(new ConcurrentHashMap<>()).all()).containsExactly(new Rec("b", "2"));
    }

    @Test
    void concurrentWritersLeaveWholeRecordsAndNoTempFiles() throws Exception {
        RecordStore<Rec> s = store();
        int writers = 8;
        int rounds = 50;
        CyclicBarrier go = new CyclicBarrier(writers);
        List<Thread> threads = new ArrayList<>();
        List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int w = 0; w < writers; w++) {
            int me = w;
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                    for (int i = 0; i < rounds; i++) {
                        // Everyone writes the shared record; each writes its own too, with values of varying size.
                        s.put(new Rec("shared", "w" + me + "-" + "x".repeat(i * 37 % 500)));
                        s.put(new Rec("own-" + me, Integer.toString(i)));
                    }
                } catch (Throwable t) {
                    errors.add(t);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(errors).isEmpty();
        Map<Path, Exception> broken = new ConcurrentHashMap<>();
        RecordStore<Rec> again = reloaded(broken);
        assertThat(broken).isEmpty();
        assertThat(again.all()).hasSize(writers + 1);
        for (int w = 0; w < writers; w++) {
            assertThat(again.get("own-" + w)).contains(new Rec("own-" + w, Integer.toString(rounds - 1)));
        }
        assertThat(again.get("shared").orElseThrow().value()).matches("w[0-9]+-x*");
        assertThat(files()).noneMatch(n -> n.startsWith("."));
    }

    @Test
    void aReaderNeverSeesAHalfWrittenRecord() throws Exception {
        RecordStore<Rec> s = store();
        s.put(new Rec("r", ""));
        Thread writer = Thread.ofPlatform().start(() -> {
            for (int i = 0; i < 300; i++) {
                s.put(new Rec("r", "y".repeat(i % 2 == 0 ? 1 : 64 * 1024)));
            }
        });
        int reads = 0;
        while (writer.isAlive() || reads == 0) {
            Rec r = RecordStore.JSON.readValue(dir.resolve("r.json").toFile(), Rec.class);
            assertThat(r.value()).matches("y*");
            reads++;
        }
        writer.join();
    }

    @Test
    void anIdPrefixFindsOneRecordAndAnAmbiguousOneIsInvalid() {
        RecordStore<Rec> s = store();
        s.put(new Rec("abc1", "1"));
        s.put(new Rec("abc2", "2"));
        s.put(new Rec("def", "3"));
        assertThat(s.find("d")).contains(new Rec("def", "3"));
        assertThat(s.find("abc1")).contains(new Rec("abc1", "1"));
        assertThat(s.find("zzz")).isEmpty();
        assertThat(s.find("")).isEmpty();
        assertThatThrownBy(() -> s.find("abc")).isInstanceOfSatisfying(BackendException.class,
                e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.INVALID_ARGUMENT));
    }
}
