package dev.berth.core.tck;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tck's packaging checks on archives built here, good and bad. */
class PluginArchiveTest {
    static final String SPI = "1.2.0";

    @TempDir
    Path dir;

    @Test
    void aWellPackagedZipPasses() throws IOException {
        var r = PluginArchive.inspect(zip("good.zip", manifest("^1.2.0"), goodEntries()), SPI);
        assertThat(r.problems()).isEmpty();
        assertThat(r.descriptor()).isEqualTo(new PluginArchive.Descriptor("acme", "1.0.0", "^1.2.0",
                "classes/META-INF/MANIFEST.MF"));
    }

    @Test
    void aJarWithItsManifestAtTheTopPasses() throws IOException {
        Map<String, byte[]> e = new LinkedHashMap<>();
        e.put("META-INF/MANIFEST.MF", manifestText("^1.0.0"));
        e.put("com/acme/Factory.class", new byte[] {1});
        assertThat(PluginArchive.inspect(zip("good.jar", e), SPI).problems()).isEmpty();
    }

    @Test
    void aMissingOrOpenRequiresIsRefused() throws IOException {
        Map<String, byte[]> e = goodEntries();
        e.put("classes/META-INF/MANIFEST.MF", ("Manifest-Version: 1.0\nPlugin-Id: acme\nPlugin-Version: 1.0.0\n")
                .getBytes(StandardCharsets.UTF_8));
        assertThat(PluginArchive.inspect(zip("a.zip", e), SPI).problems())
                .singleElement().asString().contains("Plugin-Requires is missing");
        assertThat(PluginArchive.inspect(zip("b.zip", manifest("*"), goodEntries()), SPI).problems())
                .singleElement().asString().contains("Plugin-Requires is missing or \"*\"");
    }

    @Test
    void aRangeThisSpiDoesNotSatisfyIsRefused() throws IOException {
        assertThat(PluginArchive.inspect(zip("a.zip", manifest("^2.0.0"), goodEntries()), SPI).problems())
                .singleElement().asString().contains("Plugin-Requires ^2.0.0 is not satisfied by this berth's SPI 1.2.0");
        assertThat(PluginArchive.inspect(zip("b.zip", manifest("^1.3.0"), goodEntries()), SPI).problems())
                .singleElement().asString().contains("not satisfied");
    }

    @Test
    void aRangeThatAcceptsTheNextMajorSpiIsRefused() throws IOException {
        assertThat(PluginArchive.inspect(zip("a.zip", manifest(">=1.0.0"), goodEntries()), SPI).problems())
                .singleElement().asString().contains("also accepts SPI 2.0.0");
    }

    @Test
    void missingIdAndVersionAreNamed() throws IOException {
        Map<String, byte[]> e = goodEntries();
        e.put("classes/META-INF/MANIFEST.MF", ("Manifest-Version: 1.0\nPlugin-Version: 1.0.0\nPlugin-Requires: ^1.2.0\n")
                .getBytes(StandardCharsets.UTF_8));
        assertThat(PluginArchive.inspect(zip("a.zip", e), SPI).problems())
                .singleElement().asString().contains("Plugin-Id is missing");
    }

    @Test
    void noDescriptorAtAllIsRefused() throws IOException {
        Map<String, byte[]> e = goodEntries();
        assertThat(PluginArchive.inspect(zip("a.zip", e), SPI).problems())
                .singleElement().asString().contains("no plugin descriptor");
    }

    @Test
    void bundledSpiCoreOrPf4jClassesAreRefusedLooseOrInsideALibraryJar() throws IOException {
        Map<String, byte[]> e = manifest("^1.2.0");
        e.putAll(goodEntries());
        e.put("classes/dev/berth/spi/RuntimeBackend.class", new byte[] {1});
        e.put("lib/berth-spi-0.1.0.jar", jar(Map.of("dev/berth/spi/SpiVersion.class", new byte[] {1})));
        e.put("lib/shaded.jar", jar(Map.of("org/pf4j/Plugin.class", new byte[] {1},
                "dev/berth/core/Daemon.class", new byte[] {1})));
        var r = PluginArchive.inspect(zip("a.zip", e), SPI);
        assertThat(r.problems()).singleElement().asString()
                .contains("bundles classes core supplies")
                .contains("classes/dev/berth/spi/RuntimeBackend.class")
                .contains("lib/berth-spi-0.1.0.jar")
                .contains("lib/shaded.jar!/org/pf4j/Plugin.class")
                .contains("lib/shaded.jar!/dev/berth/core/Daemon.class");
    }

    @Test
    void aFileThatIsNoZipIsRefused() throws IOException {
        Path p = Files.writeString(dir.resolve("x.zip"), "not a zip");
        assertThat(PluginArchive.inspect(p, SPI).problems()).singleElement().asString()
                .contains("is not a readable zip or jar");
        assertThat(PluginArchive.inspect(dir.resolve("none.zip"), SPI).problems()).singleElement().asString()
                .contains("is not a file");
    }

    private static Map<String, byte[]> manifest(String requires) {
        Map<String, byte[]> e = new LinkedHashMap<>();
        e.put("classes/META-INF/MANIFEST.MF", manifestText(requires));
        return e;
    }

    private static byte[] manifestText(String requires) {
        return ("Manifest-Version: 1.0\nPlugin-Id: acme\nPlugin-Version: 1.0.0\nPlugin-Requires: " + requires + "\n")
                .getBytes(StandardCharsets.UTF_8);
    }

    private static Map<String, byte[]> goodEntries() throws IOException {
        Map<String, byte[]> e = new LinkedHashMap<>();
        e.put("classes/com/acme/Factory.class", new byte[] {1});
        e.put("classes/META-INF/extensions.idx", "com.acme.Factory\n".getBytes(StandardCharsets.UTF_8));
        e.put("lib/jackson-databind-2.0.jar", jar(Map.of("com/fasterxml/X.class", new byte[] {1})));
        return e;
    }

    private Path zip(String name, Map<String, byte[]> first, Map<String, byte[]> more) throws IOException {
        Map<String, byte[]> all = new LinkedHashMap<>(first);
        all.putAll(more);
        return zip(name, all);
    }

    private Path zip(String name, Map<String, byte[]> entries) throws IOException {
        Path p = dir.resolve(name);
        try (OutputStream out = Files.newOutputStream(p)) {
            out.write(jar(entries));
        }
        return p;
    }

    private static byte[] jar(Map<String, byte[]> entries) throws IOException {
        var bytes = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bytes)) {
            for (var e : entries.entrySet()) {
                z.putNextEntry(new ZipEntry(e.getKey()));
                z.write(e.getValue());
                z.closeEntry();
            }
        }
        return bytes.toByteArray();
    }
}
