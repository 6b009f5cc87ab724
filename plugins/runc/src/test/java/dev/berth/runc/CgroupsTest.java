package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CgroupsTest {
    @Test
    void readKeysTakesEveryKeyFromOneReadingAndMarksTheMissingOnes(@TempDir Path dir) throws Exception {
        Path stat = dir.resolve("memory.stat");
        Files.writeString(stat, """
                cache 4096
                total_rss 123
                total_rss_huge 7
                odd line with words
                total_inactive_file 42
                total_pgfault notanumber
                """);
        OptionalLong[] v = Cgroups.readKeys(stat, "total_inactive_file", "total_rss", "total_pgfault",
                "total_pgmajfault", "total_rss_huge");
        assertThat(v).containsExactly(OptionalLong.of(42), OptionalLong.of(123), OptionalLong.empty(),
                OptionalLong.empty(), OptionalLong.of(7));
        // the same answers as reading key by key
        assertThat(Cgroups.readKey(stat, "total_rss")).hasValue(123);
        assertThat(Cgroups.readKey(stat, "total_pgmajfault")).isEmpty();
        assertThat(Cgroups.readKeys(dir.resolve("gone"), "a", "b")).containsExactly(OptionalLong.empty(),
                OptionalLong.empty());
    }

    @Test
    void readKeysScansEdgeLinesAsTheKernelWritesThem(@TempDir Path dir) throws Exception {
        Path stat = dir.resolve("cpu.stat");
        // A key that is a prefix of another, one named twice (the first decides), an empty value, and a last line
        // without its newline; over 2 KiB of lines before it, past the first buffer.
        StringBuilder text = new StringBuilder("usage 1\nusage_usec 2\nusage_usec 3\nempty \n");
        for (int i = 0; i < 200; i++) {
            text.append("filler_").append(i).append(' ').append(i).append('\n');
        }
        text.append("throttled_usec 99");
        Files.writeString(stat, text);
        assertThat(Cgroups.readKeys(stat, "usage_usec", "usage", "empty", "throttled_usec", "usage_u"))
                .containsExactly(OptionalLong.of(2), OptionalLong.of(1), OptionalLong.empty(), OptionalLong.of(99),
                        OptionalLong.empty());
    }

    @Test
    void readLongTakesOneNumberOrMax(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("memory.current"), "4096\n");
        Files.writeString(dir.resolve("memory.max"), "max\n");
        Files.writeString(dir.resolve("odd"), "12 34\n");
        assertThat(Cgroups.readLong(dir.resolve("memory.current"))).hasValue(4096);
        assertThat(Cgroups.readLong(dir.resolve("memory.max"))).hasValue(Long.MAX_VALUE);
        assertThat(Cgroups.readLong(dir.resolve("odd"))).isEmpty();
        assertThat(Cgroups.readLong(dir.resolve("gone"))).isEmpty();
    }

    @Test
    void aCgroupPathIsMadeRelativeToTheHierarchy() {
        assertThat(Cgroups.relative("//kubepods/pod1")).isEqualTo("kubepods/pod1");
        assertThat(Cgroups.relative("kubepods")).isEqualTo("kubepods");
        assertThat(Cgroups.relative("/")).isEmpty();
        assertThat(Cgroups.relative("")).isEmpty();
    }

    @Test
    void theCgroupMountsAreReadOncePerIntervalNotOncePerCall() {
        // The stats of every container ask for the hierarchies; reading mountinfo each time made a stats call
        // grow with the square of the pods.
        Cgroups.hierarchies();
        long before = Cgroups.MOUNTINFO_READS.get();
        for (int i = 0; i < 1000; i++) {
            Cgroups.hierarchies();
            Cgroups.systemdHierarchy();
        }
        long reads = Cgroups.MOUNTINFO_READS.get() - before;
        if (Cgroups.hierarchies().isEmpty()) {
            // no cgroup mounted here (a bare build container): nothing is kept, every call reads again
            assertThat(reads).isGreaterThanOrEqualTo(2000);
        } else {
            assertThat(reads).as("mountinfo readings for 2000 calls").isLessThanOrEqualTo(1);
        }
    }
}
