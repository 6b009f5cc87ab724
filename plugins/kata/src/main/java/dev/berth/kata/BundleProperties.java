package dev.berth.kata;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Properties;

/**
 * {@code berth.properties} in a task's bundle: what berth needs to know about a pod or container after a restart
 * (kind, pod, times, paths, flags). Written whole to a temporary file and renamed over the old one.
 */
final class BundleProperties {
    static final String FILE = "berth.properties";

    private BundleProperties() {}

    static void store(Path bundle, Properties props) throws IOException {
        Path tmp = bundle.resolve(FILE + ".tmp");
        try (var out = Files.newOutputStream(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING)) {
            props.store(out, "berth kata backend state");
        }
        Files.move(tmp, bundle.resolve(FILE), StandardCopyOption.ATOMIC_MOVE);
    }

    /** The bundle's properties, or null when it has none or they cannot be read. */
    static Properties load(Path bundle) {
        Path f = bundle.resolve(FILE);
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
