package dev.berth.hcs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.spi.SpiVersion;
import dev.berth.spi.testing.HostRequirements;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The built plugin jar. Runs in the package phase, after the jar and the archive are built (the {@code packaged-jar}
 * Surefire execution in the pom); the test phase, which comes before, leaves it out.
 */
@Tag("packaged-jar")
class HcsPluginJarTest {

    @Test
    void jarManifestDeclaresThePlugin() throws Exception {
        Path jar;
        try (var files = Files.list(Path.of("target"))) {
            jar = files.filter(p -> p.getFileName().toString().matches("berth-plugin-windows-hcs-.*\\.jar")
                    && !p.getFileName().toString().contains("tests")).findFirst().orElse(null);
        }
        HostRequirements.require(jar != null, "the plugin jar is not built (this test runs in the package phase)");
        try (var jf = new JarFile(jar.toFile())) {
            Manifest m = jf.getManifest();
            assertThat(m.getMainAttributes().getValue("Plugin-Id")).isEqualTo("windows-hcs");
            assertThat(m.getMainAttributes().getValue("Plugin-Requires")).isEqualTo("^" + SpiVersion.CURRENT);
            assertThat(m.getMainAttributes().getValue("Plugin-Provider")).isEqualTo("berth");
            assertThat(m.getMainAttributes().getValue("Plugin-Version")).isNotBlank();
            assertThat(m.getMainAttributes().getValue("Plugin-Description")).isNotBlank();
        }
    }
}
