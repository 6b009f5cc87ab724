package dev.berth.core.cri;

import static dev.berth.core.cri.CriServiceTest.assertCode;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.cri.container.ContainerEnvironment;
import dev.berth.core.cri.sandbox.SandboxEnvironment;
import dev.berth.core.environment.Node;
import dev.berth.core.streaming.StreamingSettings;
import dev.berth.cri.v1.AttachRequest;
import dev.berth.cri.v1.CreateContainerRequest;
import dev.berth.cri.v1.ExecRequest;
import dev.berth.cri.v1.ExecSyncRequest;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.cri.v1.StartContainerRequest;
import dev.berth.cri.v1.StopContainerRequest;
import dev.berth.cri.v1.ContainerState;
import dev.berth.cri.v1.ContainerStatusRequest;
import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendEvent;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.EventSource;
import dev.berth.spi.ExecResult;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.RuntimeBackendFactory;
import dev.berth.spi.StreamingIo;
import dev.berth.spi.testing.FakeBackend;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ExecSync, Exec and Attach refuse an empty command and a container that is not running with the same status
 * whatever the backend, over runtime.v1 and runtime.v1alpha2 alike, and nothing runs in such a container. Exec and
 * Attach check in core before they hand out a URL; ExecSync lets the backend's own refusal (the SPI's contract) be
 * the check, and asks the status only to name the state.
 */
class ExecPreconditionsTest {
    /** The exec and attach calls the backend ran (an execSync it refused is not here). */
    static final List<String> RAN = new CopyOnWriteArrayList<>();

    @TempDir
    Path dir;

    CriTestHarness h;
    dev.berth.cri.v1alpha2.RuntimeServiceGrpc.RuntimeServiceBlockingStub alpha;

    /** The fake backend with streaming, recording every exec and attach it runs. */
    static class StreamingBackend extends FakeBackend implements StreamingIo {
        StreamingBackend(BackendContext context, Map<String, Object> options) {
            super(context, options);
        }

        @Override
        public ExecResult execSync(String containerId, List<String> command, Duration timeout) {
            if (command.getFirst().equals("boom")) {
                throw new BackendException(BackendException.Kind.INTERNAL, "the exec helper crashed");
            }
            if (command.getFirst().equals("slow")) {
                STATUS_FAILS.add(containerId);
                throw new BackendException(BackendException.Kind.DEADLINE_EXCEEDED, "timed out after 1s");
            }
            ExecResult r = super.execSync(containerId, command, timeout);
            RAN.add("execSync " + command);
            return r;
        }

        @Override
        public int exec(String containerId, List<String> command, Streams io) {
            RAN.add("exec " + command);
            return 0;
        }

        @Override
        public void attach(String containerId, Streams io) {
            RAN.add("attach");
        }
    }

    static final class StreamingFactory implements RuntimeBackendFactory {
        @Override
        public String type() {
            return "streaming";
        }

        @Override
        public RuntimeBackend create(String handlerName, Map<String, Object> options, BackendContext context) {
            return new StreamingBackend(context, options);
        }
    }

    /** Containers whose process exited without the backend's STOPPED event yet (the exit window). */
    static final Set<String> EXITED_SILENTLY = ConcurrentHashMap.newKeySet();
    /** Containers whose status the evented backend cannot read. */
    static final Set<String> STATUS_FAILS = ConcurrentHashMap.newKeySet();
    /** How often the evented backend was asked for a container's status. */
    static final AtomicInteger STATUS_CALLS = new AtomicInteger();
    /** Where the evented backend publishes its events. */
    static volatile BackendContext.EventSink sink;

    /** The streaming fake with events, so that core keeps its containers' statuses in memory. */
    static final class EventedBackend extends StreamingBackend implements EventSource {
        EventedBackend(BackendContext context, Map<String, Object> options) {
            super(context, options);
            sink = context.events();
        }

        @Override
        public ContainerStatus containerStatus(String containerId) {
            STATUS_CALLS.incrementAndGet();
            if (STATUS_FAILS.contains(containerId)) {
                throw new BackendException(BackendException.Kind.UNAVAILABLE, "the runtime does not answer");
            }
            ContainerStatus s = super.containerStatus(containerId);
            if (!EXITED_SILENTLY.contains(containerId)) {
                return s;
            }
            return new ContainerStatus(s.id(), ContainerStatus.State.EXITED, s.createdAt(), s.startedAt(),
                    Instant.now(), 0, "Completed", "", 0, s.info());
        }

        @Override
        public ExecResult execSync(String containerId, List<String> command, Duration timeout) {
            if (EXITED_SILENTLY.contains(containerId)) { // as a real backend sees the exit before its event
                throw new BackendException(BackendException.Kind.FAILED_PRECONDITION,
                        "container \"" + containerId + "\" has exited");
            }
            return super.execSync(containerId, command, timeout);
        }
    }

    static final class EventedFactory implements RuntimeBackendFactory {
        @Override
        public String type() {
            return "evented";
        }

        @Override
        public RuntimeBackend create(String handlerName, Map<String, Object> options, BackendContext context) {
            return new EventedBackend(context, options);
        }
    }

