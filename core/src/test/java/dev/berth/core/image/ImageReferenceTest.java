package dev.berth.core.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.spi.BackendException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ImageReferenceTest {
    private static final String D = "sha256:" + "ab".repeat(32);

    @ParameterizedTest
    @CsvSource({
        "busybox, docker.io/library/busybox:latest",
        "busybox:1.36, docker.io/library/busybox:1.36",
        "library/busybox, docker.io/library/busybox:latest",
        "docker.io/busybox, docker.io/library/busybox:latest",
        "index.docker.io/library/busybox:1, docker.io/library/busybox:1",
        "user/app, docker.io/user/app:latest",
        "registry.k8s.io/pause:3.9, registry.k8s.io/pause:3.9",
        "127.0.0.1:5000/library/busybox:1.36, 127.0.0.1:5000/library/busybox:1.36",
        "localhost/app, localhost/app:latest",
        "localhost:5000/a/b/c:v1.2-rc_3, localhost:5000/a/b/c:v1.2-rc_3",
        "gcr.io/k8s-staging-cri-tools/test-image-1, gcr.io/k8s-staging-cri-tools/test-image-1:latest",
    })
    void normalises(String in, String out) {
        assertThat(ImageReference.parse(in).toString()).isEqualTo(out);
    }

    @org.junit.jupiter.api.Test
    void digests() {
        ImageReference r = ImageReference.parse("busybox@" + D);
        assertThat(r.toString()).isEqualTo("docker.io/library/busybox@" + D);
        assertThat(r.tag()).isEmpty();
        assertThat(r.manifestReference()).isEqualTo(D);
        ImageReference both = ImageReference.parse("quay.io/a/b:1@" + D);
        assertThat(both.tag()).isEqualTo("1");
        assertThat(both.digest()).isEqualTo(D);
        assertThat(both.manifestReference()).isEqualTo(D);
        assertThat(both.withDigest(D)).isEqualTo("quay.io/a/b@" + D);
        assertThat(ImageReference.parse("127.0.0.1:5000/x").domain()).isEqualTo("127.0.0.1:5000");
        assertThat(ImageReference.parse("127.0.0.1:5000/x").path()).isEqualTo("x");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "Busybox", "busybox:", "busybox:-bad", "a//b", "busybox@sha256:12",
        "busybox@md5:" + "ab", "bad host!/x", "x/../y", ":tag", "-a"})
    void rejects(String bad) {
        assertThatThrownBy(() -> ImageReference.parse(bad)).isInstanceOf(BackendException.class)
                .satisfies(e -> assertThat(((BackendException) e).kind()).isEqualTo(BackendException.Kind.INVALID_ARGUMENT))
                .hasMessageStartingWith("failed to parse image reference");
    }

    @org.junit.jupiter.api.Test
    void aRepositoryNamedAlone() {
        assertThat(ImageReference.tryParseRepository("busybox")).map(ImageReference::name)
                .contains("docker.io/library/busybox");
        assertThat(ImageReference.tryParseRepository("127.0.0.1:5000/a/b")).map(ImageReference::name)
                .contains("127.0.0.1:5000/a/b");
        assertThat(ImageReference.tryParseRepository("busybox:1.36")).isEmpty();
        assertThat(ImageReference.tryParseRepository("127.0.0.1:5000/a:1")).isEmpty();
        assertThat(ImageReference.tryParseRepository("busybox@" + D)).isEmpty();
        assertThat(ImageReference.tryParseRepository("Busybox")).isEmpty();
    }
}
