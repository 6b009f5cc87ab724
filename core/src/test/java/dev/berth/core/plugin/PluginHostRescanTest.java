package dev.berth.core.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rescans of a plugins directory with real plugin jars built in the test: new archives load, a newer version is
 * loaded beside the old one, which retires and is unloaded (class loader closed) only once unused, and a bad
 * archive never disturbs the running plugins.
 */
class PluginHostRescanTest {
    private static final String FACTORY = "dev/berth/testplugin/alpha/TestFactory.class";

    @TempDir
    Path dir;
    @TempDir
    Path copies;

    private PluginHost.PluginInfo plugin(PluginHost host, String id, String version) {
        return host.plugins().stream().filter(p -> p.id().equals(id) && p.version().equals(version)).findFirst()
                .orElse(null);
    }

    @Test
    void aNewArchiveIsLoadedOnRescan() throws Exception {
        try (PluginHost host = PluginHost.load(dir, copies)) {
            assertThat(host.types()).isEmpty();
            TestPluginJar.build(dir, "alpha", "alpha-type", ">=1.0.0", false, "1.0.0", "alpha.jar");
            var changes = host.rescan();
            assertThat(changes.loaded()).containsExactly("alpha 1.0.0");
            assertThat(host.types()).containsOnlyKeys("alpha-type");
            assertThat(plugin(host, "alpha", "1.0.0").state()).isEqualTo("started");
            assertThat(plugin(host, "alpha", "1.0.0").requires()).isEqualTo(">=1.0.0");
            // An unchanged directory changes nothing.
            assertThat(host.rescan().any()).isFalse();
        }
    }

    @Test
    void aNewerVersionReplacedInPlaceIsLoadedBesideTheOldOneWhichRetiresUntilUnused() throws Exception {
        TestPluginJar.build(dir, "alpha", "alpha-type", ">=1.0.0", false, "1.0.0", "alpha.jar");
        try (PluginHost host = PluginHost.load(dir, copies)) {
            BackendType old = host.types().get("alpha-type");
            TestPluginJar.build(dir, "alpha", "alpha-type", ">=1.0.0", false, "1.1.0", "alpha.jar");
            var changes = host.rescan();

            assertThat(changes.loaded()).containsExactly("alpha 1.1.0");
            assertThat(changes.retiring()).containsExactly("alpha 1.0.0");
            BackendType fresh = host.types().get("alpha-type");
            assertThat(fresh.pluginVersion()).isEqualTo("1.1.0");
            assertThat(fresh.classLoader()).isNotSameAs(old.classLoader());
            assertThat(plugin(host, "alpha", "1.0.0").state()).isEqualTo("retiring");
            // The old version reads its own copy, not the replaced file: it still loads its classes.
            assertThat(old.classLoader().getResource(FACTORY)).isNotNull();
            assertThat(old.classLoader().loadClass("dev.berth.testplugin.alpha.TestFactory"))
                    .isNotSameAs(fresh.factory().getClass());

            assertThat(host.sweep(Set.of(old.classLoader()))).as("a generation still uses 1.0.0").isEmpty();
            assertThat(plugin(host, "alpha", "1.0.0").state()).isEqualTo("retiring");
            assertThat(host.sweep(Set.of(fresh.classLoader()))).containsExactly("alpha 1.0.0");
            assertThat(plugin(host, "alpha", "1.0.0")).as("its archive is gone, so it is forgotten").isNull();
            assertThat(old.classLoader().getResource(FACTORY)).as("class loader closed").isNull();
            assertThat(plugin(host, "alpha", "1.1.0").state()).isEqualTo("started");
            assertThat(fresh.classLoader().getResource(FACTORY)).isNotNull();
            try (var s = Files.list(copies)) {
                assertThat(s.filter(p -> !p.getFileName().toString().startsWith(".")).count())
                        .as("only the current version's copy is left").isEqualTo(1);
            }
        }
    }

