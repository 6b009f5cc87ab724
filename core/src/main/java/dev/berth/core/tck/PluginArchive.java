package dev.berth.core.tck;

import dev.berth.spi.SpiVersion;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipInputStream;
import org.pf4j.DefaultVersionManager;
import org.pf4j.VersionManager;

/**
 * The tck's packaging checks on a plugin archive, before anything of it is loaded: a PF4J zip ({@code classes/},
 * {@code lib/}) or a plain jar, with a descriptor (manifest or {@code plugin.properties}) naming
 * {@code Plugin-Id}, {@code Plugin-Version} and a {@code Plugin-Requires} range that this berth's SPI satisfies
 * and the next major SPI does not, and with no classes core supplies (the SPI, core, PF4J), neither loose nor in a
 * bundled jar: the SPI must come from core, or the plugin's classes would not be the ones core calls.
 */
public final class PluginArchive {
    /** Class-file prefixes a plugin must not carry. */
    static final List<String> FORBIDDEN = List.of("dev/berth/spi/", "dev/berth/core/", "org/pf4j/");
    /** Bundled jars a plugin must not carry, by file-name prefix. */
    static final List<String> FORBIDDEN_JARS = List.of("berth-spi", "berth-core", "pf4j-");

    private PluginArchive() {}

    /** What the descriptor says; fields are empty when missing. */
    public record Descriptor(String id, String version, String requires, String source) {}

    /** The descriptor and every problem found (none: the archive is well packaged). */
    public record Report(Descriptor descriptor, List<String> problems) {
        public boolean ok() {
            return problems.isEmpty();
        }
    }

    /** Checks the archive against the SPI this berth provides. */
    public static Report inspect(Path archive) {
        return inspect(archive, SpiVersion.CURRENT);
    }

    static Report inspect(Path archive, String spiVersion) {
        List<String> problems = new ArrayList<>();
        String name = archive.getFileName().toString();
        if (!Files.isRegularFile(archive)) {
            return new Report(new Descriptor("", "", "", ""), List.of(archive + " is not a file"));
        }
        if (!name.endsWith(".zip") && !name.endsWith(".jar")) {
            problems.add(name + ": a plugin archive is a .zip (classes/ and lib/) or a .jar");
        }
        Descriptor d;
        Set<String> forbidden = new LinkedHashSet<>();
        try (ZipFile zip = new ZipFile(archive.toFile())) {
            d = descriptor(zip);
            var entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry e = entries.nextElement();
                String n = e.getName();
                forbiddenClass(n, "").ifPresent(forbidden::add);
                if (n.endsWith(".jar")) {
                    String jar = n.substring(n.lastIndexOf('/') + 1);
                    if (FORBIDDEN_JARS.stream().anyMatch(jar::startsWith)) {
                        forbidden.add(n);
                    }
                    try (ZipInputStream in = new ZipInputStream(zip.getInputStream(e))) {
                        for (ZipEntry inner; (inner = in.getNextEntry()) != null; ) {
                            forbiddenClass(inner.getName(), n + "!/").ifPresent(forbidden::add);
                        }
                    }
                }
            }
        } catch (IOException e) {
            return new Report(new Descriptor("", "", "", ""), List.of(name + " is not a readable zip or jar: "
                    + e.getMessage()));
        }
        if (!forbidden.isEmpty()) {
            List<String> shown = forbidden.stream().limit(5).toList();
            problems.add("bundles classes core supplies (the SPI, core or PF4J; declare them provided): "
                    + String.join(", ", shown) + (forbidden.size() > shown.size()
                    ? " and " + (forbidden.size() - shown.size()) + " more" : ""));
        }
        if (d.source().isEmpty()) {
            problems.add("no plugin descriptor: expected Plugin-Id, Plugin-Version and Plugin-Requires in "
                    + (name.endsWith(".zip") ? "classes/META-INF/MANIFEST.MF" : "META-INF/MANIFEST.MF")
                    + " (or plugin.properties)");
            return new Report(d, problems);
        }
        if (d.id().isBlank()) {
            problems.add(d.source() + ": Plugin-Id is missing");
        }
        if (d.version().isBlank()) {
            problems.add(d.source() + ": Plugin-Version is missing");
        }
        VersionManager versions = new DefaultVersionManager();
        if (d.requires().isBlank() || d.requires().strip().equals("*")) {
            problems.add(d.source() + ": Plugin-Requires is missing or \"*\": declare the SPI range the plugin was "
                    + "built for, e.g. ^" + spiVersion);
        } else {
            try {
                String nextMajor = (Integer.parseInt(spiVersion.split("\\.")[0]) + 1) + ".0.0";
                if (!versions.checkVersionConstraint(spiVersion, d.requires())) {
                    problems.add("Plugin-Requires " + d.requires() + " is not satisfied by this berth's SPI "
                            + spiVersion);
                } else if (versions.checkVersionConstraint(nextMajor, d.requires())) {
                    problems.add("Plugin-Requires " + d.requires() + " also accepts SPI " + nextMajor
                            + ", which may break the plugin; bound it by the major version, e.g. ^" + spiVersion);
                }
            } catch (RuntimeException e) {
                problems.add("Plugin-Requires " + d.requires() + " is not a version range: " + e.getMessage());
            }
        }
        return new Report(d, problems);
    }

    private static java.util.Optional<String> forbiddenClass(String entry, String where) {
        String n = entry;
        for (String prefix : List.of("classes/", "META-INF/versions/")) {
            if (n.startsWith(prefix)) {
                n = n.substring(prefix.length());
                if (prefix.startsWith("META-INF") && n.indexOf('/') > 0) {
                    n = n.substring(n.indexOf('/') + 1);
                }
            }
        }
        String cls = n;
        return FORBIDDEN.stream().anyMatch(cls::startsWith) && cls.endsWith(".class")
                ? java.util.Optional.of(where + entry) : java.util.Optional.empty();
    }

    private static Descriptor descriptor(ZipFile zip) throws IOException {
        for (String path : List.of("classes/META-INF/MANIFEST.MF", "META-INF/MANIFEST.MF")) {
            ZipEntry e = zip.getEntry(path);
            if (e == null) {
                continue;
            }
            try (InputStream in = zip.getInputStream(e)) {
                var a = new Manifest(in).getMainAttributes();
                if (a.getValue("Plugin-Id") != null || a.getValue("Plugin-Version") != null) {
                    return new Descriptor(value(a.getValue("Plugin-Id")), value(a.getValue("Plugin-Version")),
                            value(a.getValue("Plugin-Requires")), path);
                }
            }
        }
        ZipEntry props = zip.getEntry("plugin.properties");
        if (props != null) {
            Properties p = new Properties();
            try (InputStream in = zip.getInputStream(props)) {
                p.load(in);
            }
            return new Descriptor(value(p.getProperty("plugin.id")), value(p.getProperty("plugin.version")),
                    value(p.getProperty("plugin.requires")), "plugin.properties");
        }
        return new Descriptor("", "", "", "");
    }

    private static String value(String s) {
        return s == null ? "" : s.strip();
    }
}
