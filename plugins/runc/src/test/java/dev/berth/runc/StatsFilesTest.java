package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cgroup file reads of the pod metrics and the containerd 0.2 API's stats. */
class StatsFilesTest {
    @Test
    void keyedTakesEveryNumericTwoFieldLineInTheFilesOrder(@TempDir Path dir) throws Exception {
        Path stat = dir.resolve("memory.stat");
        StringBuilder text = new StringBuilder("cache 4096\nrss 123\nodd line with words\nnotanumber x\nempty \n");
        for (int i = 0; i < 200; i++) { // past the first buffer
            text.append("key").append(i).append(' ').append(i).append('\n');
        }
        text.append("last 9"); // no newline at the end
        Files.writeString(stat, text);
        Map<String, Long> keyed = BundleCgroupStats.keyed(stat);
        assertThat(keyed).hasSize(203).containsEntry("cache", 4096L).containsEntry("rss", 123L)
                .containsEntry("key199", 199L).containsEntry("last", 9L)
                .doesNotContainKeys("odd", "notanumber", "empty");
        assertThat(keyed.keySet()).startsWith("cache", "rss", "key0").endsWith("last");
        assertThat(BundleCgroupStats.keyed(dir.resolve("gone"))).isEmpty();
    }

    @Test
    void linesCountsTheIdsAndSkipsBlankLines(@TempDir Path dir) throws Exception {
        Path procs = dir.resolve("cgroup.procs");
        Files.writeString(procs, "");
        assertThat(Stats.lines(procs)).isZero();
        Files.writeString(procs, "12\n345\n\n  \n6789");
        assertThat(Stats.lines(procs)).isEqualTo(3);
        StringBuilder many = new StringBuilder();
        for (int i = 0; i < 500; i++) {
            many.append(100000 + i).append('\n');
        }
        Files.writeString(procs, many);
        assertThat(Stats.lines(procs)).isEqualTo(500);
        assertThat(Stats.lines(dir.resolve("gone"))).isEqualTo(-1);
    }
}
