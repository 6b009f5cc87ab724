package dev.berth.core.cri;

import static dev.berth.core.cri.CriServiceTest.assertCode;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.cri.container.ContainerEnvironment;
import dev.berth.core.cri.sandbox.RunPodSandbox;
import dev.berth.core.cri.sandbox.SandboxEnvironment;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.environment.Node;
import dev.berth.core.mapping.SpiMapper;
import dev.berth.cri.v1.ContainerStatusRequest;
import dev.berth.cri.v1.CreateContainerRequest;
import dev.berth.cri.v1.ListContainersRequest;
import dev.berth.cri.v1.ListPodSandboxRequest;
import dev.berth.cri.v1.PodSandboxConfig;
import dev.berth.cri.v1.PodSandboxState;
import dev.berth.cri.v1.PodSandboxStatusRequest;
import dev.berth.cri.v1.RemoveContainerRequest;
import dev.berth.cri.v1.RemovePodSandboxRequest;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.cri.v1.StartContainerRequest;
import dev.berth.cri.v1.StopPodSandboxRequest;
import dev.berth.spi.BackendException;
import io.grpc.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No failing cleanup step wedges a pod or container: Stop and Remove run every step, report what failed and
 * what is left, and a later Remove finishes once the failing step can succeed (issue 16).
 */
class CleanupProgressTest {
    @TempDir
    Path dir;

    CriTestHarness h;
    final FlakyNetwork network = new FlakyNetwork();

    @AfterEach
    void stop() {
        if (h != null) {
            h.close();
        }
    }

    private void start(String extraConfig) throws Exception {
        h = new CriTestHarness(dir, CriTestHarness.CONFIG + extraConfig,
                new Node(network, ContainerEnvironment.NONE, null, null, List.of()));
    }

    @Test
    void aBackendWhoseStopThrowsStillLetsThePodBeRemoved() throws Exception {
        start("""
                [runtimes.stuck]
                type = "fake"
                [runtimes.stuck.options]
                fail_stop = true
                """);
        String pod = run("p", "stuck");
        String ctr = createAndStart(pod, "c");

        assertCode(() -> h.runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build()),
                Status.Code.INTERNAL, "cannot stop container \"" + ctr + "\"");
        // The stop went on past the failing step: the pod is not ready, its network released.
        assertThat(state(pod)).isEqualTo(PodSandboxState.SANDBOX_NOTREADY);
        assertThat(network.released).contains(pod);

