package dev.berth.core.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What a container's status reports of its image: the name asked for in full, and the repository digest. */
class ImageReportedTest {
    private static final String ID = "sha256:" + "a".repeat(64);
    private static final String DIGEST = "sha256:" + "b".repeat(64);
    private static final String MIRROR_DIGEST = "sha256:" + "c".repeat(64);

    private static Image image(List<String> tags, List<String> digests) {
        return new Image(ID, tags, digests, 1, "", false, DIGEST, List.of(), null);
    }

    @Test
    void aTagAskedForIsReportedInFullWithItsRepositorysDigest() {
        Image i = image(List.of("docker.io/library/busybox:1.36", "docker.io/library/busybox:latest"),
                List.of("docker.io/library/busybox@" + DIGEST));
        assertThat(i.reportedName("busybox:1.36")).isEqualTo("docker.io/library/busybox:1.36");
        assertThat(i.reportedName("busybox")).isEqualTo("docker.io/library/busybox:latest");
        assertThat(i.reportedRef("busybox:1.36")).isEqualTo("docker.io/library/busybox@" + DIGEST);
    }

    @Test
    void theDigestOfTheRepositoryAskedForComesFirst() {
        Image i = image(List.of("quay.io/x/app:1", "registry.example/x/app:1"),
                List.of("quay.io/x/app@" + MIRROR_DIGEST, "registry.example/x/app@" + DIGEST));
        assertThat(i.reportedRef("registry.example/x/app:1")).isEqualTo("registry.example/x/app@" + DIGEST);
        assertThat(i.reportedRef("quay.io/x/app:1")).isEqualTo("quay.io/x/app@" + MIRROR_DIGEST);
        assertThat(i.reportedRef("elsewhere.example/app:1")).isEqualTo("quay.io/x/app@" + MIRROR_DIGEST);
    }

    @Test
    void aDigestAskedForIsReportedAsItIs() {
        Image i = image(List.of("docker.io/library/busybox:1.36"), List.of("docker.io/library/busybox@" + DIGEST));
        assertThat(i.reportedName("busybox@" + DIGEST)).isEqualTo("docker.io/library/busybox@" + DIGEST);
        assertThat(i.reportedRef("busybox@" + DIGEST)).isEqualTo("docker.io/library/busybox@" + DIGEST);
    }

    @Test
    void anImageIdReportsTheFirstTagAndAnImageWithoutDigestsItsId() {
        Image tagged = image(List.of("docker.io/library/busybox:1.36"), List.of());
        assertThat(tagged.reportedName(ID)).isEqualTo("docker.io/library/busybox:1.36");
        assertThat(tagged.reportedRef(ID)).isEqualTo(ID);
        Image bare = image(List.of(), List.of());
        assertThat(bare.reportedName(ID)).isEqualTo(ID);
        assertThat(bare.reportedRef("busybox:1.36")).isEqualTo(ID);
    }
}
