package dev.berth.core.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.admin.v1.AdminServiceGrpc;
import dev.berth.admin.v1.DrainHandlerRequest;
import dev.berth.admin.v1.ListHandlersRequest;
import dev.berth.admin.v1.UndrainHandlerRequest;
import dev.berth.core.Daemon;
import dev.berth.core.config.ConfigLoader;
import dev.berth.core.environment.Node;
import dev.berth.core.plugin.PluginHost;
import dev.berth.cri.v1.PodSandboxConfig;
import dev.berth.cri.v1.PodSandboxMetadata;
import dev.berth.cri.v1.PodSandboxStatusRequest;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.StatusRequest;
import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendHealth;
import dev.berth.spi.RuntimeBackend;
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
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The admin service next to CRI: drain and undrain through the daemon, and the handler view with cached health. */
class AdminServiceTest {
    @TempDir
    Path dir;

    private final AtomicInteger healthChecks = new AtomicInteger();
    private final FakeBackendFactory factory = new FakeBackendFactory() {
        @Override
        public RuntimeBackend create(String handlerName, Map<String, Object> options, BackendContext context) {
            return new FakeBackend(context, options) {
                @Override
                public BackendHealth health() {
                    healthChecks.incrementAndGet();
                    return super.health();
                }
            };
        }
    };
    private Daemon daemon;
    private ManagedChannel channel;
    private RuntimeServiceGrpc.RuntimeServiceBlockingStub runtime;
    private AdminServiceGrpc.AdminServiceBlockingStub admin;

    @AfterEach
    void stop() {
        if (channel != null) {
            channel.shutdownNow();
        }
        if (daemon != null) {
            daemon.close();
        }
    }

    private void start() throws Exception {
        stop();
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

    private String run(String name) {
        return runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName(name).setNamespace("default").setUid("u-" + name)))
                .build()).getPodSandboxId();
    }

    private dev.berth.admin.v1.Handler handler() {
        return admin.listHandlers(ListHandlersRequest.getDefaultInstance()).getHandlersList().stream()
                .filter(h -> h.getName().equals("fake")).findFirst().orElseThrow();
    }

    @Test
    void aDrainedHandlerRefusesNewPodsWithUnavailableKeepsItsPodsAndSurvivesARestart() throws Exception {
        start();
        String old = run("old");
        assertThat(admin.drainHandler(DrainHandlerRequest.newBuilder().setName("fake").build()).getChanged()).isTrue();

        assertThatThrownBy(() -> run("refused")).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
            assertThat(e.getStatus().getDescription()).contains("\"fake\"").contains("drained");
        });
        assertThat(runtime.podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(old).build())
                .getStatus().getId()).isEqualTo(old);
        assertThat(handler().getDrained()).isTrue();
        assertThat(handler().getPods()).isEqualTo(1);
        assertThat(handler().getReady()).isTrue();

        start();
        assertThat(handler().getDrained()).as("drain state survives a restart").isTrue();
        assertThatThrownBy(() -> run("refused")).isInstanceOf(StatusRuntimeException.class);

        assertThat(admin.undrainHandler(UndrainHandlerRequest.newBuilder().setName("fake").build()).getChanged())
                .isTrue();
        assertThat(run("welcome")).isNotEmpty();
        assertThat(handler().getDrained()).isFalse();
    }

    @Test
    void drainingAnUnknownHandlerIsNotFound() throws Exception {
        start();
        assertThatThrownBy(() -> admin.drainHandler(DrainHandlerRequest.newBuilder().setName("nope").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(e.getStatus().getDescription()).contains("nope").contains("fake");
                });
    }

    @Test
    void statusReadsTheCachedHealthInsteadOfCheckingPerCall() throws Exception {
        start();
        for (int i = 0; i < 5; i++) {
            assertThat(runtime.status(StatusRequest.getDefaultInstance()).getStatus().getConditions(0).getStatus())
                    .isTrue();
        }
        // At most the timer's first round and the first read's own check, never one per call.
        assertThat(healthChecks.get()).isBetween(1, 2);
    }
}
