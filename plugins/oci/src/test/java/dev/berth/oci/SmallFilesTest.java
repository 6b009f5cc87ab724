package dev.berth.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SmallFilesTest {
    @Test
    void readsAWholeFilePastTheUsualSize(@TempDir Path dir) throws Exception {
        String text = "line\n".repeat(1000);
        Files.writeString(dir.resolve("f"), text);
        assertThat(SmallFiles.read(dir.resolve("f"), 16)).isEqualTo(text);
        Files.writeString(dir.resolve("exact"), "0123456789abcdef");
        assertThat(SmallFiles.read(dir.resolve("exact"), 16)).isEqualTo("0123456789abcdef");
        Files.writeString(dir.resolve("empty"), "");
        assertThat(SmallFiles.read(dir.resolve("empty"), 64)).isEmpty();
    }

    @Test
    void readsProcFilesWhoseSizeTheKernelReportsAsZero() throws Exception {
        Path stat = Path.of("/proc/self/stat");
        assertThat(Files.size(stat)).isZero();
        assertThat(SmallFiles.read(stat, 16)).startsWith(ProcessHandle.current().pid() + " (").endsWith("\n");
    }

    @Test
    void aMissingFileFailsAndItsNumberIsMinusOne(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> SmallFiles.read(dir.resolve("gone"), 16)).isInstanceOf(IOException.class);
        assertThat(SmallFiles.readLong(dir.resolve("gone"))).isEqualTo(-1);
        Files.writeString(dir.resolve("pid"), " 4242\n");
        assertThat(SmallFiles.readLong(dir.resolve("pid"))).isEqualTo(4242);
        Files.writeString(dir.resolve("junk"), "42x\n");
        assertThat(SmallFiles.readLong(dir.resolve("junk"))).isEqualTo(-1);
        Files.writeString(dir.resolve("blank"), "\n");
        assertThat(SmallFiles.readLong(dir.resolve("blank"))).isEqualTo(-1);
    }
}
