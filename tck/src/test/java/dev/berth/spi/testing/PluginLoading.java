package dev.berth.spi.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.spi.RuntimeBackendFactory;
import dev.berth.spi.SpiVersion;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.pf4j.JarPluginManager;
import org.pf4j.PluginManager;
import org.pf4j.PluginState;

/**
 * A plugin module's own classes loaded through PF4J's real plugin manager, for the module's tests: a jar of
 * {@code target/classes} with the manifest attributes the plugin build writes, and the current SPI version as the
 * system version.
 */
public final class PluginLoading {
    private PluginLoading() {}

    /**
     * Packs {@code target/classes} as plugin {@code pluginId} into {@code dir}, loads and starts it, and checks that
     * it started and provides exactly one {@link RuntimeBackendFactory}, of backend type {@code type}, from its
     * own class loader.
     */
    public static void assertLoadsWithFactory(Path dir, String pluginId, String type) throws IOException {
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        Path jar = plugins.resolve("berth-plugin-" + pluginId + ".jar");
        Manifest mf = new Manifest();
        Attributes a = mf.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue("Plugin-Id", pluginId);
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
            assertThat(pm.getPlugin(pluginId)).isNotNull();
            assertThat(pm.getPlugin(pluginId).getPluginState()).isEqualTo(PluginState.STARTED);
            List<RuntimeBackendFactory> factories = pm.getExtensions(RuntimeBackendFactory.class, pluginId);
            assertThat(factories).singleElement().satisfies(f -> {
                assertThat(f.type()).isEqualTo(type);
                assertThat(f.getClass().getClassLoader()).isNotSameAs(PluginLoading.class.getClassLoader())
                        .isSameAs(pm.getPlugin(pluginId).getPluginClassLoader());
            });
        } finally {
            pm.unloadPlugin(pluginId);
        }
    }
}
