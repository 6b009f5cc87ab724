package dev.berth.core.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.config.BerthConfig;
import dev.berth.core.config.ConfigLoader;
import dev.berth.core.dispatch.GenerationStore;
import dev.berth.core.store.RecordStore;
import dev.berth.core.store.SandboxRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code berth doctor} names the generations that still serve pods with options the config no longer has. */
class DoctorGenerationsTest {
    @TempDir
    Path dir;

    @Test
    void namesRetiredGenerationsThatStillServePods() throws Exception {
        Path file = dir.resolve("config.toml");
        Files.writeString(file, "state = \"" + dir.resolve("state") + "\"\n" + """
                default_runtime = "runc"
                [runtimes.runc]
                type = "runc"
                [runtimes.runc.options]
                binary = "crun"
                """);
        BerthConfig c = ConfigLoader.load(file, true).config();
        var store = new GenerationStore(c.state());
        store.save(new GenerationStore.Entry("runc", 0, "runc", Map.of("binary", "runc")));
        store.save(new GenerationStore.Entry("runc", 1, "runc", Map.of("binary", "crun")));
        store.save(new GenerationStore.Entry("gone", 0, "runc", Map.of()));
        store.save(new GenerationStore.Entry("idle", 0, "runc", Map.of()));
        var records = new RecordStore<>(c.state().resolve("records/sandboxes"), SandboxRecord.class,
                SandboxRecord::id);
        records.put(pod("a", "runc", 0));
        records.put(pod("b", "runc", 0));
        records.put(pod("c", "runc", 1));
        records.put(pod("d", "gone", 0));

        assertThat(DoctorCommand.generations(c)).containsExactly(
                "handler generations:",
                "  WARN handler \"gone\" generation 0 still serves 1 pod(s) with a handler no longer configured; new "
                        + "pods get the config's; it closes when those pods are removed",
                "  WARN handler \"runc\" generation 0 still serves 2 pod(s) with options the config no longer has; "
                        + "new pods get the config's; it closes when those pods are removed");
    }

    @Test
    void saysNothingWithoutState() throws Exception {
        Path file = dir.resolve("config.toml");
        Files.writeString(file, "state = \"" + dir.resolve("state") + "\"\n");
        assertThat(DoctorCommand.generations(ConfigLoader.load(file, true).config())).isEmpty();
        assertThat(dir.resolve("state")).doesNotExist();
    }

    private static SandboxRecord pod(String id, String handler, int generation) {
        return new SandboxRecord(id, id, id, id, "default", 0, handler, "runc", "runc", Map.of(), Map.of(),
                Instant.now(), new byte[0], null, "", null, false, SandboxRecord.State.READY, generation);
    }
}
