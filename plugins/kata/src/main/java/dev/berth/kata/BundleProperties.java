package dev.berth.kata;

import dev.berth.oci.DurableFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/**
 * {@code berth.properties} in a task's bundle: what berth needs to know about a pod or container after a restart
 * (kind, pod, times, paths, flags), written whole with {@link DurableFiles}. Writers of one bundle share its
 * {@link Properties} (a pod's or container's), and take turns on it: a container's exit, recorded from the shim's
 * event, may come while its start records the start time.
 */
final class BundleProperties {
    static final String FILE = "berth.properties";

    private BundleProperties() {}

    static void store(Path bundle, Properties props) throws IOException {
        ByteArrayOutputStream text = new ByteArrayOutputStream(512);
        synchronized (props) {
            props.store(text, "berth kata backend state");
            DurableFiles.write(bundle.resolve(FILE), text.toByteArray());
        }
    }

    /** The bundle's properties, or null when it has none or they cannot be read. */
    static Properties load(Path bundle) {
        Path f = bundle.resolve(FILE);
        try {
            DurableFiles.removeStaleTemps(bundle);
            Files.deleteIfExists(bundle.resolve(FILE + ".tmp")); // an older berth's temp file
        } catch (IOException e) {
            // a leftover temp file is harmless; the properties are still read below
        }
        if (!Files.isRegularFile(f)) {
            return null;
        }
        Properties p = new Properties();
        try (var in = Files.newInputStream(f)) {
            p.load(in);
            return p;
        } catch (IOException e) {
            return null;
        }
    }

    static void putPath(Properties p, String key, Path v) {
        if (v != null) {
            p.setProperty(key, v.toString());
        }
    }

    static Path path(Properties p, String key) {
        String v = p.getProperty(key);
        return v == null || v.isEmpty() ? null : Path.of(v);
    }
}