    @BeforeEach
    void start() throws Exception {
        RAN.clear();
        EXITED_SILENTLY.clear();
        STATUS_FAILS.clear();
        STATUS_CALLS.set(0);
        Node node = new Node(SandboxEnvironment.NONE, ContainerEnvironment.NONE, null, StreamingSettings.defaults(),
                List.of());
        h = new CriTestHarness(dir, """
                default_runtime = "s"
                [runtimes.s]
                type = "streaming"
                [runtimes.e]
                type = "evented"
                """, node, List.of(new StreamingFactory(), new EventedFactory()));
        alpha = dev.berth.cri.v1alpha2.RuntimeServiceGrpc.newBlockingStub(h.channel);
    }

    @AfterEach
    void stop() {
        h.close();
    }

    private String createdContainer(String name) {
        return createdContainer(name, "");
    }

    private String createdContainer(String name, String handler) {
        String pod = h.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(CriTestHarness.pod(name))
                .setRuntimeHandler(handler).build()).getPodSandboxId();
        return h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                .setConfig(CriTestHarness.container(name)).setSandboxConfig(CriTestHarness.pod(name)).build())
                .getContainerId();
    }

    private void assertAllRefused(String ctr, String state) {
        String why = "container \"" + ctr + "\": it is " + state + ", not running";
        assertCode(() -> h.runtime.execSync(ExecSyncRequest.newBuilder().setContainerId(ctr).addCmd("echo").build()),
                Status.Code.FAILED_PRECONDITION, "cannot exec in " + why);
        assertCode(() -> h.runtime.exec(ExecRequest.newBuilder().setContainerId(ctr).addCmd("sh").setStdout(true)
                .build()), Status.Code.FAILED_PRECONDITION, "cannot exec in " + why);
        assertCode(() -> h.runtime.attach(AttachRequest.newBuilder().setContainerId(ctr).setStdout(true).build()),
                Status.Code.FAILED_PRECONDITION, "cannot attach to " + why);
        assertCode(() -> alpha.execSync(dev.berth.cri.v1alpha2.ExecSyncRequest.newBuilder().setContainerId(ctr)
                .addCmd("echo").build()), Status.Code.FAILED_PRECONDITION, "cannot exec in " + why);
        assertCode(() -> alpha.exec(dev.berth.cri.v1alpha2.ExecRequest.newBuilder().setContainerId(ctr)
                .addCmd("sh").setStdout(true).build()), Status.Code.FAILED_PRECONDITION, "cannot exec in " + why);
        assertCode(() -> alpha.attach(dev.berth.cri.v1alpha2.AttachRequest.newBuilder().setContainerId(ctr)
                .setStdout(true).build()), Status.Code.FAILED_PRECONDITION, "cannot attach to " + why);
        assertThat(RAN).isEmpty();
    }

    @Test
    void anEmptyCommandIsInvalidInBothVersions() {
        String ctr = h.startedContainer("empty", "empty").container();
        assertCode(() -> h.runtime.execSync(ExecSyncRequest.newBuilder().setContainerId(ctr).build()),
                Status.Code.INVALID_ARGUMENT, "cmd must not be empty");
        assertCode(() -> h.runtime.exec(ExecRequest.newBuilder().setContainerId(ctr).setStdout(true).build()),
                Status.Code.INVALID_ARGUMENT, "cmd must not be empty");
        assertCode(() -> alpha.execSync(dev.berth.cri.v1alpha2.ExecSyncRequest.newBuilder().setContainerId(ctr)
                .build()), Status.Code.INVALID_ARGUMENT, "cmd must not be empty");
        assertCode(() -> alpha.exec(dev.berth.cri.v1alpha2.ExecRequest.newBuilder().setContainerId(ctr)
                .setStdout(true).build()), Status.Code.INVALID_ARGUMENT, "cmd must not be empty");
        assertThat(RAN).isEmpty();
    }

    @Test
    void anEmptyCommandIsRefusedBeforeTheState() {
        String ctr = createdContainer("order");
        assertCode(() -> h.runtime.execSync(ExecSyncRequest.newBuilder().setContainerId(ctr).build()),
                Status.Code.INVALID_ARGUMENT, "cmd must not be empty");
    }

    @Test
    void aCreatedContainerIsNotRunning() {
        assertAllRefused(createdContainer("created"), "CONTAINER_CREATED");
    }

    @Test
    void anExitedContainerIsNotRunning() {
        String ctr = h.startedContainer("exited", "exited").container();
        h.runtime.stopContainer(StopContainerRequest.newBuilder().setContainerId(ctr).setTimeout(1).build());
        assertAllRefused(ctr, "CONTAINER_EXITED");
    }

    @Test
    void aRunningContainerReachesTheBackend() {
        String ctr = h.startedContainer("running", "running").container();
        assertThat(h.runtime.execSync(ExecSyncRequest.newBuilder().setContainerId(ctr).addCmd("echo").addCmd("hi")
                .build()).getStdout().toStringUtf8()).isEqualTo("hi\n");
        assertThat(alpha.execSync(dev.berth.cri.v1alpha2.ExecSyncRequest.newBuilder().setContainerId(ctr)
                .addCmd("exit").addCmd("3").build()).getExitCode()).isEqualTo(3);
        assertThat(h.runtime.exec(ExecRequest.newBuilder().setContainerId(ctr).addCmd("sh").setStdout(true).build())
                .getUrl()).startsWith("http");
        assertThat(alpha.attach(dev.berth.cri.v1alpha2.AttachRequest.newBuilder().setContainerId(ctr)
                .setStdout(true).build()).getUrl()).startsWith("http");
        assertThat(RAN).containsExactly("execSync [echo, hi]", "execSync [exit, 3]");
    }

    private ContainerState statusOf(String ctr) {
        return h.runtime.containerStatus(ContainerStatusRequest.newBuilder().setContainerId(ctr).build()).getStatus()
                .getState();
    }

    @Test
    void aStateKeptInMemoryOtherThanRunningIsWhatContainerStatusSaysAndTheBackendIsNotAsked() {
        String created = createdContainer("kept-created", "e");
        assertThat(statusOf(created)).isEqualTo(ContainerState.CONTAINER_CREATED);
        String exited = createdContainer("kept-exited", "e");
        h.runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(exited).build());
        h.runtime.stopContainer(StopContainerRequest.newBuilder().setContainerId(exited).setTimeout(1).build());
        assertThat(statusOf(exited)).isEqualTo(ContainerState.CONTAINER_EXITED);
        int calls = STATUS_CALLS.get();
        assertAllRefused(created, "CONTAINER_CREATED");
        assertAllRefused(exited, "CONTAINER_EXITED");
        assertThat(STATUS_CALLS.get()).as("refused from the kept states").isEqualTo(calls);
    }

    @Test
    void inTheExitWindowTheBackendsExitIsTheAnswerAndContainerStatusCatchesUpWithTheEvent() {
        String ctr = createdContainer("window", "e");
        h.runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(ctr).build());
        assertThat(statusOf(ctr)).isEqualTo(ContainerState.CONTAINER_RUNNING);
        assertThat(h.runtime.execSync(ExecSyncRequest.newBuilder().setContainerId(ctr).addCmd("echo").addCmd("up")
                .build()).getStdout().toStringUtf8()).isEqualTo("up\n");
        RAN.clear();

        EXITED_SILENTLY.add(ctr); // the process exited; its STOPPED event has not come
        assertThat(statusOf(ctr)).as("ContainerStatus answers from memory until the event").isEqualTo(
                ContainerState.CONTAINER_RUNNING);
        assertAllRefused(ctr, "CONTAINER_EXITED");
        assertThat(statusOf(ctr)).as("the exec checks keep nothing: the exit shows with its event").isEqualTo(
                ContainerState.CONTAINER_RUNNING);

        sink.publish(new BackendEvent(BackendEvent.Type.STOPPED, ctr, "", null));
        assertThat(statusOf(ctr)).isEqualTo(ContainerState.CONTAINER_EXITED);
        int calls = STATUS_CALLS.get();
        assertAllRefused(ctr, "CONTAINER_EXITED");
        assertThat(STATUS_CALLS.get()).isEqualTo(calls);
    }

    @Test
    void anExecSyncOnAKeptRunningAsksTheBackendOnlyToRunIt() {
        String ctr = createdContainer("kept-running", "e");
        h.runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(ctr).build());
        assertThat(statusOf(ctr)).isEqualTo(ContainerState.CONTAINER_RUNNING);
        int calls = STATUS_CALLS.get();
        h.runtime.execSync(ExecSyncRequest.newBuilder().setContainerId(ctr).addCmd("echo").build());
        assertThat(STATUS_CALLS.get()).as("the backend's execSync is the running check").isEqualTo(calls);
        assertThat(RAN).containsExactly("execSync [echo]");
    }

    @Test
    void aBackendsOtherFailureOnARunningContainerReachesTheClientAsItIs() {
        String ctr = createdContainer("boom", "e");
        h.runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(ctr).build());
        assertThat(statusOf(ctr)).isEqualTo(ContainerState.CONTAINER_RUNNING); // the settle after Start has asked
        int calls = STATUS_CALLS.get();
        assertCode(() -> h.runtime.execSync(ExecSyncRequest.newBuilder().setContainerId(ctr).addCmd("boom").build()),
                Status.Code.INTERNAL, "the exec helper crashed");
        assertThat(STATUS_CALLS.get()).as("asked once, after the failure, to name a state").isEqualTo(calls + 1);
    }

    @Test
    void aTimedOutExecStaysATimeoutWhenTheStatusCannotBeRead() {
        String ctr = createdContainer("slow", "e");
        h.runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(ctr).build());
        assertThat(statusOf(ctr)).isEqualTo(ContainerState.CONTAINER_RUNNING);
        assertCode(() -> h.runtime.execSync(ExecSyncRequest.newBuilder().setContainerId(ctr).addCmd("slow")
                .setTimeout(1).build()), Status.Code.DEADLINE_EXCEEDED, "timed out after 1s");
    }
}
