package dev.berth.core.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A daemon's restart reuses its complete copies of unchanged plugin archives, and copies anew whatever changed or
 * was cut short.
 */
class PluginCopiesTest {
    @TempDir
    Path dir;
    @TempDir
    Path copies;

    private List<Path> copyDirs() throws Exception {
        try (Stream<Path> s = Files.list(copies)) {
            return s.sorted().toList();
        }
    }

    private static Object fileKey(Path p) throws Exception {
        return Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
    }

    /** A first run with the archive alpha 1.0.0: it loads, and leaves one copy, whose directory is returned. */
    private Path firstRun() throws Exception {
        TestPluginJar.build(dir, "alpha", "alpha-type", ">=1.0.0", false, "1.0.0", "alpha.jar");
        try (PluginHost host = PluginHost.load(dir, copies)) {
            assertThat(host.types()).containsOnlyKeys("alpha-type");
        }
        assertThat(copyDirs()).hasSize(1);
        return copyDirs().getFirst();
    }

    @Test
    void aRestartReusesTheCompleteCopyOfAnUnchangedArchive() throws Exception {
        Path before = firstRun();
        assertThat(before.resolve(PluginCopies.RECORD)).exists();
        Object copiedFile = fileKey(before.resolve("alpha.jar"));

        try (PluginHost host = PluginHost.load(dir, copies)) {
            assertThat(host.types()).containsOnlyKeys("alpha-type");
            assertThat(host.plugins().getFirst().state()).isEqualTo("started");
        }
        assertThat(copyDirs()).containsExactly(before);
        assertThat(fileKey(before.resolve("alpha.jar"))).as("the same copy, not a new one")
                .isEqualTo(copiedFile);
    }

    @Test
    void anArchiveReplacedInPlaceIsCopiedAnewAndTheOldCopyDeleted() throws Exception {
        TestPluginJar.build(dir, "alpha", "alpha-type", ">=1.0.0", false, "1.0.0", "alpha.jar");
        try (PluginHost host = PluginHost.load(dir, copies)) {
            assertThat(host.plugins().getFirst().version()).isEqualTo("1.0.0");
        }
        Path old = copyDirs().getFirst();
        TestPluginJar.build(dir, "alpha", "alpha-type", ">=1.0.0", false, "1.1.0", "alpha.jar");
        try (PluginHost host = PluginHost.load(dir, copies)) {
            assertThat(host.plugins().getFirst().version()).isEqualTo("1.1.0");
        }
        assertThat(copyDirs()).hasSize(1).doesNotContain(old);
    }

    @Test
    void copiesCutShortAndCopiesWithABadRecordAreDeleted() throws Exception {
        Path good = firstRun();
        Path cutShort = Files.createDirectories(copies.resolve("0123456789abcdef"));
        Files.writeString(cutShort.resolve("half.zip"), "not all of it");
        Path incoming = Files.createDirectories(copies.resolve(".incoming-123"));
        Files.writeString(incoming.resolve("alpha.jar"), "partial");
        Path forged = Files.createDirectories(copies.resolve("fedcba9876543210"));
        Files.writeString(forged.resolve(PluginCopies.RECORD), "hash=" + "ab".repeat(32) + "\nidentity=x\n");

        try (PluginHost host = PluginHost.load(dir, copies)) {
            assertThat(host.types()).containsOnlyKeys("alpha-type");
        }
        assertThat(copyDirs()).containsExactly(good);
    }

    @Test
    void aRecordWhoseCopyLostItsArchiveIsCopiedAnew() throws Exception {
        Path copy = firstRun();
        Files.delete(copy.resolve("alpha.jar"));
        try (PluginHost host = PluginHost.load(dir, copies)) {
            assertThat(host.types()).containsOnlyKeys("alpha-type");
            assertThat(host.plugins().getFirst().state()).isEqualTo("started");
        }
        assertThat(copyDirs()).hasSize(1);
        assertThat(copyDirs().getFirst().resolve("alpha.jar")).exists();
        assertThat(copyDirs().getFirst().resolve(PluginCopies.RECORD)).exists();
    }

    @Test
    void severalArchivesArePreparedTogetherAndEachLoads() throws Exception {
        for (String id : List.of("alpha", "beta", "gamma")) {
            TestPluginJar.build(dir, id, id + "-type", ">=1.0.0", false, "1.0.0", id + ".jar");
        }
        TestPluginJar.garbage(dir, "broken.jar");
        try (PluginHost host = PluginHost.load(dir, copies)) {
            assertThat(host.types()).containsOnlyKeys("alpha-type", "beta-type", "gamma-type");
            assertThat(host.plugins()).filteredOn(p -> "failed".equals(p.state())).singleElement()
                    .satisfies(p -> assertThat(p.path().getFileName().toString()).isEqualTo("broken.jar"));
        }
        assertThat(copyDirs()).hasSize(3).allSatisfy(d -> assertThat(d.resolve(PluginCopies.RECORD)).exists());
    }
}
