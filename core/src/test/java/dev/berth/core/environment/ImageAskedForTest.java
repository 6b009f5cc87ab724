package dev.berth.core.environment;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.image.Image;
import dev.berth.cri.v1.ContainerConfig;
import dev.berth.cri.v1.ImageSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The kubelet creates containers by image id; the status names the image the pod asked for. */
class ImageAskedForTest {
    private static final String ID = "sha256:" + "a".repeat(64);
    private static final String DIGEST = "sha256:" + "b".repeat(64);

    @Test
    void thePodsOwnReferenceNamesTheImageWhenTheKubeletSendsTheId() {
        Image image = new Image(ID, List.of("docker.io/library/busybox:latest", "quay.io/x/busybox:1.36"),
                List.of("docker.io/library/busybox@" + DIGEST, "quay.io/x/busybox@" + DIGEST), 1, "", false, DIGEST,
                List.of(), null);
        ContainerConfig kubelet = ContainerConfig.newBuilder().setImage(ImageSpec.newBuilder().setImage(ID)
                .setUserSpecifiedImage("quay.io/x/busybox:1.36")).build();
        String asked = ImageContainerEnvironment.askedFor(kubelet);
        assertThat(asked).isEqualTo("quay.io/x/busybox:1.36");
        assertThat(image.reportedName(asked)).isEqualTo("quay.io/x/busybox:1.36");
        assertThat(image.reportedRef(asked)).isEqualTo("quay.io/x/busybox@" + DIGEST);

        ContainerConfig crictl = ContainerConfig.newBuilder().setImage(ImageSpec.newBuilder().setImage("busybox"))
                .build();
        assertThat(ImageContainerEnvironment.askedFor(crictl)).isEqualTo("busybox");
        assertThat(image.reportedName(ImageContainerEnvironment.askedFor(crictl)))
                .isEqualTo("docker.io/library/busybox:latest");
    }
}
