package dev.berth.core.plugin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.spi.RuntimeBackendFactory;
import dev.berth.spi.SpiVersion;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PluginHostTest {
    @TempDir
    Path dir;

    @Test
    void loadsARealPluginJarAndKeepsTheSpiFromCore() throws Exception {
        TestPluginJar.build(dir, "alpha", "alpha-type", ">=1.0.0", true);
        try (PluginHost host = PluginHost.load(dir)) {
            assertThat(host.types()).containsKey("alpha-type");
            BackendType t = host.types().get("alpha-type");
            assertThat(t.pluginId()).isEqualTo("alpha");
            assertThat(t.pluginVersion()).isEqualTo("1.2.3");
            // The factory class comes from the plugin's loader, the SPI interface it implements from core's.
            assertThat(t.factory().getClass().getClassLoader()).isNotSameAs(getClass().getClassLoader());
            assertThat(t.factory()).isInstanceOf(RuntimeBackendFactory.class);
            assertThat(t.classLoader().loadClass(RuntimeBackendFactory.class.getName()))
                    .isSameAs(RuntimeBackendFactory.class);
        }
    }

    /** A plugin built for the previous major SPI version (its {@code ^} range ends below ours) is refused. */
    @Test
    void refusesAPluginOfThePreviousMajorSpiVersion() throws Exception {
        int major = Integer.parseInt(SpiVersion.CURRENT.split("\\.")[0]);
        TestPluginJar.build(dir, "current", "current-type", "^" + SpiVersion.CURRENT, false);
        TestPluginJar.build(dir, "old", "old-type", "^" + (major - 1) + ".0.0", false);
        try (PluginHost host = PluginHost.load(dir)) {
            assertThat(host.types()).containsOnlyKeys("current-type");
            assertThat(host.plugins()).anySatisfy(p -> {
                assertThat(p.path().getFileName().toString()).isEqualTo("old.jar");
                assertThat(p.state()).isEqualTo("failed");
                assertThat(p.error()).isEqualTo("plugin \"old\" requires SPI ^" + (major - 1) + ".0.0 but berth provides "
                        + SpiVersion.CURRENT);
            });
        }
    }

    @Test
    void reportsBrokenAndIncompatiblePluginsAndLoadsTheRest() throws Exception {
        TestPluginJar.build(dir, "good", "good-type", ">=1.0.0", false);
        TestPluginJar.build(dir, "future", "future-type", ">=9.0.0", false);
        TestPluginJar.garbage(dir, "broken.jar");
        try (PluginHost host = PluginHost.load(dir)) {
            assertThat(host.types()).containsOnlyKeys("good-type");
            assertThat(host.plugins()).anySatisfy(p -> {
                assertThat(p.state()).isEqualTo("failed");
                assertThat(p.path().getFileName().toString()).isEqualTo("broken.jar");
                assertThat(p.error()).isNotBlank();
            });
            assertThat(host.plugins()).anySatisfy(p -> {
                assertThat(p.state()).isEqualTo("failed");
                assertThat(p.path().getFileName().toString()).isEqualTo("future.jar");
                assertThat(p.error()).contains("9.0.0");
            });
        }
    }
}
