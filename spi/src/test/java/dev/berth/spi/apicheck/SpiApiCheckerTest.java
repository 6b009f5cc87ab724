package dev.berth.spi.apicheck;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.spi.SpiVersion;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pf4j.ExtensionPoint;

/**
 * The guard can fail: a copy of the SPI's classes with one type recompiled from a modified copy of its source is
 * dumped and checked against the real SPI's dump, as {@link SpiApiTest} checks the build against the file.
 */
class SpiApiCheckerTest {
    private static final Path SOURCES = Path.of(System.getProperty("basedir", "")).toAbsolutePath()
            .resolve("src/main/java");
    private static final String BACKEND = "dev/berth/spi/RuntimeBackend.java";
    private static final String HEALTH = "    BackendHealth health();\n";

    @TempDir
    Path tmp;

    Path classes;
    SpiApi.Dump released;

    @BeforeEach
    void dumpTheRealSpi() throws Exception {
        classes = Path.of(SpiVersion.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        released = SpiApi.compute(classes, SpiVersion.class.getClassLoader(), "2.0.0");
    }

    /** The SPI's classes, with {@code path} (a source under src/main/java) recompiled after {@code edit}. */
    private SpiApi.Dump modified(String path, UnaryOperator<String> edit, String version) throws Exception {
        Path work = Files.createTempDirectory(tmp, "spi");
        Path copy = work.resolve("classes");
        try (Stream<Path> s = Files.walk(classes)) {
            for (Path p : s.toList()) {
                Path target = copy.resolve(classes.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
        String original = Files.readString(SOURCES.resolve(path));
        String source = edit.apply(original);
        assertThat(source).as("the edit applies").isNotEqualTo(original);
        Path file = work.resolve("src").resolve(path);
        Files.createDirectories(file.getParent());
        Files.writeString(file, source);
        Path pf4j = Path.of(ExtensionPoint.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        var out = new java.io.ByteArrayOutputStream();
        int rc = javac.run(null, out, out, "-d", copy.toString(), "-cp", copy + java.io.File.pathSeparator + pf4j,
                "-proc:none", file.toString());
        assertThat(rc).as("javac: " + out.toString(StandardCharsets.UTF_8)).isZero();
        try (URLClassLoader loader = new URLClassLoader(new java.net.URL[] {copy.toUri().toURL(), pf4j.toUri().toURL()},
                ClassLoader.getPlatformClassLoader())) {
            return SpiApi.compute(copy, loader, version);
        }
    }

    private static UnaryOperator<String> replacing(String from, String to) {
        return s -> s.replace(from, to);
    }

    @Test
    void theRealSpiAgreesWithItself() {
        assertThat(SpiApi.check(released, released, false)).isNull();
        assertThat(released.lines()).anyMatch(l -> l.equals("dev.berth.spi.RuntimeBackend method public abstract void "
                + "startSandbox(java.lang.String)"));
    }

    @Test
    void aChangedMethodSignatureNeedsANewMajorVersion() throws Exception {
        UnaryOperator<String> edit = replacing("void startSandbox(String sandboxId);",
                "void startSandbox(String sandboxId, Duration timeout);");
        SpiApi.Dump same = modified(BACKEND, edit, "2.0.0");
        SpiApi.Diff diff = SpiApi.diff(released, same);
        assertThat(diff.impact()).isEqualTo(SpiApi.Impact.INCOMPATIBLE);
        assertThat(diff.describe()).isEqualTo("""
                  changed:  dev.berth.spi.RuntimeBackend method startSandbox
                      was:  dev.berth.spi.RuntimeBackend method public abstract void startSandbox(java.lang.String)
                      now:  dev.berth.spi.RuntimeBackend method public abstract void startSandbox(java.lang.String,\
                java.time.Duration)   (abstract: every implementation lacks it)""");

        String failure = SpiApi.check(released, same, false);
        assertThat(failure).contains("This is an incompatible change")
                .contains("set berth.spi.version in the root pom.xml to 3.0.0 (it is 2.0.0")
                .contains(SpiApi.UPDATE_COMMAND);
        assertThat(SpiApi.check(released, same, true)).startsWith("refusing to regenerate spi/api/berth-spi.api: an "
                + "incompatible change needs a new major SPI version");
        // A minor bump is not enough either.
        assertThat(SpiApi.check(released, modified(BACKEND, edit, "2.1.0"), true)).contains("3.0.0");

        SpiApi.Dump major = modified(BACKEND, edit, "3.0.0");
        assertThat(SpiApi.check(released, major, false)).as("check mode still wants the dump regenerated")
                .contains(SpiApi.UPDATE_COMMAND).doesNotContain("First ");
        assertThat(SpiApi.check(released, major, true)).isNull();
        // Once regenerated, the new dump is the reference.
        assertThat(SpiApi.check(SpiApi.Dump.parse(major.text()), major, false)).isNull();
    }

    @Test
    void anAddedDefaultMethodNeedsANewMinorVersion() throws Exception {
        UnaryOperator<String> edit = replacing(HEALTH, HEALTH
                + "    default java.util.Optional<String> vendor() { return java.util.Optional.empty(); }\n");
        SpiApi.Dump same = modified(BACKEND, edit, "2.0.0");
        assertThat(SpiApi.diff(released, same).impact()).isEqualTo(SpiApi.Impact.COMPATIBLE);
        assertThat(SpiApi.diff(released, same).describe()).isEqualTo("  added:    dev.berth.spi.RuntimeBackend method "
                + "public default java.util.Optional<java.lang.String> vendor()");
        assertThat(SpiApi.check(released, same, false)).contains("This is a compatible addition")
                .contains("an addition needs a new minor SPI version: set berth.spi.version in the root pom.xml to "
                        + "2.1.0");
        assertThat(SpiApi.check(released, same, true)).startsWith("refusing to regenerate");
        assertThat(SpiApi.check(released, modified(BACKEND, edit, "2.0.1"), true)).as("a patch bump")
                .startsWith("refusing to regenerate");
        assertThat(SpiApi.check(released, modified(BACKEND, edit, "2.1.0"), true)).isNull();
        assertThat(SpiApi.check(released, modified(BACKEND, edit, "3.0.0"), true)).isNull();
    }

    @Test
    void anAddedAbstractMethodBreaksEveryImplementationAndNeedsANewMajorVersion() throws Exception {
        SpiApi.Dump same = modified(BACKEND, replacing(HEALTH, HEALTH + "    String vendor();\n"), "2.1.0");
        assertThat(SpiApi.diff(released, same).impact()).isEqualTo(SpiApi.Impact.INCOMPATIBLE);
        assertThat(SpiApi.check(released, same, true)).contains("needs a new major SPI version")
                .contains("(abstract: every implementation lacks it)");
    }

    @Test
    void experimentalSurfaceIsExempt() throws Exception {
        SpiApi.Dump same = modified(BACKEND, replacing(HEALTH, HEALTH
                + "    @Experimental(eta = \"2030-01-01\") String vendor();\n"), "2.0.0");
        assertThat(SpiApi.diff(released, same).impact()).isEqualTo(SpiApi.Impact.NONE);
        assertThat(SpiApi.check(released, same, false)).isNull();
        // A whole experimental type may change at will, as EventSource may.
        SpiApi.Dump events = modified("dev/berth/spi/EventSource.java",
                replacing("public interface EventSource {}", "public interface EventSource { void poll(); }"), "2.0.0");
        assertThat(SpiApi.check(released, events, false)).isNull();
    }

    @Test
    void aRemovedRecordComponentIsIncompatible() throws Exception {
        SpiApi.Dump dump = modified("dev/berth/spi/BackendFeatures.java", s -> s
                .replace("boolean usesImages, String sandboxImage) {", "boolean usesImages) {")
                .replace("new BackendFeatures(false, false, CgroupDriver.CGROUPFS, true, \"\")",
                        "new BackendFeatures(false, false, CgroupDriver.CGROUPFS, true)")
                .replace("        sandboxImage = Checks.text(sandboxImage);\n", ""), "2.0.0");
        SpiApi.Diff diff = SpiApi.diff(released, dump);
        assertThat(diff.impact()).isEqualTo(SpiApi.Impact.INCOMPATIBLE);
        assertThat(diff.describe()).contains("  removed:  dev.berth.spi.BackendFeatures component 04 "
                + "java.lang.String sandboxImage").contains("  changed:  dev.berth.spi.BackendFeatures constructor");
    }

    /** The way a record grows within a major version: a component at the end, the old constructor kept. */
    @Test
    void aRecordGrowsCompatiblyByKeepingItsPreviousConstructor() throws Exception {
        SpiApi.Dump dump = modified("dev/berth/spi/BackendFeatures.java", s -> s
                .replace("boolean usesImages, String sandboxImage) {", "boolean usesImages, String sandboxImage, "
                        + "boolean idmapMounts) {\n"
                        + "    public BackendFeatures(boolean recursiveReadOnlyMounts, boolean userNamespaces, "
                        + "CgroupDriver cgroupDriver, boolean usesImages, String sandboxImage) {\n"
                        + "        this(recursiveReadOnlyMounts, userNamespaces, cgroupDriver, usesImages, "
                        + "sandboxImage, false);\n"
                        + "    }\n"), "2.0.0");
        SpiApi.Diff diff = SpiApi.diff(released, dump);
        assertThat(diff.removed()).isEmpty();
        assertThat(diff.impact()).isEqualTo(SpiApi.Impact.COMPATIBLE);
        assertThat(diff.describe()).contains("  added:    dev.berth.spi.BackendFeatures component 05 boolean "
                + "idmapMounts");
    }

    @Test
    void theDumpFileRoundTrips() {
        SpiApi.Dump parsed = SpiApi.Dump.parse(released.text());
        assertThat(parsed).isEqualTo(released);
        assertThat(released.text()).startsWith("# berth SPI public API, made for SPI version 2.0.0\n");
        assertThat(SpiApi.check(released, new SpiApi.Dump("2.0.1", released.lines()), false))
                .contains("was made for 2.0.0; the API is the same");
        assertThat(SpiApi.check(released, new SpiApi.Dump("2.0.1", released.lines()), true)).isNull();
        assertThat(SpiApi.check(released, new SpiApi.Dump("1.9.0", released.lines()), true)).contains("went back");
        assertThat(SpiApi.versionProblem("2.3.1", "3.0.0", SpiApi.Impact.INCOMPATIBLE)).isNull();
        assertThat(SpiApi.versionProblem("2.3.1", "2.4.0", SpiApi.Impact.COMPATIBLE)).isNull();
        assertThat(SpiApi.versionProblem("2.3.1", "2.3.2", SpiApi.Impact.COMPATIBLE)).isNotNull();
    }
}
