package dev.berth.core.cri.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.store.SandboxRecord;
import dev.berth.cri.v1.ContainerConfig;
import dev.berth.cri.v1.PodSandboxConfig;
import dev.berth.spi.BackendException;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Where CreateContainer puts a container's CRI log: {@code log_path} under the pod's {@code log_directory}. */
class LogPathTest {
    private static SandboxRecord pod(String logDirectory) {
        byte[] config = PodSandboxConfig.newBuilder().setLogDirectory(logDirectory).build().toByteArray();
        return new SandboxRecord("p1", "k-p1", "p1", "u", "default", 0, "runc", "runc", "runc", null, null,
                Instant.EPOCH, config, "", "", null, false, SandboxRecord.State.READY, 0);
    }

    private static ContainerConfig ctr(String logPath) {
        return ContainerConfig.newBuilder().setLogPath(logPath).build();
    }

    @Test
    void theLogPathIsJoinedToThePodsDirectory() {
        assertThat(CreateContainer.logPath(pod("/var/log/pods/ns_web_uid"), ctr("app/0.log")))
                .isEqualTo("/var/log/pods/ns_web_uid/app/0.log");
        assertThat(CreateContainer.logPath(pod("/var/log/pods/x"), ctr("a/../b.log"))).isEqualTo("/var/log/pods/x/b.log");
    }

    @Test
    void withoutALogDirectoryOrALogPathTheContainerHasNoLog() {
        assertThat(CreateContainer.logPath(pod(""), ctr("counter.log"))).isEmpty();
        assertThat(CreateContainer.logPath(pod("/var/log/pods/x"), ctr(""))).isEmpty();
    }

    @Test
    void aPathOutsideTheDirectoryOrARelativeDirectoryIsRefusedByName() {
        assertThatThrownBy(() -> CreateContainer.logPath(pod("/var/log/pods/x"), ctr("../../../etc/shadow")))
                .isInstanceOf(BackendException.class).hasMessageContaining("escapes the pod's log directory");
        assertThatThrownBy(() -> CreateContainer.logPath(pod("/var/log/pods/x"), ctr("/etc/shadow")))
                .isInstanceOf(BackendException.class).hasMessageContaining("escapes the pod's log directory");
        assertThatThrownBy(() -> CreateContainer.logPath(pod("logs"), ctr("c.log")))
                .isInstanceOf(BackendException.class).hasMessageContaining("log_directory \"logs\" is not an absolute path");
    }
}
