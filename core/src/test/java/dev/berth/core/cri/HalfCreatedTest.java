package dev.berth.core.cri;

import static dev.berth.core.cri.CriServiceTest.assertCode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.berth.core.store.RecordStore;
import dev.berth.core.store.SandboxRecord;
import dev.berth.cri.v1.ContainerState;
import dev.berth.cri.v1.ContainerStatsRequest;
import dev.berth.cri.v1.ContainerStatusRequest;
import dev.berth.cri.v1.CreateContainerRequest;
import dev.berth.cri.v1.ExecSyncRequest;
import dev.berth.cri.v1.LinuxContainerResources;
import dev.berth.cri.v1.ListContainersRequest;
import dev.berth.cri.v1.ListPodSandboxRequest;
import dev.berth.cri.v1.PodSandboxState;
import dev.berth.cri.v1.PodSandboxStatsRequest;
import dev.berth.cri.v1.PodSandboxStatusRequest;
import dev.berth.cri.v1.RemoveContainerRequest;
import dev.berth.cri.v1.RemovePodSandboxRequest;
import dev.berth.cri.v1.ReopenContainerLogRequest;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.cri.v1.StartContainerRequest;
import dev.berth.cri.v1.StopContainerRequest;
import dev.berth.cri.v1.StopPodSandboxRequest;
import dev.berth.cri.v1.UpdateContainerResourcesRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Objects a SIGKILL of berth cut off mid-create: core's record was written, the backend never made the object.
 * The state is simulated as the kill leaves it (record present, the fake backend's own state file absent) and
 * the daemon restarted on it. A listed object is never NOT_FOUND, and Remove cleans it up (issue 16).
 */
class HalfCreatedTest {
    @TempDir
    Path dir;

    CriTestHarness h;

    @AfterEach
    void stop() {
        if (h != null) {
            h.close();
        }
    }

    @Test
    void aContainerTheBackendNeverMadeIsUnknownAnswersFailedPreconditionAndIsRemovable() throws Exception {
        h = new CriTestHarness(dir);
        String pod = h.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(CriTestHarness.pod("p"))
                .build()).getPodSandboxId();
        String ctr = h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                .setConfig(CriTestHarness.container("c")).setSandboxConfig(CriTestHarness.pod("p")).build())
                .getContainerId();
        h.close();
        // The kill came after core's record and before the backend's.
        Files.delete(dir.resolve("state/handlers/fake/container-" + ctr));
        h = new CriTestHarness(dir);

        assertThat(h.runtime.listContainers(ListContainersRequest.getDefaultInstance()).getContainersList())
                .singleElement().satisfies(c -> assertThat(c.getState()).isEqualTo(ContainerState.CONTAINER_UNKNOWN));
        assertThat(h.runtime.containerStatus(ContainerStatusRequest.newBuilder().setContainerId(ctr).build())
                .getStatus().getState()).isEqualTo(ContainerState.CONTAINER_UNKNOWN);
        assertCode(() -> h.runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(ctr).build()),
                Status.Code.FAILED_PRECONDITION, "cannot start container \"" + ctr + "\": it is listed in state "
                        + "CONTAINER_UNKNOWN");
        assertCode(() -> h.runtime.execSync(ExecSyncRequest.newBuilder().setContainerId(ctr).addCmd("echo").build()),
                Status.Code.FAILED_PRECONDITION, "CONTAINER_UNKNOWN");
        assertCode(() -> h.runtime.updateContainerResources(UpdateContainerResourcesRequest.newBuilder()
                .setContainerId(ctr).setLinux(LinuxContainerResources.newBuilder().setCpuShares(512)).build()),
                Status.Code.FAILED_PRECONDITION, "CONTAINER_UNKNOWN");
        // The fake backend has no stats or log reopening: those say so, and nothing says NOT_FOUND.
        notNotFound(() -> h.runtime.containerStats(ContainerStatsRequest.newBuilder().setContainerId(ctr).build()));
        notNotFound(() -> h.runtime.reopenContainerLog(ReopenContainerLogRequest.newBuilder().setContainerId(ctr)
                .build()));
        h.runtime.stopContainer(StopContainerRequest.newBuilder().setContainerId(ctr).build());

        h.runtime.removeContainer(RemoveContainerRequest.newBuilder().setContainerId(ctr).build());
        assertThat(h.runtime.listContainers(ListContainersRequest.getDefaultInstance()).getContainersList()).isEmpty();
        assertThat(dir.resolve("state/records/containers")).isEmptyDirectory();
        // The pod itself was untouched.
        assertThat(h.runtime.podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(pod).build())
                .getStatus().getState()).isEqualTo(PodSandboxState.SANDBOX_READY);
    }

    @Test
    void aPodCutOffWhileCreatingIsNotReadyAndIsRemovable() throws Exception {
        h = new CriTestHarness(dir);
        String pod = h.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(CriTestHarness.pod("p"))
                .build()).getPodSandboxId();
        h.close();
        // As the kill leaves it: core's record still CREATING, no sandbox in the backend.
        var records = new RecordStore<>(dir.resolve("state/records/sandboxes"), SandboxRecord.class,
                SandboxRecord::id);
        records.load((f, e) -> {
            throw new AssertionError(e);
        });
        records.put(records.get(pod).orElseThrow().withState(SandboxRecord.State.CREATING));
        Files.delete(dir.resolve("state/handlers/fake/sandbox-" + pod));
        h = new CriTestHarness(dir);

        assertThat(h.runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList())
                .singleElement().satisfies(p -> assertThat(p.getState()).isEqualTo(PodSandboxState.SANDBOX_NOTREADY));
        assertThat(h.runtime.podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(pod).build())
                .getStatus().getState()).isEqualTo(PodSandboxState.SANDBOX_NOTREADY);
        assertCode(() -> h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                .setConfig(CriTestHarness.container("c")).build()), Status.Code.FAILED_PRECONDITION, "is not ready");
        notNotFound(() -> h.runtime.podSandboxStats(PodSandboxStatsRequest.newBuilder().setPodSandboxId(pod)
                .build()));

        h.runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        h.runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        assertThat(h.runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()).isEmpty();
        // The name is free again.
        h.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(CriTestHarness.pod("p")).build());
    }

    private static void notNotFound(ThrowingCallable call) {
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, call);
        if (e != null) {
            assertThat(e.getStatus().getCode()).isNotEqualTo(Status.Code.NOT_FOUND);
        }
    }
}
