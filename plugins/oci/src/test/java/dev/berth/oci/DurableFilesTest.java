package dev.berth.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Replacing a state file whole, from many writers at once, and the leftovers of a killed writer. */
class DurableFilesTest {
    @TempDir
    Path dir;

    private List<String> names() throws Exception {
        try (var files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aWriteReplacesTheWholeFileAndLeavesNoTempFile() throws Exception {
        Path file = dir.resolve("record.json");
        DurableFiles.write(file, "{\"a\":1,\"padding\":\"xxxxxxxxxxxxxxxx\"}".getBytes(StandardCharsets.UTF_8));
        DurableFiles.write(file, "{}".getBytes(StandardCharsets.UTF_8));
        assertThat(Files.readString(file)).isEqualTo("{}");
        assertThat(names()).containsExactly("record.json");
    }

    @Test
    void aWriteIntoAMissingDirectoryFailsAndLeavesNothing() {
        Path file = dir.resolve("gone").resolve("record.json");
        assertThatThrownBy(() -> DurableFiles.write(file, new byte[] {1})).isInstanceOf(NoSuchFileException.class);
        assertThat(dir.resolve("gone")).doesNotExist();
    }

    @Test
    void writersOfOneFileAtOnceEachWriteWholeAndTheLastRenameWins() throws Exception {
        Path file = dir.resolve("config.json");
        List<String> written = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            written.add("{\"writer\":" + i + ",\"body\":\"" + "y".repeat(i * 37) + "\"}");
        }
        try (var pool = Executors.newFixedThreadPool(4)) {
            List<Future<?>> writes = new ArrayList<>();
            for (String content : written) {
                writes.add(pool.submit(() -> {
                    DurableFiles.write(file, content.getBytes(StandardCharsets.UTF_8));
                    return null;
                }));
            }
            for (Future<?> w : writes) {
                w.get(); // a writer whose temp file another writer renamed away would fail here
            }
        }
        assertThat(written).contains(Files.readString(file));
        assertThat(names()).containsExactly("config.json");
    }

    @Test
    void tempFilesOfAnotherProcessAreStaleAndThisProcessesAreKept() throws Exception {
        long pid = ProcessHandle.current().pid();
        Path killed = Files.writeString(dir.resolve(".record.json.tmp-1-4"), "{half");
        Path killedOlder = Files.writeString(dir.resolve(".record.json.tmp-1"), "{half");
        Path older = Files.writeString(dir.resolve(".record.json.tmp"), "{half");
        Path samePrefix = Files.writeString(dir.resolve(".record.json.tmp-" + pid + "0-1"), "{half");
        Path mine = Files.writeString(dir.resolve(".record.json.tmp-" + pid + "-9"), "{");
        Path record = Files.writeString(dir.resolve("record.json"), "{}");
        Path dotfile = Files.writeString(dir.resolve(".init.pid"), "1");
        DurableFiles.removeStaleTemps(dir);
        assertThat(killed).doesNotExist();
        assertThat(killedOlder).doesNotExist();
        assertThat(older).doesNotExist();
        assertThat(samePrefix).as("another pid that starts with this one's digits").doesNotExist();
        assertThat(mine).exists();
        assertThat(record).hasContent("{}");
        assertThat(dotfile).exists();
        DurableFiles.removeStaleTemps(dir.resolve("absent"));
    }
}
