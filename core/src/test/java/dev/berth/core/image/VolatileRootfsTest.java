package dev.berth.core.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.spi.MountSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A container's writable layer is mounted with overlay's {@code volatile} option on a kernel that has it (5.10 and
 * later), unless the settings turn it off. Against Debian's docker-registry; the mount itself is the runc plugin's
 * (its RuncBackendTest mounts a volatile overlay for a real container).
 */
class VolatileRootfsTest {
    static TestRegistry registry;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startRegistry() throws Exception {
        registry = TestRegistry.start(null);
        new TestLayers.Pusher(registry.url()).image("app", "1", false, "amd64", Map.of("Cmd", List.of("/app")),
                TestLayers.layers(new TestLayers.Layer().file("app", "a")));
    }

    @AfterAll
    static void stopRegistry() throws Exception {
        if (registry != null) {
            registry.close();
        }
    }

    @ParameterizedTest
    @CsvSource({"6.18.0-1-amd64, true", "5.10.0-28-amd64, true", "5.9.16, false", "4.18.0-513.el8.x86_64, false",
            "10.0, true", "5, false", "'', false", "6.1, true"})
    void theKernelReleaseSaysWhetherOverlayHasVolatile(String release, boolean has) {
        assertThat(RootfsSnapshots.kernelHasVolatile(release)).isEqualTo(has);
    }

    private List<String> overlayOptions(ImageSettings settings, String key) throws Exception {
        try (ImageService images = new ImageService(settings)) {
            Image image = images.pull(registry.hostPort() + "/app:1", RegistryCredentials.NONE);
            List<MountSpec> rootfs = images.prepareRootfs(key, image.id());
            assertThat(rootfs).singleElement().satisfies(m -> assertThat(m.type()).isEqualTo("overlay"));
            return rootfs.getFirst().options();
        }
    }

    @Test
    void theWritableLayerIsVolatileByDefaultWhereTheKernelHasIt() throws Exception {
        List<String> options = overlayOptions(ImageSettings.defaults(tmp.resolve("store")), "c".repeat(64));
        assertThat(options).anyMatch(o -> o.startsWith("upperdir=")).anyMatch(o -> o.startsWith("workdir="));
        boolean kernelHas = RootfsSnapshots.kernelHasVolatile(System.getProperty("os.version"));
        assertThat(options.contains("volatile")).as("volatile on kernel " + System.getProperty("os.version"))
                .isEqualTo(kernelHas);
    }

    @Test
    void theSettingsCanAskForSyncedLayers() throws Exception {
        List<String> options = overlayOptions(ImageSettings.defaults(tmp.resolve("store")).withVolatileRootfs(false),
                "d".repeat(64));
        assertThat(options).doesNotContain("volatile").anyMatch(o -> o.startsWith("upperdir="));
    }
}
