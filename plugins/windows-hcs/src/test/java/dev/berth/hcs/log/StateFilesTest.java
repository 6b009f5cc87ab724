package dev.berth.hcs.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plugin's state files replaced whole, by berth and a relay writing one exit at the same time. */
class StateFilesTest {
    @TempDir
    Path dir;

    @Test
    void exitsWrittenFromManyThreadsAtOnceStayWholeAndLeaveNoTempFile() throws Exception {
        Path file = dir.resolve("c1.exit");
        try (var pool = Executors.newFixedThreadPool(4)) {
            List<Future<?>> writes = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                ExitFile.Exit exit = new ExitFile.Exit(i, Instant.ofEpochSecond(1_800_000_000L + i));
                writes.add(pool.submit(() -> {
                    ExitFile.write(file, exit);
                    return null;
                }));
            }
            for (Future<?> w : writes) {
                w.get();
            }
        }
        ExitFile.Exit read = ExitFile.read(file).orElseThrow();
        assertThat(read.finishedAt()).isEqualTo(Instant.ofEpochSecond(1_800_000_000L + read.code()));
        try (var names = Files.list(dir)) {
            assertThat(names.map(p -> p.getFileName().toString())).containsExactly("c1.exit");
        }
    }

    @Test
    void aWriteReplacesTheOldContentWhole() throws Exception {
        Path file = dir.resolve("pod.json");
        StateFiles.write(file, "{\"id\":\"a much longer first record\"}".getBytes());
        StateFiles.write(file, "{}".getBytes());
        assertThat(file).hasContent("{}");
    }
}
