package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
    void theHierarchiesAreTheCgroupLinesOfMountinfo() {
        String mountinfo = """
                22 1 0:21 / / rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w
                30 22 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
                31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw
                32 30 0:28 / /sys/fs/cgroup/systemd rw,nosuid shared:11 - cgroup cgroup rw,xattr,name=systemd
                33 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:12 - cgroup cgroup rw,cpu,cpuacct
                40 22 0:40 / /var/lib/x/cgroup-like rw - cgroupfake none rw
                41 22 0:41 / /run/netns/cni-1 rw - nsfs nsfs rw""";
        var mounts = Cgroups.parseCgroupMounts(mountinfo);
        assertThat(mounts).extracting(m -> m.mountPoint().toString()).containsExactly("/sys/fs/cgroup/unified",
                "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/cpu,cpuacct");
        assertThat(Cgroups.hierarchiesOf(mounts)).containsExactly(
                new Cgroups.Hierarchy(Path.of("/sys/fs/cgroup/unified"), true, List.of()),
                new Cgroups.Hierarchy(Path.of("/sys/fs/cgroup/systemd"), false, List.of()),
                new Cgroups.Hierarchy(Path.of("/sys/fs/cgroup/cpu,cpuacct"), false, List.of("cpu", "cpuacct")));
        assertThat(Cgroups.parseCgroupMounts("")).isEmpty();
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
