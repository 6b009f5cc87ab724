package dev.berth.hcs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.spi.RuntimeBackendFactory;
import dev.berth.spi.SpiVersion;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pf4j.JarPluginManager;
import org.pf4j.PluginManager;
import org.pf4j.PluginState;

/**
 * Loads the plugin through PF4J's real plugin manager: a jar holding this module's classes, with the manifest
 * attributes the build writes, and the current SPI version as the system version.
 */
class HcsPluginLoadingTest {
    @TempDir
    Path dir;

    @Test
    void pf4jLoadsThePluginAndFindsTheWindowsHcsFactory() throws Exception {
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        Path jar = plugins.resolve("berth-plugin-windows-hcs.jar");
        Manifest mf = new Manifest();
        Attributes a = mf.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue("Plugin-Id", "windows-hcs");
        a.putValue("Plugin-Version", "0.1.0");
        a.putValue("Plugin-Provider", "berth");
        a.putValue("Plugin-Requires", "^" + SpiVersion.CURRENT);
        Path classes = Path.of("target/classes");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), mf);
             var files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                Files.copy(f, (OutputStream) out);
                out.closeEntry();
            }
        }
        PluginManager pm = new JarPluginManager(plugins);
        pm.setSystemVersion(SpiVersion.CURRENT);
        pm.loadPlugins();
        pm.startPlugins();
        try {
            assertThat(pm.getPlugin("windows-hcs")).isNotNull();
            assertThat(pm.getPlugin("windows-hcs").getPluginState()).isEqualTo(PluginState.STARTED);
            List<RuntimeBackendFactory> factories = pm.getExtensions(RuntimeBackendFactory.class, "windows-hcs");
            assertThat(factories).singleElement().satisfies(f -> {
                assertThat(f.type()).isEqualTo("windows-hcs");
                assertThat(f.getClass().getClassLoader()).isNotSameAs(getClass().getClassLoader());
            });
        } finally {
            pm.unloadPlugin("windows-hcs");
        }
    }
}
