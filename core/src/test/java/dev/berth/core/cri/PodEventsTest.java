package dev.berth.core.cri;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.cri.v1.ContainerEventResponse;
import dev.berth.cri.v1.ContainerEventType;
import dev.berth.cri.v1.ContainerState;
import dev.berth.cri.v1.CreateContainerRequest;
import dev.berth.cri.v1.GetEventsRequest;
import dev.berth.cri.v1.PodSandboxState;
import dev.berth.cri.v1.RemoveContainerRequest;
import dev.berth.cri.v1.RemovePodSandboxRequest;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.StartContainerRequest;
import dev.berth.cri.v1.StopContainerRequest;
import dev.berth.cri.v1.StopPodSandboxRequest;
import dev.berth.spi.BackendEvent;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GetContainerEvents as the kubelet's evented PLEG reads it (containerd's {@code container_event_test}): a pod's
 * own created, started, stopped and deleted, and every event with the pod's status and its containers' statuses.
 */
class PodEventsTest {
    @TempDir
    Path dir;

    private CriTestHarness h;
    private io.grpc.Context.CancellableContext call;
    private final LinkedBlockingQueue<ContainerEventResponse> events = new LinkedBlockingQueue<>();

    @BeforeEach
    void subscribe() throws Exception {
        h = new CriTestHarness(dir);
        call = io.grpc.Context.current().withCancellation();
        call.run(() -> RuntimeServiceGrpc.newStub(h.channel).getContainerEvents(GetEventsRequest.getDefaultInstance(),
                new io.grpc.stub.StreamObserver<>() {
                    @Override public void onNext(ContainerEventResponse e) { events.add(e); }
                    @Override public void onError(Throwable t) { }
                    @Override public void onCompleted() { }
                }));
        // The server subscribes asynchronously: primer pods are run until one's event arrives.
        boolean subscribed = false;
        for (int i = 0; i < 50 && !subscribed; i++) {
            String primer = run("primer-" + i);
            ContainerEventResponse e;
            while (!subscribed && (e = events.poll(200, TimeUnit.MILLISECONDS)) != null) {
                subscribed = e.getContainerId().equals(primer);
            }
        }
        assertThat(subscribed).as("the event subscription became active").isTrue();
    }

    @AfterEach
    void close() {
        call.cancel(null);
        h.close();
    }

