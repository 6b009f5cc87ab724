package dev.berth.plugins;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.plugin.BackendType;
import dev.berth.core.plugin.PluginHost;
import dev.berth.spi.RuntimeBackendFactory;
import dev.berth.spi.SpiVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.Manifest;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The runc and kata archives as berth-plugin-parent builds them, loaded by core's plugin host as the daemon loads
 * them: each starts, provides its type, declares the SPI it was built against, and runs its bundled libraries
 * (berth-oci, Jackson, kata's protobuf-java, from its lib/) in its own class loader, with the SPI from core.
 */
class PluginArchivesTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"runc", "kata"})
    void theArchiveLoadsWithItsLibrariesInItsOwnClassLoader(String id) throws Exception {
        Path archive = Path.of("../../plugins", id, "target", id + ".zip");
        assertThat(archive).as("built by the plugin's module before this one").isRegularFile();
        try (ZipFile zip = new ZipFile(archive.toFile())) {
            Manifest mf = new Manifest(zip.getInputStream(zip.getEntry("classes/META-INF/MANIFEST.MF")));
            assertThat(mf.getMainAttributes().getValue("Plugin-Id")).isEqualTo(id);
            assertThat(mf.getMainAttributes().getValue("Plugin-Requires")).isEqualTo("^" + SpiVersion.CURRENT);
            assertThat(zip.stream().map(e -> e.getName()))
                    .anyMatch(n -> n.matches("lib/berth-oci-.*\\.jar"))
                    .noneMatch(n -> n.startsWith("classes/dev/berth/spi/") || n.startsWith("classes/org/pf4j/")
                            || n.matches("lib/(berth-spi|berth-core|pf4j)-.*"));
        }
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        Files.copy(archive, plugins.resolve(id + ".zip"));

        try (PluginHost host = PluginHost.load(plugins)) {
            assertThat(host.plugins()).singleElement().satisfies(p -> {
                assertThat(p.state()).as(p.error()).isEqualTo("started");
                assertThat(p.id()).isEqualTo(id);
            });
            BackendType type = host.types().get(id);
            assertThat(type).as("backend type " + id).isNotNull();
            ClassLoader plugin = type.classLoader();
            assertThat(type.factory().getClass().getClassLoader()).isSameAs(plugin);
            assertThat(Class.forName("dev.berth.oci.Capabilities", false, plugin).getClassLoader())
                    .as("berth-oci from the archive's lib/").isSameAs(plugin);
            assertThat(Class.forName(RuntimeBackendFactory.class.getName(), false, plugin))
                    .as("the SPI from core").isSameAs(RuntimeBackendFactory.class);
            // Every other library is the plugin's own (docs/architecture.md, "Plugin libraries"), also those core has.
            assertThat(Class.forName("com.fasterxml.jackson.databind.ObjectMapper", false, plugin).getClassLoader())
                    .as("Jackson from the archive's lib/").isSameAs(plugin);
            if (id.equals("kata")) {
                assertThat(Class.forName("com.google.protobuf.Message", false, plugin).getClassLoader())
                        .as("protobuf-java from the archive's lib/").isSameAs(plugin);
            }
        }
    }
}
