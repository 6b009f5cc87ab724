package dev.berth.core.cri;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The kubelet's polling calls (reads, exec probes) are logged at DEBUG, everything that changes the node at INFO. */
class RpcLogLevelTest {
    @ParameterizedTest
    @CsvSource({"Version,true", "Status,true", "ListPodSandbox,true", "ListContainers,true", "PodSandboxStatus,true",
            "ContainerStatus,true", "ImageStatus,true", "ListImages,true", "ImageFsInfo,true", "ContainerStats,true",
            "ListPodSandboxStats,true", "RuntimeConfig,true", "RunPodSandbox,false", "StopPodSandbox,false",
            "CreateContainer,false", "RemoveContainer,false", "PullImage,false", "ExecSync,false", "Exec,false",
            "UpdateRuntimeConfig,false", "ReopenContainerLog,false"})
    void readsAreTheCallsThatOnlyLook(String method, boolean read) {
        assertThat(CriServer.isRead(method)).isEqualTo(read);
        assertThat(CriServer.isPolled(method)).isEqualTo(read || method.equals("ExecSync"));
    }
}
