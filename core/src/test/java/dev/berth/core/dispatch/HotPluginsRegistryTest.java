package dev.berth.core.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.config.ConfigException;
import dev.berth.core.config.ConfigLoader;
import dev.berth.core.plugin.PluginHost;
import dev.berth.core.plugin.TestPluginJar;
import dev.berth.spi.BackendException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The handler table over real plugin jars across plugin rescans: a newer archive gives a handler a new generation
 * on the new plugin while old pods stay on the old one, whose plugin is unloaded with the last generation using
 * it; a drained handler refuses new pods, persistently.
 */
class HotPluginsRegistryTest {
    private static final String FACTORY = "dev/berth/testplugin/alpha/TestFactory.class";
    private static final String CONFIG = """
            default_runtime = "a"
            [runtimes.a]
            type = "alpha-type"
            """;

    @TempDir
    Path dir;

    private PluginHost host;
    private HandlerRegistry registry;

    @AfterEach
    void close() {
        if (registry != null) {
            registry.close();
        }
        if (host != null) {
            host.close();
        }
    }

    private ConfigLoader.Loaded load(String config) throws Exception {
        Path file = dir.resolve("config.toml");
        Files.writeString(file, "state = \"" + dir.resolve("state") + "\"\nroot = \"" + dir.resolve("root") + "\"\n"
                + config);
        return ConfigLoader.load(file, true);
    }

    private Path plugins() throws Exception {
        return Files.createDirectories(dir.resolve("plugins"));
    }

    private void start() throws Exception {
        host = PluginHost.load(plugins(), dir.resolve("state/plugins"));
        registry = new HandlerRegistry(host.types(), dir.resolve("state"), dir.resolve("root"), e -> {});
        registry.onGenerationClosed(() -> host.sweep(registry.loadersInUse()));
        registry.apply(load(CONFIG));
    }

    /** What the daemon's reload does: rescan, apply with the new types, unload what no generation uses. */
    private void reload(String config) throws Exception {
        host.rescan();
        try {
            registry.apply(load(config), host.types());
        } finally {
            host.sweep(registry.loadersInUse());
        }
    }

    private PluginHost.PluginInfo plugin(String version) {
        return host.plugins().stream().filter(p -> p.version().equals(version)).findFirst().orElse(null);
    }

    @Test
    void aNewerPluginVersionGetsNewPodsAndTheOldOneIsUnloadedWithItsLastPod() throws Exception {
        TestPluginJar.build(plugins(), "alpha", "alpha-type", ">=1.0.0", false, "1.0.0", "alpha.jar");
        start();
        Handler first = registry.claim("pod1", "a");
        assertThat(first.pluginVersion()).isEqualTo("1.0.0");
        ClassLoader oldLoader = registry.loaderOf(first);

        TestPluginJar.build(plugins(), "alpha", "alpha-type", ">=1.0.0", false, "1.1.0", "alpha.jar");
        reload(CONFIG);

        Handler second = registry.claim("pod2", "a");
        assertThat(second.pluginVersion()).as("same options, newer plugin: a new generation").isEqualTo("1.1.0");
        assertThat(second.generation()).isEqualTo(1);
        assertThat(registry.generations()).containsExactlyInAnyOrder(first, second);
        assertThat(plugin("1.0.0").state()).isEqualTo("retiring");
        assertThat(oldLoader.getResource(FACTORY)).as("the old plugin stays loaded for pod1").isNotNull();

        registry.release(first, "pod1");
        assertThat(registry.generations()).containsExactly(second);
        assertThat(plugin("1.0.0")).as("unloaded with its last generation").isNull();
        assertThat(oldLoader.getResource(FACTORY)).as("its class loader is closed").isNull();
        assertThat(plugin("1.1.0").state()).isEqualTo("started");

        // Another reload with nothing changed keeps the generation and its backend.
        reload(CONFIG);
        assertThat(registry.claim("pod3", "a")).isSameAs(second);
    }

    @Test
    void aRemovedPluginsHandlerRetiresAndThePluginIsUnloadedOnlyAfterItsPodsAreGone() throws Exception {
        Path jar = TestPluginJar.build(plugins(), "alpha", "alpha-type", ">=1.0.0", false, "1.0.0", "alpha.jar");
        TestPluginJar.build(plugins(), "beta", "beta-type", ">=1.0.0", false, "1.0.0", "beta.jar");
        String both = CONFIG + "[runtimes.b]\ntype = \"beta-type\"\n";
        host = PluginHost.load(plugins(), dir.resolve("state/plugins"));
        registry = new HandlerRegistry(host.types(), dir.resolve("state"), dir.resolve("root"), e -> {});
        registry.onGenerationClosed(() -> host.sweep(registry.loadersInUse()));
        registry.apply(load(both));
        Handler a = registry.claim("pod1", "a");

        // Removing the archive while the config still names its type fails the reload: nothing changes.
        Files.delete(jar);
        assertThatThrownBy(() -> reload(both)).isInstanceOf(ConfigException.class).hasMessageContaining("alpha-type");
        assertThat(registry.active().get("a")).isSameAs(a);
        assertThat(host.plugins()).filteredOn(p -> p.id().equals("alpha")).singleElement()
                .satisfies(p -> assertThat(p.state()).isEqualTo("retiring"));

        // With the handler dropped from the config too, it retires; the plugin waits for pod1.
        reload("default_runtime = \"b\"\n[runtimes.b]\ntype = \"beta-type\"\n");
        assertThat(registry.active()).containsOnlyKeys("b");
        assertThat(host.plugins()).extracting(PluginHost.PluginInfo::id).contains("alpha");
        registry.release(a, "pod1");
        assertThat(host.plugins()).extracting(PluginHost.PluginInfo::id).containsExactly("beta");
    }

    @Test
    void aDrainedHandlerRefusesNewPodsKeepsItsPodsAndStaysDrainedAcrossRestarts() throws Exception {
        TestPluginJar.build(plugins(), "alpha", "alpha-type", ">=1.0.0", false, "1.0.0", "alpha.jar");
        start();
        Handler h = registry.claim("pod1", "a");
        assertThat(registry.drains().set("a", true)).isTrue();

        assertThatThrownBy(() -> registry.claim("pod2", "a")).isInstanceOfSatisfying(BackendException.class, e -> {
            assertThat(e.kind()).isEqualTo(BackendException.Kind.UNAVAILABLE);
            assertThat(e.getMessage()).contains("\"a\"").contains("drained");
        });
        assertThat(registry.podCount(h)).as("the existing pod stays bound").isEqualTo(1);
        assertThat(new HandlerDrains(dir.resolve("root")).isDrained("a")).as("persisted").isTrue();

        assertThat(registry.drains().set("a", false)).isTrue();
        assertThat(registry.claim("pod2", "a")).isSameAs(h);
        assertThat(new HandlerDrains(dir.resolve("root")).names()).isEmpty();
    }
}
