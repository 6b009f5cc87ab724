package dev.berth.core.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.image.Image;
import dev.berth.core.image.ImageService;
import dev.berth.core.image.ImageSettings;
import dev.berth.core.image.RegistryCredentials;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The training run's image must be one berth pulls, or the image build's training skips the image calls without a
 * word: pulled here through the image service from {@link TrainingRegistry}, unpacked, listed and removed.
 */
class TrainingRegistryTest {
    @TempDir
    Path tmp;

    @Test
    void itsImagePullsUnpacksAndRemovesCleanly() throws Exception {
        try (TrainingRegistry registry = TrainingRegistry.start();
             ImageService images = new ImageService(ImageSettings.defaults(tmp.resolve("store")),
                     dev.berth.core.metrics.Metrics.disabled())) {
            Image image = images.pull(registry.image(), RegistryCredentials.NONE);
            assertThat(image.repoTags()).containsExactly(registry.image());
            assertThat(image.repoDigests()).singleElement().asString().startsWith(
                    registry.image().substring(0, registry.image().lastIndexOf(':')) + "@sha256:");
            assertThat(images.list()).extracting(Image::id).containsExactly(image.id());
            Path rootfs = tmp.resolve("rootfs");
            var mounts = images.prepareRootfs("training", image.id());
            assertThat(mounts).isNotEmpty();
            images.releaseRootfs("training");
            images.remove(registry.image());
            assertThat(images.find(image.id())).isEqualTo(Optional.empty());
            assertThat(images.list()).isEmpty();
            assertThat(Files.exists(rootfs)).isFalse();
        }
    }

    @Test
    void theLayerIsAWellFormedTarOfWholeBlocks() {
        byte[] tar = TrainingRegistry.layerTar();
        assertThat(tar.length % 512).isZero();
        // the first header's checksum, as tar readers check it
        int sum = 0;
        for (int i = 0; i < 512; i++) {
            sum += i >= 148 && i < 156 ? ' ' : tar[i] & 0xff;
        }
        String field = new String(tar, 148, 6, java.nio.charset.StandardCharsets.US_ASCII);
        assertThat(Integer.parseInt(field, 8)).isEqualTo(sum);
        assertThat(new String(tar, 257, 5, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("ustar");
    }
}
