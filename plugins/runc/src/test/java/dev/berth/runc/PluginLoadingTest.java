package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.spi.RuntimeBackendFactory;
import dev.berth.spi.SpiVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pf4j.DefaultPluginManager;
import org.pf4j.PluginManager;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;

/** Loads the compiled plugin through PF4J's real plugin manager, laid out as the plugin zip unpacks. */
class PluginLoadingTest {

    @Test
    void pf4jFindsTheRuncFactory(@TempDir Path plugins) throws IOException {
        Path classes = Path.of("target/classes");
        Path dir = plugins.resolve("runc/classes");
        try (Stream<Path> s = Files.walk(classes)) {
            for (Path p : s.toList()) {
                Path target = dir.resolve(classes.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
        // The same entries as src/main/plugin/MANIFEST.MF after filtering.
        Files.createDirectories(dir.resolve("META-INF"));
        Files.writeString(dir.resolve("META-INF/MANIFEST.MF"), """
                Manifest-Version: 1.0
                Plugin-Id: runc
                Plugin-Version: 0.1.0
                Plugin-Provider: berth
                Plugin-Requires: ^%s
                Plugin-Description: test
                """.formatted(SpiVersion.CURRENT));
        Files.createDirectories(plugins.resolve("runc/lib"));
        PluginManager pm = new DefaultPluginManager(plugins);
        pm.setSystemVersion(SpiVersion.CURRENT);
        pm.loadPlugins();
        pm.startPlugins();
        try {
            PluginWrapper w = pm.getPlugin("runc");
            assertThat(w).isNotNull();
            assertThat(w.getPluginState()).isEqualTo(PluginState.STARTED);
            List<RuntimeBackendFactory> factories = pm.getExtensions(RuntimeBackendFactory.class, "runc");
            assertThat(factories).extracting(RuntimeBackendFactory::type).containsExactly("runc");
            assertThat(factories.getFirst().getClass().getClassLoader()).isSameAs(w.getPluginClassLoader());
        } finally {
            pm.unloadPlugins(); // stops them first; PF4J 3.15's stopPlugins() trips over its own list
        }
    }
}
