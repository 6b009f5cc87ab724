package dev.berth.kata;

import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Properties;

/**
 * {@code berth.properties} in a task's bundle: what berth needs to know about a pod or container after a restart
 * (kind, pod, times, paths, flags). Written whole to a temporary file, flushed to disk and renamed over the old
 * one. Writers of one bundle share its {@link Properties} (a pod's or container's), and take turns on it: a
 * container's exit, recorded from the shim's event, may come while its start records the start time.
 */
final class BundleProperties {
    static final String FILE = "berth.properties";

    private BundleProperties() {}

    static void store(Path bundle, Properties props) throws IOException {
        Path tmp = bundle.resolve(FILE + ".tmp");
        synchronized (props) {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                props.store(Channels.newOutputStream(ch), "berth kata backend state");
                ch.force(true);
            }
            Files.move(tmp, bundle.resolve(FILE), StandardCopyOption.ATOMIC_MOVE);
        }
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
