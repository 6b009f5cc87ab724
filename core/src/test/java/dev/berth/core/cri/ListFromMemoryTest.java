package dev.berth.core.cri;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.environment.Node;
import dev.berth.cri.v1.Container;
import dev.berth.cri.v1.ContainerFilter;
import dev.berth.cri.v1.ContainerState;
import dev.berth.cri.v1.ContainerStateValue;
import dev.berth.cri.v1.ContainerStatusRequest;
import dev.berth.cri.v1.CreateContainerRequest;
import dev.berth.cri.v1.ListContainersRequest;
import dev.berth.cri.v1.ListPodSandboxRequest;
import dev.berth.cri.v1.PodSandbox;
import dev.berth.cri.v1.PodSandboxFilter;
import dev.berth.cri.v1.RemoveContainerRequest;
import dev.berth.cri.v1.RemovePodSandboxRequest;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.cri.v1.StartContainerRequest;
import dev.berth.cri.v1.StopContainerRequest;
import dev.berth.cri.v1.StopPodSandboxRequest;
import dev.berth.spi.BackendContext;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.EventSource;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.testing.FakeBackend;
import dev.berth.spi.testing.FakeBackendFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ListContainers and ContainerStatus answer from memory for a backend that reports its exits ({@link EventSource}),
 * ask a backend without events every time, and filter through the indexes with the same answers as before.
 */
class ListFromMemoryTest {
    static final AtomicInteger STATUS_CALLS = new AtomicInteger();

    /** The fake backend, counting its status calls; with events ({@code evented}) or without ({@code polled}). */
    static class Counting extends FakeBackend {
        Counting(BackendContext context, Map<String, Object> options) {
            super(context, options);
        }

        @Override
        public ContainerStatus containerStatus(String containerId) {
            STATUS_CALLS.incrementAndGet();
            return super.containerStatus(containerId);
        }
    }

    static final class Evented extends Counting implements EventSource {
        static volatile Evented last;

        Evented(BackendContext context, Map<String, Object> options) {
            super(context, options);
            last = this;
        }
    }

    static final class Factory extends FakeBackendFactory {
        private final String type;

        Factory(String type) {
            this.type = type;
        }

        @Override
        public String type() {
            return type;
        }

        @Override
        public RuntimeBackend create(String handlerName, Map<String, Object> options, BackendContext context) {
            return type.equals("evented") ? new Evented(context, options) : new Counting(context, options);
        }
    }

    static final String CONFIG = """
            default_runtime = "evented"
            [runtimes.evented]
            type = "evented"
            [runtimes.polled]
            type = "polled"
            """;

    @TempDir
    Path dir;

    CriTestHarness h;

    @AfterEach
    void stop() {
        if (h != null) {
            h.close();
        }
    }

