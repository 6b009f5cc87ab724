package dev.berth.core.cri;

import static dev.berth.core.cri.CriServiceTest.assertCode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.berth.core.environment.Node;
import dev.berth.cri.v1.ContainerState;
import dev.berth.cri.v1.CreateContainerRequest;
import dev.berth.cri.v1.ListContainersRequest;
import dev.berth.cri.v1.ListPodSandboxRequest;
import dev.berth.cri.v1.PodSandboxState;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.spi.BackendContext;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.SandboxStatus;
import dev.berth.spi.testing.FakeBackend;
import dev.berth.spi.testing.FakeBackendFactory;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kubelet's retry of a RunPodSandbox or CreateContainer whose deadline passed while the backend still worked
 * (CRI-O's {@code timeout.bats}): berth finishes the creation and hands it to the retry, once, instead of
 * ALREADY_EXISTS for its name.
 */
class RetriedCreatesTest {
    @TempDir
    Path dir;

    /** Opened by the test: until then a pod or container named "slow" is stuck in the backend's create. */
    private final CountDownLatch gate = new CountDownLatch(1);
    private final CountDownLatch entered = new CountDownLatch(1);
    private CriTestHarness h;

    private final FakeBackendFactory factory = new FakeBackendFactory() {
        @Override
        public RuntimeBackend create(String handlerName, Map<String, Object> options, BackendContext context) {
            return new FakeBackend(context, options) {
                @Override
                public SandboxStatus createSandbox(SandboxSpec spec) {
                    if (spec.metadata().name().equals("slow")) {
                        hold();
                    }
                    return super.createSandbox(spec);
                }

                @Override
                public ContainerStatus createContainer(ContainerSpec spec) {
                    if (spec.name().equals("slow")) {
                        hold();
                    }
                    return super.createContainer(spec);
                }
            };
        }
    };

    private void hold() {
        entered.countDown();
        try {
            gate.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @BeforeEach
    void start() throws Exception {
        h = new CriTestHarness(dir, CriTestHarness.CONFIG, Node.none(), List.of(factory));
    }

    @AfterEach
    void stop() {
        gate.countDown();
        h.close();
    }

    private static RunPodSandboxRequest pod(String name) {
        return RunPodSandboxRequest.newBuilder().setConfig(CriTestHarness.pod(name)).build();
    }

    private void givesUp(Runnable call) throws InterruptedException {
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, call::run);
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        assertThat(entered.await(10, TimeUnit.SECONDS)).as("the backend's create was reached").isTrue();
    }

    @Test
    void aRetryWhileThePodIsStillMadeWaitsAndGetsIt() throws Exception {
        givesUp(() -> h.runtime.withDeadlineAfter(300, TimeUnit.MILLISECONDS).runPodSandbox(pod("slow")));
        var retry = CompletableFuture.supplyAsync(() -> h.runtime.runPodSandbox(pod("slow")).getPodSandboxId());
        Thread.sleep(300);
        assertThat(retry).as("waiting for the creation still running").isNotDone();
        gate.countDown();
        String id = retry.get(10, TimeUnit.SECONDS);

        var pods = h.runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList();
        assertThat(pods).singleElement().satisfies(p -> {
            assertThat(p.getId()).isEqualTo(id);
            assertThat(p.getState()).isEqualTo(PodSandboxState.SANDBOX_READY);
        });
        assertCode(() -> h.runtime.runPodSandbox(pod("slow")), Status.Code.ALREADY_EXISTS,
                "is already used by pod sandbox \"" + id + "\"");
    }

    @Test
    void aRetryAfterThePodWasMadeGetsItAndADifferentRequestDoesNot() throws Exception {
        givesUp(() -> h.runtime.withDeadlineAfter(300, TimeUnit.MILLISECONDS).runPodSandbox(pod("slow")));
        gate.countDown();
        String id = awaitOnePod();
        RunPodSandboxRequest changed = RunPodSandboxRequest.newBuilder()
                .setConfig(CriTestHarness.pod("slow").toBuilder().putLabels("changed", "yes")).build();
        assertCode(() -> h.runtime.runPodSandbox(changed), Status.Code.ALREADY_EXISTS, id);
        assertThat(h.runtime.runPodSandbox(pod("slow")).getPodSandboxId()).isEqualTo(id);
        assertThat(h.runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsCount()).isEqualTo(1);
    }

    @Test
    void aPodWhoseCallerGotItsAnswerIsNotGivenToASecondRequest() {
        String id = h.runtime.runPodSandbox(pod("fast")).getPodSandboxId();
        assertCode(() -> h.runtime.runPodSandbox(pod("fast")), Status.Code.ALREADY_EXISTS,
                "is already used by pod sandbox \"" + id + "\"");
    }

    @Test
    void aRetriedCreateContainerGetsTheContainerItsCallerGaveUpOn() throws Exception {
        String pod = h.runtime.runPodSandbox(pod("p")).getPodSandboxId();
        CreateContainerRequest req = CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                .setConfig(CriTestHarness.container("slow")).setSandboxConfig(CriTestHarness.pod("p")).build();
        givesUp(() -> h.runtime.withDeadlineAfter(300, TimeUnit.MILLISECONDS).createContainer(req));
        var retry = CompletableFuture.supplyAsync(() -> h.runtime.createContainer(req).getContainerId());
        gate.countDown();
        String id = retry.get(10, TimeUnit.SECONDS);

        var containers = h.runtime.listContainers(ListContainersRequest.getDefaultInstance()).getContainersList();
        assertThat(containers).singleElement().satisfies(c -> {
            assertThat(c.getId()).isEqualTo(id);
            assertThat(c.getState()).isEqualTo(ContainerState.CONTAINER_CREATED);
        });
        assertCode(() -> h.runtime.createContainer(req), Status.Code.ALREADY_EXISTS,
                "is already used by container \"" + id + "\"");
    }

    private String awaitOnePod() throws InterruptedException {
        for (int i = 0; i < 200; i++) {
            var pods = h.runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList();
            if (pods.size() == 1 && pods.get(0).getState() == PodSandboxState.SANDBOX_READY) {
                return pods.get(0).getId();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the pod whose caller gave up was not made");
    }
}
