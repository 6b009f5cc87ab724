package dev.berth.core.cri;

import static dev.berth.core.cri.CriServiceTest.assertCode;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.environment.Node;
import dev.berth.cri.v1.CheckpointContainerRequest;
import dev.berth.cri.v1.CreateContainerRequest;
import dev.berth.cri.v1.LinuxContainerResources;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.cri.v1.StartContainerRequest;
import dev.berth.cri.v1.UpdatePodSandboxResourcesRequest;
import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendException;
import dev.berth.spi.Checkpointing;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.LinuxResources;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.RuntimeBackendFactory;
import dev.berth.spi.SandboxResizing;
import dev.berth.spi.testing.FakeBackend;
import dev.berth.spi.testing.FakeBackendFactory;
import io.grpc.Status;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CheckpointContainer and UpdatePodSandboxResources reach the backend's {@link Checkpointing} and
 * {@link SandboxResizing}; a handler whose backend lacks them answers UNIMPLEMENTED naming it.
 */
class CapabilityRpcTest {
    /** What the capable backends were asked, across instances. */
    static final List<String> CALLS = new CopyOnWriteArrayList<>();

    @TempDir
    Path dir;

    CriTestHarness h;

    /** The fake with both capabilities, recording its calls; checkpoints only running containers. */
    static final class CapableBackend extends FakeBackend implements Checkpointing, SandboxResizing {
        CapableBackend(BackendContext context, Map<String, Object> options) {
            super(context, options);
        }

        @Override
        public void checkpoint(String containerId, Path location) {
            if (containerStatus(containerId).state() != ContainerStatus.State.RUNNING) {
                throw new BackendException(BackendException.Kind.FAILED_PRECONDITION, "container \"" + containerId
                        + "\" is not running");
            }
            CALLS.add("checkpoint " + containerId + " " + location);
        }

        @Override
        public void updateSandboxResources(String sandboxId, LinuxResources overhead, LinuxResources resources) {
            sandboxStatus(sandboxId);
            CALLS.add("resize " + sandboxId + " overhead=" + overhead.memoryLimitBytes() + " resources="
                    + resources.memoryLimitBytes() + "/" + resources.cpuQuota());
        }
    }

    static final class CapableFactory implements RuntimeBackendFactory {
        @Override
        public String type() {
            return "capable";
        }

        @Override
        public RuntimeBackend create(String handlerName, Map<String, Object> options, BackendContext context) {
            return new CapableBackend(context, options);
        }
    }

    @BeforeEach
    void start() throws Exception {
        CALLS.clear();
        h = new CriTestHarness(dir, """
                default_runtime = "capable"
                [runtimes.capable]
                type = "capable"
                [runtimes.plain]
                type = "fake"
                """, Node.none(), List.of(new CapableFactory(), new FakeBackendFactory()));
    }

    @AfterEach
    void stop() {
        h.close();
    }

    private String pod(String name, String handler) {
        return h.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(CriTestHarness.pod(name))
                .setRuntimeHandler(handler).build()).getPodSandboxId();
    }

    private String container(String pod, String name) {
        return h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                .setConfig(CriTestHarness.container(name)).setSandboxConfig(CriTestHarness.pod(name)).build())
                .getContainerId();
    }

    private static CheckpointContainerRequest checkpoint(String id, String location) {
        return CheckpointContainerRequest.newBuilder().setContainerId(id).setLocation(location).setTimeout(30).build();
    }

    @Test
    void checkpointContainerReachesTheBackend() {
        String ctr = container(pod("web", ""), "app");
        assertCode(() -> h.runtime.checkpointContainer(checkpoint(ctr, "/var/lib/kubelet/checkpoints/a.tar")),
                Status.Code.FAILED_PRECONDITION, "is not running");
        h.runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(ctr).build());
        h.runtime.checkpointContainer(checkpoint(ctr.substring(0, 12), "/var/lib/kubelet/checkpoints/../a.tar"));
        assertThat(CALLS).containsExactly("checkpoint " + ctr + " /var/lib/kubelet/a.tar");

        assertCode(() -> h.runtime.checkpointContainer(checkpoint(ctr, "")), Status.Code.INVALID_ARGUMENT,
                "location must be an absolute path");
        assertCode(() -> h.runtime.checkpointContainer(checkpoint(ctr, "a.tar")), Status.Code.INVALID_ARGUMENT,
                "got \"a.tar\"");
        assertCode(() -> h.runtime.checkpointContainer(checkpoint("nope", "/a.tar")), Status.Code.NOT_FOUND,
                "container \"nope\"");
        assertThat(CALLS).hasSize(1);
    }

    @Test
    void updatePodSandboxResourcesReachesTheBackend() {
        String pod = pod("web", "");
        h.runtime.updatePodSandboxResources(UpdatePodSandboxResourcesRequest.newBuilder().setPodSandboxId(pod)
                .setOverhead(LinuxContainerResources.newBuilder().setMemoryLimitInBytes(1 << 20))
                .setResources(LinuxContainerResources.newBuilder().setMemoryLimitInBytes(64 << 20)
                        .setCpuQuota(50_000).setCpuPeriod(100_000))
                .build());
        // Without overhead: none, not a failure.
        h.runtime.updatePodSandboxResources(UpdatePodSandboxResourcesRequest.newBuilder().setPodSandboxId(pod)
                .setResources(LinuxContainerResources.newBuilder().setMemoryLimitInBytes(32 << 20)).build());
        assertThat(CALLS).containsExactly("resize " + pod + " overhead=1048576 resources=67108864/50000",
                "resize " + pod + " overhead=0 resources=33554432/0");

        assertCode(() -> h.runtime.updatePodSandboxResources(UpdatePodSandboxResourcesRequest.newBuilder()
                .setPodSandboxId(pod).setResources(LinuxContainerResources.newBuilder().setMemoryLimitInBytes(-1))
                .build()), Status.Code.INVALID_ARGUMENT, "must not be negative");
        assertCode(() -> h.runtime.updatePodSandboxResources(UpdatePodSandboxResourcesRequest.newBuilder()
                .setPodSandboxId("nope").build()), Status.Code.NOT_FOUND, "pod sandbox \"nope\"");
        assertThat(CALLS).hasSize(2);
    }

    @Test
    void aBackendWithoutTheCapabilityIsUnimplementedNamingTheHandler() {
        String pod = pod("plain", "plain");
        String ctr = container(pod, "app");
        h.runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(ctr).build());
        assertCode(() -> h.runtime.checkpointContainer(checkpoint(ctr, "/a.tar")), Status.Code.UNIMPLEMENTED,
                "runtime handler \"plain\" (type fake, plugin builtin) does not support checkpointing containers");
        assertCode(() -> h.runtime.updatePodSandboxResources(UpdatePodSandboxResourcesRequest.newBuilder()
                .setPodSandboxId(pod).build()), Status.Code.UNIMPLEMENTED,
                "runtime handler \"plain\" (type fake, plugin builtin) does not support resizing pod sandboxes");
        assertThat(CALLS).isEmpty();
    }
}