    @Test
    void aNewerVersionUnderAnotherNameSupersedesAndTheOlderComesBackWhenItIsRemoved() throws Exception {
        TestPluginJar.build(dir, "alpha", "alpha-type", ">=1.0.0", false, "1.0.0", "alpha-1.0.0.jar");
        try (PluginHost host = PluginHost.load(dir, copies)) {
            Path newer = TestPluginJar.build(dir, "alpha", "alpha-type", ">=1.0.0", false, "2.0.0",
                    "alpha-2.0.0.jar");
            host.rescan();
            assertThat(host.types().get("alpha-type").pluginVersion()).isEqualTo("2.0.0");
            assertThat(host.sweep(Set.of())).containsExactly("alpha 1.0.0");
            assertThat(plugin(host, "alpha", "1.0.0").state()).isEqualTo("superseded");
            // Still in the directory, but not loaded again by the next rescan.
            assertThat(host.rescan().loaded()).isEmpty();
            assertThat(plugin(host, "alpha", "1.0.0").classLoader()).isNull();

            Files.delete(newer);
            var changes = host.rescan();
            assertThat(changes.loaded()).containsExactly("alpha 1.0.0");
            assertThat(host.types().get("alpha-type").pluginVersion()).isEqualTo("1.0.0");
            assertThat(plugin(host, "alpha", "2.0.0").state()).isEqualTo("retiring");
        }
    }

    @Test
    void aRemovedArchiveRetiresAndIsUnloadedOnlyWhenUnused() throws Exception {
        Path jar = TestPluginJar.build(dir, "alpha", "alpha-type", ">=1.0.0", false, "1.0.0", "alpha.jar");
        try (PluginHost host = PluginHost.load(dir, copies)) {
            BackendType t = host.types().get("alpha-type");
            Files.delete(jar);
            assertThat(host.rescan().retiring()).containsExactly("alpha 1.0.0");
            assertThat(host.types()).as("no new handler can use a removed plugin").isEmpty();
            assertThat(host.sweep(Set.of(t.classLoader()))).isEmpty();
            assertThat(plugin(host, "alpha", "1.0.0").state()).isEqualTo("retiring");
            assertThat(t.classLoader().getResource(FACTORY)).isNotNull();
            assertThat(host.sweep(Set.of())).containsExactly("alpha 1.0.0");
            assertThat(host.plugins()).isEmpty();
            assertThat(t.classLoader().getResource(FACTORY)).isNull();
        }
    }

    @Test
    void aBrokenOrIncompatibleNewArchiveIsReportedAndTheRunningPluginsStay() throws Exception {
        TestPluginJar.build(dir, "alpha", "alpha-type", ">=1.0.0", false, "1.0.0", "alpha.jar");
        try (PluginHost host = PluginHost.load(dir, copies)) {
            BackendType before = host.types().get("alpha-type");
            TestPluginJar.garbage(dir, "broken.jar");
            TestPluginJar.build(dir, "alpha", "alpha-type", ">=9.0.0", false, "3.0.0", "alpha-future.jar");
            var changes = host.rescan();

            assertThat(changes.failed()).containsExactlyInAnyOrder("broken.jar", "alpha-future.jar");
            assertThat(host.types().get("alpha-type")).isSameAs(before);
            assertThat(plugin(host, "alpha", "1.0.0").state()).isEqualTo("started");
            assertThat(host.plugins()).filteredOn(p -> p.state().equals("failed"))
                    .extracting(p -> p.path().getFileName().toString())
                    .containsExactlyInAnyOrder("broken.jar", "alpha-future.jar");
            assertThat(host.plugins()).filteredOn(p -> p.path().getFileName().toString().equals("alpha-future.jar"))
                    .singleElement().satisfies(p -> assertThat(p.error()).contains("9.0.0"));

            // Fixed: the failures are gone from the report on the next rescan.
            Files.delete(dir.resolve("broken.jar"));
            Files.delete(dir.resolve("alpha-future.jar"));
            assertThat(host.rescan().failed()).isEmpty();
            assertThat(host.plugins()).noneMatch(p -> p.state().equals("failed"));
        }
    }
}
