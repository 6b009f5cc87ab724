package dev.berth.core.plugin;

import dev.berth.core.util.FileTrees;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/** What {@link PluginHost} does with plugin files and PF4J managers that needs none of its state. */
final class PluginFiles {
    private static final System.Logger LOG = System.getLogger(PluginHost.class.getName());
    private static final org.pf4j.VersionManager VERSIONS = new org.pf4j.DefaultVersionManager();

    private PluginFiles() {
    }

    /** The archives in the directory: {@code *.jar} and {@code *.zip}, a zip skipped when a jar of its name is. */
    static List<Path> candidates(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<Path> all;
        try (Stream<Path> s = Files.list(dir)) {
            all = s.filter(Files::isRegularFile).filter(p -> {
                String n = p.getFileName().toString();
                return n.endsWith(".jar") || n.endsWith(".zip");
            }).sorted().toList();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.ERROR, "cannot list plugin directory {0}: {1}", dir, e.getMessage());
            return List.of();
        }
        return all.stream().filter(p -> !p.getFileName().toString().endsWith(".zip")
                || !all.contains(p.resolveSibling(p.getFileName().toString().replaceAll("\\.zip$", ".jar"))))
                .toList();
    }

    static int compare(String a, String b) {
        try {
            return VERSIONS.compareVersions(a, b);
        } catch (RuntimeException e) {
            return a.compareTo(b);
        }
    }

    static String reason(Throwable e) {
        Throwable root = e;
        StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage()));
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
            sb.append(": ").append(root.getMessage());
        }
        return sb.toString();
    }

    static String sha256(Path p) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[65536];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static void unloadManager(BerthPluginManager manager, String id) {
        try {
            manager.unloadPlugin(id);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot unload plugin {0}: {1}", id, e.getMessage());
        }
    }

    static void deleteQuietly(Path p) {
        try {
            FileTrees.deleteTree(p);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot delete {0}: {1}", p, e.getMessage());
        }
    }
}
