package dev.berth.core.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.config.ConfigLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Persisted generations: directories, and options that read back equal to the config's, value types included. */
class GenerationStoreTest {
    @TempDir
    Path dir;

    @Test
    void optionsReadBackEqualToTheConfigsSoAnUnchangedHandlerKeepsItsGeneration() throws Exception {
        Path file = dir.resolve("config.toml");
        Files.writeString(file, """
                default_runtime = "kata-qemu"
                [runtimes.kata-qemu]
                type = "kata"
                [runtimes.kata-qemu.options]
                shim = "containerd-shim-kata-v2"
                shim_debug = true
                port = 8080
                big = 5000000000
                ratio = 0.5
                paths = ["/a", "/b"]
                empty = []
                [runtimes.kata-qemu.options.nested]
                key = "value"
                depth = { level = 2 }
                """);
        Map<String, Object> options = ConfigLoader.load(file, true).config().runtimes().get("kata-qemu").options();
        GenerationStore store = new GenerationStore(dir.resolve("state"));
        store.save(new GenerationStore.Entry("kata-qemu", 3, "kata", options));

        var loaded = store.load();
        assertThat(loaded).hasSize(1);
        assertThat(loaded.getFirst().handler()).isEqualTo("kata-qemu");
        assertThat(loaded.getFirst().generation()).isEqualTo(3);
        assertThat(loaded.getFirst().type()).isEqualTo("kata");
        assertThat(loaded.getFirst().options()).isEqualTo(options);
    }

    @Test
    void generationZeroKeepsTheLayoutFromBeforeGenerations() {
        GenerationStore store = new GenerationStore(dir.resolve("state"));
        assertThat(store.stateDir("runc", 0)).isEqualTo(dir.resolve("state/handlers/runc"));
        assertThat(store.stateDir("runc", 2)).isEqualTo(dir.resolve("state/handlers/runc@2"));
    }

    @Test
    void deleteRemovesTheDirectoryAndTheEntry() throws Exception {
        GenerationStore store = new GenerationStore(dir.resolve("state"));
        store.save(new GenerationStore.Entry("runc", 1, "runc", Map.of()));
        Path state = Files.createDirectories(store.stateDir("runc", 1).resolve("b/some-bundle"));
        Files.writeString(state.resolve("config.json"), "{}");
        Files.createSymbolicLink(store.stateDir("runc", 1).resolve("link"), dir);

        store.delete("runc", 1);
        assertThat(store.stateDir("runc", 1)).doesNotExist();
        assertThat(store.exists("runc", 1)).isFalse();
        assertThat(dir).as("a symbolic link is removed, not followed").isDirectory();
    }
}
