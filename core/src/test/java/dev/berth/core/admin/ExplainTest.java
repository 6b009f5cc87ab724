package dev.berth.core.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.admin.v1.AdminServiceGrpc;
import dev.berth.admin.v1.ExplainRequest;
import dev.berth.admin.v1.ExplainResponse;
import dev.berth.core.Daemon;
import dev.berth.core.config.ConfigLoader;
import dev.berth.core.environment.Node;
import dev.berth.core.plugin.PluginHost;
import dev.berth.cri.v1.PodSandboxConfig;
import dev.berth.cri.v1.PodSandboxMetadata;
import dev.berth.cri.v1.RemovePodSandboxRequest;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.StopPodSandboxRequest;
import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendException;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.SandboxStatus;
import dev.berth.spi.testing.FakeBackend;
import dev.berth.spi.testing.FakeBackendFactory;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** berth explain through the admin service: a healthy pod, a pod whose creation failed, history and removal. */
class ExplainTest {
    @TempDir
    Path dir;

    private final FakeBackendFactory factory = new FakeBackendFactory() {
        @Override
        public RuntimeBackend create(String handlerName, Map<String, Object> options, BackendContext context) {
            return new FakeBackend(context, options) {
                @Override
                public SandboxStatus createSandbox(SandboxSpec spec) {
                    if (spec.metadata().name().equals("broken")) {
                        throw new BackendException(BackendException.Kind.INTERNAL, "the sandbox's cgroup is gone");
                    }
                    return super.createSandbox(spec);
                }
            };
        }
    };
    private Daemon daemon;
    private ManagedChannel channel;
    private RuntimeServiceGrpc.RuntimeServiceBlockingStub runtime;
    private AdminServiceGrpc.AdminServiceBlockingStub admin;

    @BeforeEach
    void start() throws Exception {
        Path file = dir.resolve("config.toml");
        Files.writeString(file, "state = \"" + dir.resolve("state") + "\"\nroot = \"" + dir.resolve("root") + "\"\n"
                + "health_interval = \"1h\"\ndefault_runtime = \"fake\"\n[runtimes.fake]\ntype = \"fake\"\n");
        daemon = Daemon.create(ConfigLoader.load(file, true), PluginHost.of(List.of(factory)), Node.none());
        String name = InProcessServerBuilder.generateName();
        daemon.serve(InProcessServerBuilder.forName(name));
        channel = InProcessChannelBuilder.forName(name).build();
        runtime = RuntimeServiceGrpc.newBlockingStub(channel);
        admin = AdminServiceGrpc.newBlockingStub(channel);
    }

    @AfterEach
    void stop() {
        channel.shutdownNow();
        daemon.close();
    }

    private RunPodSandboxRequest pod(String name) {
        return RunPodSandboxRequest.newBuilder().setConfig(PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName(name).setNamespace("ns").setUid("u-" + name)))
                .build();
    }

    private ExplainResponse explain(String query) {
        return admin.explain(ExplainRequest.newBuilder().setQuery(query).build());
    }

    private static String section(ExplainResponse r, String title) {
        return r.getSectionsList().stream().filter(s -> s.getTitle().equals(title)).findFirst()
                .map(s -> s.getFieldsList().toString()).orElse("");
    }

    @Test
    void aHealthyPodByIdPrefixAndByNameSaysReadyWithItsRecordAndHistory() {
        String id = runtime.runPodSandbox(pod("web")).getPodSandboxId();
        for (String q : List.of(id, id.substring(0, 8), "web", "ns/web")) {
            ExplainResponse r = explain(q);
            assertThat(r.getKind()).isEqualTo("pod");
            assertThat(r.getId()).isEqualTo(id);
            assertThat(r.getCause(0)).startsWith("ready");
        }
        ExplainResponse r = explain("web");
        assertThat(section(r, "record")).contains("READY").contains("fake");
        assertThat(section(r, "backend")).contains("READY");
        assertThat(section(r, "history")).contains("CREATING").contains("CREATING -> READY")
                .contains("RunPodSandbox OK");
    }

    @Test
    void aPodWhoseCreationFailedIsExplainedByNameWithTheErrorFirst() {
        assertThatThrownBy(() -> runtime.runPodSandbox(pod("broken"))).isInstanceOf(StatusRuntimeException.class);
        ExplainResponse r = explain("broken");
        assertThat(r.getKind()).isEqualTo("pod");
        assertThat(r.getCause(0)).startsWith("RunPodSandbox failed: INTERNAL")
                .contains("the sandbox's cgroup is gone");
        assertThat(r.getCause(1)).contains("does not exist").contains("rolled back");
        assertThat(section(r, "last errors")).contains("cgroup is gone");
    }

    @Test
    void theHistoryGoesWithARemovedPodAndUnknownNamesAreNotFound() {
        String id = runtime.runPodSandbox(pod("short")).getPodSandboxId();
        runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(id).build());
        assertThat(explain(id).getCause(0)).startsWith("not ready");
        runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(id).build());
        for (String q : List.of(id, "short", "nothing")) {
            assertThatThrownBy(() -> explain(q)).isInstanceOfSatisfying(StatusRuntimeException.class,
                    e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
        }
    }

    @Test
    void anAmbiguousNameListsTheCandidates() {
        runtime.runPodSandbox(pod("twin"));
        runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName("twin").setNamespace("other").setUid("u2")))
                .build());
        assertThatThrownBy(() -> explain("twin")).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).contains("ns/twin").contains("other/twin");
        });
        assertThat(explain("other/twin").getName()).isEqualTo("other/twin");
    }
}
