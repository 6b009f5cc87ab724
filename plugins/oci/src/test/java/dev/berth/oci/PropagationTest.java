package dev.berth.oci;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.spi.ContainerMount;
import dev.berth.spi.ContainerMount.Propagation;
import java.util.List;
import org.junit.jupiter.api.Test;

class PropagationTest {
    private static ContainerMount mount(String path, Propagation p) {
        return new ContainerMount(path, "/host" + path, false, false, p, false, "");
    }

    @Test
    void theRootPropagatesAsFarAsItsMountsNeed() {
        assertThat(dev.berth.oci.Propagation.rootfs(List.of())).isEmpty();
        assertThat(dev.berth.oci.Propagation.rootfs(List.of(mount("/a", Propagation.PRIVATE)))).isEmpty();
        assertThat(dev.berth.oci.Propagation.rootfs(List.of(mount("/a", Propagation.PRIVATE),
                mount("/b", Propagation.HOST_TO_CONTAINER)))).contains("rslave");
        assertThat(dev.berth.oci.Propagation.rootfs(List.of(mount("/b", Propagation.HOST_TO_CONTAINER),
                mount("/c", Propagation.BIDIRECTIONAL)))).contains("rshared");
    }
}
