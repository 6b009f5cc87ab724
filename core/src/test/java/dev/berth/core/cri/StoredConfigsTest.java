package dev.berth.core.cri;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.cri.v1.ContainerConfig;
import dev.berth.cri.v1.ContainerMetadata;
import dev.berth.cri.v1.PodSandboxConfig;
import dev.berth.cri.v1.PodSandboxMetadata;
import org.junit.jupiter.api.Test;

class StoredConfigsTest {

    @Test
    void aRecordsBytesAreParsedOnceAndAnotherRecordsBytesOnTheirOwn() {
        byte[] stored = ContainerConfig.newBuilder().setMetadata(ContainerMetadata.newBuilder().setName("a"))
                .build().toByteArray();
        ContainerConfig first = StoredConfigs.container(stored);
        assertThat(first.getMetadata().getName()).isEqualTo("a");
        assertThat(StoredConfigs.container(stored)).isSameAs(first);

        // Equal bytes of another record (e.g. after UpdateContainerResources) are that record's own entry.
        byte[] copy = stored.clone();
        assertThat(StoredConfigs.container(copy)).isEqualTo(first).isNotSameAs(first);

        // The same array asked for as another type is parsed as that type.
        byte[] pod = PodSandboxConfig.newBuilder().setMetadata(PodSandboxMetadata.newBuilder().setName("p"))
                .build().toByteArray();
        assertThat(StoredConfigs.sandbox(pod).getMetadata().getName()).isEqualTo("p");
    }

    @Test
    void bytesThatDoNotParseReadAsTheDefaultConfig() {
        assertThat(StoredConfigs.container(new byte[] {(byte) 0xff, 0x01}))
                .isEqualTo(ContainerConfig.getDefaultInstance());
        assertThat(StoredConfigs.sandbox(new byte[0])).isEqualTo(PodSandboxConfig.getDefaultInstance());
    }
}
