package dev.berth.core.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.admin.v1.AdminServiceGrpc;
import dev.berth.admin.v1.ExplainRequest;
import dev.berth.admin.v1.ExplainResponse;
import dev.berth.core.cri.CriTestHarness;
import dev.berth.core.environment.Node;
import dev.berth.cri.v1.ExecSyncRequest;
import dev.berth.spi.testing.FakeBackendFactory;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A kubelet's exec probes are ExecSync calls every few seconds: a container's history in {@code berth explain} keeps
 * what changed it and the probes that failed, not a screenful of probes that succeeded.
 */
class ProbeHistoryTest {
    @TempDir
    Path dir;
    private CriTestHarness h;

    @BeforeEach
    void start() throws Exception {
        h = new CriTestHarness(dir, "health_interval = \"1h\"\ndefault_runtime = \"fake\"\n[runtimes.fake]\n"
                + "type = \"fake\"\n", Node.none(), List.of(new FakeBackendFactory()));
    }

    @AfterEach
    void stop() {
        h.close();
    }

    private static String history(ExplainResponse r, String title) {
        return r.getSectionsList().stream().filter(s -> s.getTitle().equals(title)).findFirst()
                .map(s -> s.getFieldsList().toString()).orElse("");
    }

    @Test
    void successfulProbesLeaveTheHistoryToWhatChangedTheContainer() {
        String ctr = h.startedContainer("web", "app").container();
        // More probes than a history holds: before, these pushed everything else out.
        for (int i = 0; i < 80; i++) {
            assertThat(h.runtime.execSync(ExecSyncRequest.newBuilder().setContainerId(ctr).addCmd("exit")
                    .addCmd(i % 2 == 0 ? "0" : "1").build()).getExitCode()).isEqualTo(i % 2);
        }
        assertThatThrownBy(() -> h.runtime.execSync(ExecSyncRequest.newBuilder().setContainerId(ctr)
                .addCmd("true").setTimeout(-1).build())).isInstanceOf(StatusRuntimeException.class);

        var admin = AdminServiceGrpc.newBlockingStub(h.channel);
        ExplainResponse r = admin.explain(ExplainRequest.newBuilder().setQuery(ctr).build());
        assertThat(history(r, "history")).contains("CreateContainer OK").contains("StartContainer OK")
                .doesNotContain("ExecSync OK").contains("ExecSync failed: INVALID_ARGUMENT");
        assertThat(history(r, "last errors")).contains("timeout must not be negative");
    }
}