        h.runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        assertThat(h.runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()).isEmpty();
        assertThat(h.runtime.listContainers(ListContainersRequest.getDefaultInstance()).getContainersList()).isEmpty();
        // Idempotent afterwards.
        h.runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        h.runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
    }

    @Test
    void aFailedRemovalIsReportedKeepsWhatIsLeftListedAndIsRetried() throws Exception {
        Path flag = Files.createFile(dir.resolve("fail-remove"));
        start("""
                [runtimes.flaky]
                type = "fake"
                [runtimes.flaky.options]
                fail_remove_while = "%s"
                """.formatted(flag));
        String pod = run("p", "flaky");
        String ctr = createAndStart(pod, "c");

        for (int i = 0; i < 2; i++) {
            assertCode(() -> h.runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod)
                    .build()), Status.Code.INTERNAL, "cannot remove container \"" + ctr + "\"");
            assertThat(h.runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList())
                    .singleElement().satisfies(p -> assertThat(p.getState())
                            .isEqualTo(PodSandboxState.SANDBOX_NOTREADY));
            assertThat(h.runtime.listContainers(ListContainersRequest.getDefaultInstance()).getContainersList())
                    .hasSize(1);
        }
        assertCode(() -> h.runtime.removeContainer(RemoveContainerRequest.newBuilder().setContainerId(ctr).build()),
                Status.Code.INTERNAL, "The container stays listed");
        // The pod's files stay while the backend may still use them; the network is released all the same.
        assertThat(network.releasedAll).doesNotContain(pod);
        assertThat(network.released).contains(pod);

        Files.delete(flag);
        h.runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        assertThat(h.runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()).isEmpty();
        assertThat(h.runtime.listContainers(ListContainersRequest.getDefaultInstance()).getContainersList()).isEmpty();
        assertThat(network.releasedAll).contains(pod);
        assertThat(dir.resolve("state/records/sandboxes")).isEmptyDirectory();
        assertThat(dir.resolve("state/records/containers")).isEmptyDirectory();
    }

    @Test
    void aNetworkThatCannotBeReleasedIsReportedByStopAndRemoveUntilItCan() throws Exception {
        start("");
        String pod = run("p", "fake");
        network.failRelease.set(true);

        assertCode(() -> h.runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build()),
                Status.Code.UNAVAILABLE, "cannot release the pod network: CNI DEL failed");
        assertThat(state(pod)).isEqualTo(PodSandboxState.SANDBOX_NOTREADY);
        assertCode(() -> h.runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod)
                .build()), Status.Code.UNAVAILABLE, "The pod stays listed (NOTREADY)");
        assertThat(h.runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()).hasSize(1);

        network.failRelease.set(false);
        h.runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        assertThat(h.runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()).isEmpty();
    }

    @Test
    void aRunWhoseRollbackFailedLeavesAPodThatStopAndRemoveFinish() throws Exception {
        start("");
        // As with a NUL byte in the pod's namespace: CNI ADD fails, and so does the DEL of the rollback.
        network.failConnect.set(true);
        network.failRelease.set(true);
        assertCode(() -> run("p", "fake"), Status.Code.UNAVAILABLE, "CNI ADD failed");
        var pods = h.runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList();
        assertThat(pods).singleElement().satisfies(p -> assertThat(p.getState())
                .isEqualTo(PodSandboxState.SANDBOX_NOTREADY));
        String pod = pods.getFirst().getId();

        network.failRelease.set(false);
        h.runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        h.runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        assertThat(h.runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()).isEmpty();
        network.failConnect.set(false);
        run("p", "fake"); // the name is free again
    }

    @Test
    void whenTheNetworkFailsWhileTheSandboxIsCreatedTheErrorNamesTheNetworkFirstAndNothingStays() throws Exception {
        // As the runc backend does: CNI runs while the sandbox is created, and its rollback removes the namespace
        // the backend is joining, so the backend fails too, as a consequence.
        start("""
                [runtimes.parallel]
                type = "fake"
                [runtimes.parallel.options]
                network_before_create = false
                fail_create = true
                """);
        network.failConnect.set(true);
        assertCode(() -> run("p", "parallel"), Status.Code.UNAVAILABLE, "CNI ADD failed (test); creating the "
                + "sandbox meanwhile failed too: failed to create sandbox");
        assertThat(h.runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()).isEmpty();
    }

    @Test
    void aPodWhoseHandlerIsNoLongerConfiguredIsReportedAndRemovableOnceItIsBack() throws Exception {
        start("");
        String pod = run("p", "other");
        String ctr = createAndStart(pod, "c");
        // A handler dropped from the config still serves its pods from its persisted generation; only a pod
        // whose generation cannot be re-created has no way to its backend. Lose the generation's options.
        h.close();
        h = null;
        try (var files = java.nio.file.Files.list(dir.resolve("state/generations"))) {
            for (var f : files.filter(f -> f.getFileName().toString().startsWith("other@")).toList()) {
                java.nio.file.Files.delete(f);
            }
        }
        restart(CriTestHarness.CONFIG.replace("[runtimes.other]\ntype = \"fake\"\n", ""));

        assertCode(() -> h.runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod)
                .build()), Status.Code.UNAVAILABLE, "runtime handler \"other\" of pod sandbox \"" + pod
                + "\" is not configured");
        assertThat(network.released).contains(pod); // what core could clean, it cleaned
        assertThat(h.runtime.listContainers(ListContainersRequest.getDefaultInstance()).getContainersList())
                .extracting(c -> c.getId()).containsExactly(ctr);

        restart(CriTestHarness.CONFIG);
        h.runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        assertThat(h.runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()).isEmpty();
        assertThat(h.runtime.listContainers(ListContainersRequest.getDefaultInstance()).getContainersList()).isEmpty();
    }

    private void restart(String config) throws Exception {
        if (h != null) {
            h.close();
        }
        h = null;
        h = new CriTestHarness(dir, config, new Node(network, ContainerEnvironment.NONE, null, null, List.of()));
    }

    private String run(String name, String handler) {
        return h.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(CriTestHarness.pod(name))
                .setRuntimeHandler(handler).build()).getPodSandboxId();
    }

    private String createAndStart(String pod, String name) {
        String id = h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                .setConfig(CriTestHarness.container(name)).setSandboxConfig(CriTestHarness.pod("p")).build())
                .getContainerId();
        h.runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(id).build());
        assertThat(h.runtime.containerStatus(ContainerStatusRequest.newBuilder().setContainerId(id).build())
                .getStatus().getState()).isEqualTo(dev.berth.cri.v1.ContainerState.CONTAINER_RUNNING);
        return id;
    }

    private PodSandboxState state(String pod) {
        return h.runtime.podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(pod).build())
                .getStatus().getState();
    }

    /** A pod network whose setup and release fail while asked to, as a CNI plugin that keeps failing does. */
    static final class FlakyNetwork implements SandboxEnvironment {
        final AtomicBoolean failConnect = new AtomicBoolean();
        final AtomicBoolean failRelease = new AtomicBoolean();
        final List<String> released = new ArrayList<>();
        final List<String> releasedAll = new ArrayList<>();

        @Override
        public SpiMapper.Prepared prepare(String sandboxId, PodSandboxConfig config, Handler handler,
                                          Deque<RunPodSandbox.Undo> undo) {
            undo.push(new RunPodSandbox.Undo("tear down the pod network", () -> releaseNetwork(sandboxId)));
            // A namespace path (never opened by the fake backend), so that CNI may run while the sandbox is created.
            return new SpiMapper.Prepared(Path.of("/run/netns/test-" + sandboxId), "", List.of(), List.of(),
                    dev.berth.spi.ImageConfig.NONE, null, null, null);
        }

        @Override
        public SpiMapper.Prepared connect(String sandboxId, PodSandboxConfig config, SpiMapper.Prepared prepared) {
            if (failConnect.get()) {
                throw new BackendException(BackendException.Kind.UNAVAILABLE, "CNI ADD failed (test)");
            }
            return prepared;
        }

        @Override
        public synchronized void releaseNetwork(String sandboxId) {
            if (failRelease.get()) {
                throw new BackendException(BackendException.Kind.UNAVAILABLE, "CNI DEL failed (test)");
            }
            released.add(sandboxId);
        }

        @Override
        public synchronized void release(String sandboxId) {
            releaseNetwork(sandboxId);
            releasedAll.add(sandboxId);
        }
    }
}