    private String run(String name) {
        return h.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(CriTestHarness.pod(name)).build())
                .getPodSandboxId();
    }

    /** The next event about {@code id}, skipping the others (the primers'). */
    private ContainerEventResponse next(String id) throws InterruptedException {
        while (true) {
            ContainerEventResponse e = events.poll(30, TimeUnit.SECONDS);
            assertThat(e).as("an event about " + id).isNotNull();
            if (e.getContainerId().equals(id)) {
                return e;
            }
        }
    }

    private static List<ContainerState> states(ContainerEventResponse e) {
        List<ContainerState> out = new ArrayList<>();
        e.getContainersStatusesList().forEach(s -> out.add(s.getState()));
        return out;
    }

    @Test
    void aPodsLifeAndItsContainersArriveWithTheirStatuses() throws Exception {
        String pod = run("ev");
        ContainerEventResponse created = next(pod);
        assertThat(created.getContainerEventType()).isEqualTo(ContainerEventType.CONTAINER_CREATED_EVENT);
        assertThat(created.getPodSandboxStatus().getState()).isEqualTo(PodSandboxState.SANDBOX_READY);
        assertThat(created.getPodSandboxStatus().getMetadata().getName()).isEqualTo("ev");
        assertThat(created.getPodSandboxStatus().getMetadata().getUid()).isEqualTo("uid-ev");
        assertThat(created.getContainersStatusesList()).isEmpty();
        assertThat(next(pod).getContainerEventType()).isEqualTo(ContainerEventType.CONTAINER_STARTED_EVENT);

        String ctr = h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                .setConfig(CriTestHarness.container("app")).setSandboxConfig(CriTestHarness.pod("ev")).build())
                .getContainerId();
        ContainerEventResponse c = next(ctr);
        assertThat(c.getContainerEventType()).isEqualTo(ContainerEventType.CONTAINER_CREATED_EVENT);
        assertThat(c.getPodSandboxStatus().getId()).isEqualTo(pod);
        assertThat(c.getPodSandboxStatus().getMetadata().getName()).isEqualTo("ev");
        assertThat(states(c)).containsExactly(ContainerState.CONTAINER_CREATED);
        assertThat(c.getContainersStatuses(0).getMetadata().getName()).isEqualTo("app");

        h.runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(ctr).build());
        ContainerEventResponse started = next(ctr);
        assertThat(started.getContainerEventType()).isEqualTo(ContainerEventType.CONTAINER_STARTED_EVENT);
        assertThat(states(started)).containsExactly(ContainerState.CONTAINER_RUNNING);

        h.runtime.stopContainer(StopContainerRequest.newBuilder().setContainerId(ctr).setTimeout(1).build());
        ContainerEventResponse stopped = next(ctr);
        assertThat(stopped.getContainerEventType()).isEqualTo(ContainerEventType.CONTAINER_STOPPED_EVENT);
        assertThat(states(stopped)).containsExactly(ContainerState.CONTAINER_EXITED);

        h.runtime.removeContainer(RemoveContainerRequest.newBuilder().setContainerId(ctr).build());
        ContainerEventResponse deleted = next(ctr);
        assertThat(deleted.getContainerEventType()).isEqualTo(ContainerEventType.CONTAINER_DELETED_EVENT);
        assertThat(deleted.getPodSandboxStatus().getState()).isEqualTo(PodSandboxState.SANDBOX_READY);
        assertThat(deleted.getContainersStatusesList()).isEmpty();

        h.runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        ContainerEventResponse podStopped = next(pod);
        assertThat(podStopped.getContainerEventType()).isEqualTo(ContainerEventType.CONTAINER_STOPPED_EVENT);
        assertThat(podStopped.getPodSandboxStatus().getState()).isEqualTo(PodSandboxState.SANDBOX_NOTREADY);

        h.runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        ContainerEventResponse podDeleted = next(pod);
        assertThat(podDeleted.getContainerEventType()).isEqualTo(ContainerEventType.CONTAINER_DELETED_EVENT);
        assertThat(podDeleted.getPodSandboxStatus().getMetadata().getName())
                .as("the deleted pod's status, from its last record").isEqualTo("ev");
        assertThat(podDeleted.getPodSandboxStatus().getState()).isEqualTo(PodSandboxState.SANDBOX_NOTREADY);
    }

    /** A pod's end as its backend reports it (the SPI's SandboxEventSource). */
    private void backendReportsEnd(String pod) {
        h.daemon().cri().events().publish(new BackendEvent(BackendEvent.Type.STOPPED, pod, pod, null));
    }

    private void readyEvents(String pod) throws InterruptedException {
        assertThat(next(pod).getContainerEventType()).isEqualTo(ContainerEventType.CONTAINER_CREATED_EVENT);
        assertThat(next(pod).getContainerEventType()).isEqualTo(ContainerEventType.CONTAINER_STARTED_EVENT);
    }

    @Test
    void aPodWhoseBackendReportedItsEndIsToldStoppedOnceWhenStopped() throws Exception {
        String pod = run("ended");
        readyEvents(pod);
        backendReportsEnd(pod);
        assertThat(next(pod).getContainerEventType()).isEqualTo(ContainerEventType.CONTAINER_STOPPED_EVENT);

        h.runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        h.runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        assertThat(next(pod).getContainerEventType()).as("after the backend's STOPPED, the stop's is not sent again")
                .isEqualTo(ContainerEventType.CONTAINER_DELETED_EVENT);
    }

    @Test
    void aBackendsReportAfterAStopOrARemovalIsNotSentAgain() throws Exception {
        String pod = run("late");
        readyEvents(pod);
        h.runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        assertThat(next(pod).getContainerEventType()).isEqualTo(ContainerEventType.CONTAINER_STOPPED_EVENT);
        backendReportsEnd(pod);
        h.runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        assertThat(next(pod).getContainerEventType()).isEqualTo(ContainerEventType.CONTAINER_DELETED_EVENT);
        backendReportsEnd(pod);

        String marker = run("marker"); // events come in order: the marker's after anything more about the pod
        ContainerEventResponse e;
        while ((e = events.poll(30, TimeUnit.SECONDS)) != null && !e.getContainerId().equals(marker)) {
            assertThat(e.getContainerId()).as("an event about the removed pod after its DELETED").isNotEqualTo(pod);
        }
        assertThat(e).as("the marker pod's event").isNotNull();
    }
}