    private String pod(String name, String handler) {
        return h.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(CriTestHarness.pod(name))
                .setRuntimeHandler(handler).build()).getPodSandboxId();
    }

    private String container(String pod, String podName, String name) {
        return h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                .setConfig(CriTestHarness.container(name)).setSandboxConfig(CriTestHarness.pod(podName)).build())
                .getContainerId();
    }

    private List<Container> list(ContainerFilter.Builder f) {
        return h.runtime.listContainers(ListContainersRequest.newBuilder().setFilter(f).build()).getContainersList();
    }

    private static List<String> ids(List<Container> cs) {
        return cs.stream().map(Container::getId).toList();
    }

    @Test
    void anEventedBackendIsAskedOncePerChangeAndFiltersUseTheIndexes() throws Exception {
        h = new CriTestHarness(dir, CONFIG, Node.none(), List.of(new Factory("evented"), new Factory("polled")));
        String p1 = pod("p1", "");
        String p2 = pod("p2", "");
        String a = container(p1, "p1", "a");
        String b = container(p1, "p1", "b");
        String c = container(p2, "p2", "c");
        h.runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(a).build());
        h.runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(c).build());
        awaitSettled(a);
        awaitSettled(c);

        assertThat(list(ContainerFilter.newBuilder())).extracting(Container::getState).containsExactly(
                ContainerState.CONTAINER_RUNNING, ContainerState.CONTAINER_CREATED, ContainerState.CONTAINER_RUNNING);
        int calls = STATUS_CALLS.get();
        for (int i = 0; i < 5; i++) {
            assertThat(list(ContainerFilter.newBuilder())).hasSize(3);
        }
        assertThat(STATUS_CALLS.get()).as("relists with nothing changed ask the backend nothing").isEqualTo(calls);

        h.runtime.stopContainer(StopContainerRequest.newBuilder().setContainerId(a).setTimeout(0).build());
        // The stop and the backend's exit event each drop the kept state; the daemon asks again in the background.
        awaitSettled(a);
        int settled = STATUS_CALLS.get();
        assertThat(settled - calls).as("asked once or twice after the stop, in the background").isBetween(1, 2);
        var status = h.runtime.containerStatus(ContainerStatusRequest.newBuilder().setContainerId(a).build())
                .getStatus();
        assertThat(status.getState()).isEqualTo(ContainerState.CONTAINER_EXITED);
        assertThat(status.getExitCode()).isEqualTo(137);
        assertThat(status.getFinishedAt()).isPositive();
        assertThat(STATUS_CALLS.get()).as("ContainerStatus answers from the kept state").isEqualTo(settled);

        var running = ContainerStateValue.newBuilder().setState(ContainerState.CONTAINER_RUNNING);
        var exited = ContainerStateValue.newBuilder().setState(ContainerState.CONTAINER_EXITED);
        assertThat(ids(list(ContainerFilter.newBuilder().setState(running)))).containsExactly(c);
        assertThat(ids(list(ContainerFilter.newBuilder().setState(exited)))).containsExactly(a);
        assertThat(ids(list(ContainerFilter.newBuilder().setPodSandboxId(p1)))).containsExactly(a, b);
        assertThat(ids(list(ContainerFilter.newBuilder().setPodSandboxId(p1.substring(0, 12))))).containsExactly(a, b);
        assertThat(ids(list(ContainerFilter.newBuilder().setPodSandboxId(p1).setState(running)))).isEmpty();
        assertThat(ids(list(ContainerFilter.newBuilder().putLabelSelector("tier", "b")))).containsExactly(b);
        assertThat(ids(list(ContainerFilter.newBuilder().putLabelSelector("tier", "b").setPodSandboxId(p2))))
                .isEmpty();
        assertThat(ids(list(ContainerFilter.newBuilder().setId(c.substring(0, 10))))).containsExactly(c);
        assertThat(h.runtime.listPodSandbox(ListPodSandboxRequest.newBuilder().setFilter(PodSandboxFilter
                .newBuilder().putLabelSelector("app", "p2")).build()).getItemsList()).extracting(PodSandbox::getId)
                .containsExactly(p2);
        assertThat(h.runtime.listPodSandbox(ListPodSandboxRequest.newBuilder().setFilter(PodSandboxFilter
                .newBuilder().setId(p1.substring(0, 8))).build()).getItemsList()).extracting(PodSandbox::getId)
                .containsExactly(p1);

        h.runtime.removeContainer(RemoveContainerRequest.newBuilder().setContainerId(b).build());
        h.runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(p2).build());
        assertThat(ids(list(ContainerFilter.newBuilder().setState(exited)))).containsExactlyInAnyOrder(a, c);
        h.runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(p1).build());
        h.runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(p2).build());
        assertThat(list(ContainerFilter.newBuilder())).isEmpty();
        assertThat(h.daemon().cri().containerStates().size()).as("nothing kept for removed containers").isZero();
        assertThat(h.daemon().cri().containerIdsOf(p1)).isEmpty();
    }

    @Test
    void aBackendWithoutEventsIsAskedOnEveryList() throws Exception {
        h = new CriTestHarness(dir, CONFIG, Node.none(), List.of(new Factory("evented"), new Factory("polled")));
        String p = pod("p", "polled");
        String a = container(p, "p", "a");
        h.runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(a).build());
        int calls = STATUS_CALLS.get();
        for (int i = 0; i < 3; i++) {
            assertThat(list(ContainerFilter.newBuilder())).extracting(Container::getState)
                    .containsExactly(ContainerState.CONTAINER_RUNNING);
        }
        assertThat(STATUS_CALLS.get()).isEqualTo(calls + 3);
    }

    private void awaitSettled(String id) throws InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (!h.daemon().cri().containerStates().settled(id)) {
            assertThat(System.nanoTime()).as("container " + id + " settled in the background").isLessThan(deadline);
            Thread.sleep(5);
        }
    }

    @Test
    void aStartedContainerIsSettledInTheBackgroundBeforeTheNextRead() throws Exception {
        h = new CriTestHarness(dir, CONFIG, Node.none(), List.of(new Factory("evented"), new Factory("polled")));
        String a = h.startedContainer("p", "a").container();
        awaitSettled(a);
        int calls = STATUS_CALLS.get();
        assertThat(list(ContainerFilter.newBuilder())).extracting(Container::getState)
                .containsExactly(ContainerState.CONTAINER_RUNNING);
        assertThat(h.runtime.containerStatus(ContainerStatusRequest.newBuilder().setContainerId(a).build())
                .getStatus().getState()).isEqualTo(ContainerState.CONTAINER_RUNNING);
        assertThat(STATUS_CALLS.get()).as("the relist and the status read ask the backend nothing").isEqualTo(calls);
    }

    private List<PodSandbox> pods() {
        return h.runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList();
    }

    @Test
    void theUnfilteredListsFollowEveryChange() throws Exception {
        h = new CriTestHarness(dir, CONFIG, Node.none(), List.of(new Factory("evented"), new Factory("polled")));
        CriTestHarness.Started started = h.startedContainer("p1", "a");
        String p1 = started.pod();
        String a = started.container();
        for (int i = 0; i < 3; i++) {
            assertThat(list(ContainerFilter.newBuilder())).extracting(Container::getState)
                    .containsExactly(ContainerState.CONTAINER_RUNNING);
            assertThat(pods()).extracting(PodSandbox::getId).containsExactly(p1);
        }

        // The process exits on its own: only the backend's event tells core.
        Evented.last.stopContainer(a, java.time.Duration.ZERO);
        assertThat(list(ContainerFilter.newBuilder())).extracting(Container::getState)
                .containsExactly(ContainerState.CONTAINER_EXITED);

        String b = container(p1, "p1", "b");
        assertThat(ids(list(ContainerFilter.newBuilder()))).containsExactly(a, b);
        String p2 = pod("p2", "polled");
        assertThat(pods()).extracting(PodSandbox::getId).containsExactly(p1, p2);

        h.runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(p1).build());
        assertThat(pods()).extracting(PodSandbox::getState).containsExactly(
                dev.berth.cri.v1.PodSandboxState.SANDBOX_NOTREADY, dev.berth.cri.v1.PodSandboxState.SANDBOX_READY);
        h.runtime.removeContainer(RemoveContainerRequest.newBuilder().setContainerId(a).build());
        assertThat(ids(list(ContainerFilter.newBuilder()))).containsExactly(b);
        h.runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(p1).build());
        assertThat(pods()).extracting(PodSandbox::getId).containsExactly(p2);
        assertThat(list(ContainerFilter.newBuilder())).isEmpty();
    }
}
