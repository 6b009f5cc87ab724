package dev.berth.core.plugin;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import javax.tools.JavaCompiler;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;

/**
 * Builds a real PF4J plugin jar at test time: compiles a backend factory of a given type (extending the SPI
 * test-jar's fake factory), writes the PF4J manifest and extension index, and optionally bundles a copy of an
 * SPI class, which berth must ignore in favour of its own.
 */
public final class TestPluginJar {
    private TestPluginJar() {}

    public static Path build(Path dir, String pluginId, String type, String requires, boolean bundleSpiCopy)
            throws IOException {
        return build(dir, pluginId, type, requires, bundleSpiCopy, "1.2.3", pluginId + ".jar");
    }

    /** A plugin jar of version {@code version} written to {@code dir/fileName} (replacing what is there). */
    public static Path build(Path dir, String pluginId, String type, String requires, boolean bundleSpiCopy,
                             String version, String fileName) throws IOException {
        String pkg = "dev.berth.testplugin." + pluginId.replaceAll("[^a-z0-9]", "");
        String cls = "TestFactory";
        String source = "package " + pkg + ";\n"
                + "public class " + cls + " extends dev.berth.spi.testing.FakeBackendFactory {\n"
                + "  @Override public String type() { return \"" + type + "\"; }\n"
                + "}\n";
        Path classes = Files.createTempDirectory(dir, "classes");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        var src = new SimpleJavaFileObject(URI.create("string:///" + pkg.replace('.', '/') + "/" + cls + ".java"),
                javax.tools.JavaFileObject.Kind.SOURCE) {
            @Override
            public CharSequence getCharContent(boolean ignore) {
                return source;
            }
        };
        boolean ok = javac.getTask(null, null, null, List.of("-d", classes.toString(), "-cp",
                System.getProperty("java.class.path")), null, List.of(src)).call();
        if (!ok) {
            throw new IllegalStateException("could not compile the test plugin");
        }
        Manifest mf = new Manifest();
        Attributes a = mf.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue("Plugin-Id", pluginId);
        a.putValue("Plugin-Version", version);
        a.putValue("Plugin-Provider", "berth tests");
        a.putValue("Plugin-Requires", requires);
        Path jar = dir.resolve(fileName);
        // Written beside and renamed over, as an operator's install would, so a reader never sees half a jar.
        Path tmp = dir.resolve("." + fileName + ".partial");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(tmp), mf)) {
            String path = pkg.replace('.', '/') + "/" + cls + ".class";
            out.putNextEntry(new JarEntry(path));
            Files.copy(classes.resolve(path), out);
            out.putNextEntry(new JarEntry("META-INF/extensions.idx"));
            out.write((pkg + "." + cls + "\n").getBytes(StandardCharsets.UTF_8));
            if (bundleSpiCopy) {
                String spi = "dev/berth/spi/RuntimeBackendFactory.class";
                out.putNextEntry(new JarEntry(spi));
                try (InputStream in = TestPluginJar.class.getClassLoader().getResourceAsStream(spi)) {
                    in.transferTo(out);
                }
            }
        }
        Files.move(tmp, jar, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return jar;
    }

    /** Writes a file that claims to be a plugin jar but is not a zip at all. */
    public static Path garbage(Path dir, String name) throws IOException {
        Path p = dir.resolve(name);
        try (OutputStream out = Files.newOutputStream(p)) {
            out.write("this is not a jar".getBytes(StandardCharsets.UTF_8));
        }
        return p;
    }
}
