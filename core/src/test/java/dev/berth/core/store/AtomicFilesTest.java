package dev.berth.core.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir
    Path dir;

    @Test
    void aWriteLeavesOnlyItsTargetAndStaleTempsOfOtherProcessesGo() throws Exception {
        long pid = ProcessHandle.current().pid();
        Path target = dir.resolve("r.json");
        AtomicFiles.write(target, "{}".getBytes());
        assertThat(Files.readString(target)).isEqualTo("{}");
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("r.json");
        }
        Path killed = Files.writeString(dir.resolve(".r.json.tmp-1-33"), "{half");
        Path older = Files.writeString(dir.resolve(".r.json.tmp"), "{half");
        Path mine = Files.writeString(dir.resolve(".r.json.tmp-" + pid + "-7"), "{");
        Path notTemp = Files.writeString(dir.resolve("x.tmp-1"), "keep");
        AtomicFiles.removeStaleTemps(dir);
        assertThat(killed).doesNotExist();
        assertThat(older).doesNotExist();
        assertThat(mine).exists();
        assertThat(notTemp).exists();
        assertThat(target).exists();
    }
}
