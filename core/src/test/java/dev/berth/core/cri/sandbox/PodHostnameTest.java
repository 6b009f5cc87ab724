package dev.berth.core.cri.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.mapping.SpiMapper;
import dev.berth.cri.v1.PodSandboxConfig;
import dev.berth.cri.v1.PodSandboxMetadata;
import org.junit.jupiter.api.Test;

class PodHostnameTest {
    private static PodSandboxConfig pod(String name, String hostname) {
        return PodSandboxConfig.newBuilder().setMetadata(PodSandboxMetadata.newBuilder().setName(name)
                .setNamespace("ns").setUid("u")).setHostname(hostname).build();
    }

    @Test
    void theConfigsHostnameElseThePodsNameCutAsTheKubeletCutsIt() {
        assertThat(PodHostname.of(pod("web", "h1"), false)).isEqualTo("h1");
        assertThat(PodHostname.of(pod("web", ""), false)).isEqualTo("web");
        String longName = "a".repeat(62) + "-.b" + "c".repeat(20);
        assertThat(PodHostname.of(pod(longName, ""), false)).isEqualTo("a".repeat(62)).hasSizeLessThanOrEqualTo(63);
        assertThat(PodHostname.of(pod("web", "h1"), true)).isEqualTo(PodHostname.node());
    }

    @Test
    void theSandboxsUtsHostnameIsTheOneItsFilesAndEnvironmentName() {
        // Before, an empty hostname left the UTS hostname the node's while /etc/hostname and HOSTNAME said the pod's.
        assertThat(SpiMapper.sandbox("p1", pod("web", ""), SpiMapper.Prepared.NONE).hostname()).isEqualTo("web");
        assertThat(SpiMapper.sandbox("p1", pod("web", "h1"), SpiMapper.Prepared.NONE).hostname()).isEqualTo("h1");
    }
}
