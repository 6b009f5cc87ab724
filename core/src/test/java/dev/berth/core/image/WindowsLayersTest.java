package dev.berth.core.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.spi.BackendException;
import dev.berth.spi.MountSpec;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class WindowsLayersTest {
    private static final String A = "sha256:" + "a".repeat(64);
    private static final String B = "sha256:" + "b".repeat(64);
    private static final String C = "sha256:" + "c".repeat(64);
    private static final String D = "sha256:" + "d".repeat(64);
    private static final String GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    private static final String FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

    @Test
    void theRootfsListsTheLayersBaseFirstThenTheScratch() {
        var base = new WindowsLayers.Layer(Path.of("/store/blobs/" + "a".repeat(64)), A, B, FOREIGN);
        var top = new WindowsLayers.Layer(Path.of("/store/blobs/" + "c".repeat(64)), C, D, GZIP);
        List<MountSpec> rootfs = WindowsLayers.rootfs(List.of(base, top), Path.of("/state/c1/scratch"));
        assertThat(rootfs).extracting(MountSpec::type).containsExactly("windows-layer", "windows-layer",
                "windows-scratch");
        assertThat(rootfs.getFirst()).isEqualTo(new MountSpec("windows-layer", base.blob().toString(), "",
                List.of("digest=" + A, "diffid=" + B, "mediatype=" + FOREIGN)));
        assertThat(rootfs.getLast().source()).isEqualTo("/state/c1/scratch");
        assertThat(WindowsLayers.layers(rootfs)).contains(List.of(base, top));
    }

    @Test
    void aLinuxRootfsIsNotAWindowsOne() {
        assertThat(WindowsLayers.layers(List.of(new MountSpec("overlay", "overlay", "", List.of("lowerdir=/a")))))
                .isEmpty();
        assertThat(WindowsLayers.layers(List.of())).isEmpty();
        assertThat(WindowsLayers.layers(List.of(new MountSpec("overlay", "o", "", List.of()),
                new MountSpec("windows-scratch", "/s", "", List.of())))).isEmpty();
    }

    @Test
    void digestsAreChecked() {
        assertThatThrownBy(() -> WindowsLayers.rootfs(List.of(new WindowsLayers.Layer(Path.of("/x"), "md5:1", B,
                GZIP)), Path.of("/s"))).isInstanceOf(BackendException.class);
    }

    @Test
    void windowsLayerTarsAreRecognizedByTheirTopDirectories() {
        assertThat(WindowsLayers.isWindowsLayerTar(List.of("Files/", "Files/Windows/", "Hives/", "Hives/System_Delta")))
                .isTrue();
        assertThat(WindowsLayers.isWindowsLayerTar(List.of("./Files/x", "UtilityVM/Files/y"))).isTrue();
        assertThat(WindowsLayers.isWindowsLayerTar(List.of("Files/x", "etc/passwd"))).isFalse();
        assertThat(WindowsLayers.isWindowsLayerTar(List.of("bin/", "etc/"))).isFalse();
        assertThat(WindowsLayers.isWindowsLayerTar(List.of())).isFalse();
        assertThat(WindowsLayers.isWindowsImage("windows")).isTrue();
        assertThat(WindowsLayers.isWindowsImage("linux")).isFalse();
    }
}
