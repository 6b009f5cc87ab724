package dev.berth.core.cri;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.cri.v1.UpdateRuntimeConfigRequest;
import dev.berth.cri.v1.RuntimeConfig;
import dev.berth.cri.v1.NetworkConfig;
import java.nio.file.Files;
import java.util.Map;
import dev.berth.cri.v1.ContainerEventResponse;
import dev.berth.cri.v1.ContainerEventType;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.ContainerFilter;
import dev.berth.cri.v1.ContainerState;
import dev.berth.cri.v1.ContainerStateValue;
import dev.berth.cri.v1.ContainerStatusRequest;
import dev.berth.cri.v1.CreateContainerRequest;
import dev.berth.cri.v1.ExecSyncRequest;
import dev.berth.cri.v1.GetEventsRequest;
import dev.berth.cri.v1.HugepageLimit;
import dev.berth.cri.v1.LinuxContainerConfig;
import dev.berth.cri.v1.LinuxContainerResources;
import dev.berth.cri.v1.ListContainersRequest;
import dev.berth.cri.v1.ListPodSandboxRequest;
import dev.berth.cri.v1.PodSandboxFilter;
import dev.berth.cri.v1.PodSandboxState;
import dev.berth.cri.v1.PodSandboxStateValue;
import dev.berth.cri.v1.PodSandboxStatusRequest;
import dev.berth.cri.v1.RemoveContainerRequest;
import dev.berth.cri.v1.RemovePodSandboxRequest;
import dev.berth.cri.v1.ReopenContainerLogRequest;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.cri.v1.RuntimeConfigRequest;
import dev.berth.cri.v1.StartContainerRequest;
import dev.berth.cri.v1.StatusRequest;
import dev.berth.cri.v1.StopContainerRequest;
import dev.berth.cri.v1.StopPodSandboxRequest;
import dev.berth.cri.v1.UpdateContainerResourcesRequest;
import dev.berth.cri.v1.VersionRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CRI edge end to end, in-process, over fake backends. */
class CriServiceTest {
    @TempDir
    Path dir;

    CriTestHarness h;

    @BeforeEach
    void start() throws Exception {
        h = new CriTestHarness(dir);
    }

    @AfterEach
    void stop() {
        h.close();
    }

    @Test
    void versionNamesBerthAndV1() {
        var v = h.runtime.version(VersionRequest.getDefaultInstance());
        assertThat(v.getRuntimeName()).isEqualTo("berth");
        assertThat(v.getRuntimeApiVersion()).isEqualTo("v1");
    }

    @Test
    void execSyncAnswerFitsTheKubeletsMessageLimit() {
        // The kubelet takes messages of up to 16 MiB; a backend keeps up to 16 MiB of output, and the answer's own
        // fields come on top. Unfitted, this answer would be 20 MiB and the probe would fail on the transport.
        var started = h.startedContainer("spew", "app");
        int limit = 16 << 20;
        var big = h.runtime.execSync(ExecSyncRequest.newBuilder().setContainerId(started.container())
                .addCmd("spew").addCmd(String.valueOf(20 << 20)).addCmd("100").build());
        assertThat(big.getSerializedSize()).isLessThanOrEqualTo(limit).isGreaterThan(limit - 64);
        assertThat(big.getExitCode()).isEqualTo(3);
        assertThat(big.getStderr().toStringUtf8()).isEqualTo("e".repeat(100));
        assertThat(big.getStdout().byteAt(0)).isEqualTo((byte) 'o');

        var small = h.runtime.execSync(ExecSyncRequest.newBuilder().setContainerId(started.container())
                .addCmd("spew").addCmd("5").addCmd("2").build());
        assertThat(small.getStdout().toStringUtf8()).isEqualTo("ooooo");
        assertThat(small.getStderr().toStringUtf8()).isEqualTo("ee");
    }

    @Test
    void podAndContainerLifecycle() {
        String pod = h.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder()
                .setConfig(CriTestHarness.pod("web")).build()).getPodSandboxId();
        assertThat(pod).hasSize(64);
        var status = h.runtime.podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(pod)
                .setVerbose(true).build());
        assertThat(status.getStatus().getState()).isEqualTo(PodSandboxState.SANDBOX_READY);
        assertThat(status.getStatus().getRuntimeHandler()).isEqualTo("fake");
        assertThat(status.getInfoMap().get("info")).contains("\"pluginId\":\"builtin\"")
                .contains("\"handler\":\"fake\"").as("the pod's request, as crictl inspectp shows it")
                .contains("\"config\":{\"metadata\":{\"name\":\"web\"")
                .contains("\"log_directory\":\"/var/log/pods/web\"");

        String ctr = h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                .setConfig(CriTestHarness.container("app")).setSandboxConfig(CriTestHarness.pod("web")).build())
                .getContainerId();
        var cs = h.runtime.containerStatus(ContainerStatusRequest.newBuilder().setContainerId(ctr).build());
        assertThat(cs.getStatus().getState()).isEqualTo(ContainerState.CONTAINER_CREATED);
        assertThat(cs.getStatus().getLogPath()).isEqualTo("/var/log/pods/web/app.log");
        assertThat(h.runtime.containerStatus(ContainerStatusRequest.newBuilder().setContainerId(ctr).setVerbose(true)
                .build()).getInfoMap().get("info")).as("the container's request, as crictl inspect shows it")
                .contains("\"config\":{\"metadata\":{\"name\":\"app\"").contains("\"log_path\":\"app.log\"")
                .contains("\"command\":[\"sleep\"]");

        h.runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(ctr).build());
        var exec = h.runtime.execSync(ExecSyncRequest.newBuilder().setContainerId(ctr).addCmd("echo")
                .addCmd("hi").setTimeout(5).build());
        assertThat(exec.getStdout().toStringUtf8()).isEqualTo("hi\n");
        assertThat(h.runtime.execSync(ExecSyncRequest.newBuilder().setContainerId(ctr).addCmd("exit")
                .addCmd("7").build()).getExitCode()).isEqualTo(7);

        // Routing by a unique id prefix, as crictl allows.
        var byPrefix = h.runtime.containerStatus(ContainerStatusRequest.newBuilder()
                .setContainerId(ctr.substring(0, 12)).build());
        assertThat(byPrefix.getStatus().getState()).isEqualTo(ContainerState.CONTAINER_RUNNING);

        h.runtime.stopContainer(StopContainerRequest.newBuilder().setContainerId(ctr).setTimeout(1).build());
        h.runtime.stopContainer(StopContainerRequest.newBuilder().setContainerId(ctr).setTimeout(1).build());
        assertThat(h.runtime.containerStatus(ContainerStatusRequest.newBuilder().setContainerId(ctr).build())
                .getStatus().getState()).isEqualTo(ContainerState.CONTAINER_EXITED);
        h.runtime.removeContainer(RemoveContainerRequest.newBuilder().setContainerId(ctr).build());
        h.runtime.removeContainer(RemoveContainerRequest.newBuilder().setContainerId(ctr).build());

        h.runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        h.runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        assertThat(h.runtime.podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(pod).build())
                .getStatus().getState()).isEqualTo(PodSandboxState.SANDBOX_NOTREADY);
        h.runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        h.runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        assertThat(h.runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()).isEmpty();
        assertCode(() -> h.runtime.podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(pod).build()),
                Status.Code.NOT_FOUND, "pod sandbox \"" + pod + "\" not found");
    }

    @Test
    void runPodSandboxRoutesByHandlerAndLaterCallsById() {
        String a = run("a", "");
        String b = run("b", "other");
        var list = h.runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList();
        assertThat(list).extracting(p -> p.getId() + "=" + p.getRuntimeHandler())
                .containsExactlyInAnyOrder(a + "=fake", b + "=other");
        String ctr = h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(b)
                .setConfig(CriTestHarness.container("c")).build()).getContainerId();
        // The container lives in the "other" handler's backend: its state dir holds the record, "fake"'s does not.
        assertThat(dir.resolve("state/handlers/other/container-" + ctr)).exists();
        assertThat(dir.resolve("state/handlers/fake/container-" + ctr)).doesNotExist();
    }

    @Test
    void reloadAddsAndRemovesHandlersWhileExistingPodsKeepTheirBackend() throws Exception {
        String onOther = run("kept", "other");
        var oldBackend = h.daemon.cri().dispatcher().forSandbox(h.daemon.cri().sandbox(onOther)).backend();
        java.nio.file.Files.writeString(dir.resolve("config.toml"), "state = \"" + dir.resolve("state")
                + "\"\nroot = \"" + dir.resolve("root") + "\"\n" + """
                default_runtime = "fake"
                [runtimes.fake]
                type = "fake"
                [runtimes.added]
                type = "fake"
                """);
        h.daemon.reload(dev.berth.core.config.ConfigLoader.load(dir.resolve("config.toml"), true));

        assertCode(() -> run("new", "other"), Status.Code.INVALID_ARGUMENT, "configured handlers: added, fake");
        String onAdded = run("fresh", "added");
        assertThat(h.runtime.podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(onAdded).build())
                .getStatus().getRuntimeHandler()).isEqualTo("added");
        // The pod created on the removed handler still routes to the very backend that created it.
        assertThat(h.daemon.cri().dispatcher().forSandbox(h.daemon.cri().sandbox(onOther)).backend())
                .isSameAs(oldBackend);
        String ctr = h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(onOther)
                .setConfig(CriTestHarness.container("still")).build()).getContainerId();
        h.runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(ctr).build());
        assertThat(dir.resolve("state/handlers/other/container-" + ctr)).exists();
        h.runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(onOther).build());
        assertThat(h.runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList())
                .extracting(p -> p.getId()).containsExactly(onAdded);
    }

    @Test
    void unknownHandlerIsInvalidArgumentListingTheConfiguredOnes() {
        assertCode(() -> h.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder()
                        .setConfig(CriTestHarness.pod("x")).setRuntimeHandler("kata-qemu").build()),
                Status.Code.INVALID_ARGUMENT, "unknown runtime handler \"kata-qemu\"; configured handlers: broken, "
                        + "fake, other (default: fake)");
    }

    @Test
    void failedCreateRollsBackAndFreesTheName() {
        assertCode(() -> run("doomed", "broken"), Status.Code.UNAVAILABLE, "fake failure requested by fail_create");
        assertThat(h.runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()).isEmpty();
        assertThat(dir.resolve("state/records/sandboxes")).isEmptyDirectory();
        run("doomed", "fake");
    }

    @Test
    void duplicateNameIsAlreadyExists() {
        run("twin", "");
        assertCode(() -> run("twin", ""), Status.Code.ALREADY_EXISTS, "is already used");
    }

    @Test
    void listFiltersByIdStateLabelsAndPod() {
        String a = run("a", "");
        String b = run("b", "");
        h.runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(b).build());
        assertThat(h.runtime.listPodSandbox(ListPodSandboxRequest.newBuilder().setFilter(PodSandboxFilter.newBuilder()
                .setState(PodSandboxStateValue.newBuilder().setState(PodSandboxState.SANDBOX_READY))).build())
                .getItemsList()).extracting(p -> p.getId()).containsExactly(a);
        assertThat(h.runtime.listPodSandbox(ListPodSandboxRequest.newBuilder().setFilter(PodSandboxFilter.newBuilder()
                .putLabelSelector("app", "b")).build()).getItemsList()).extracting(p -> p.getId()).containsExactly(b);
        assertThat(h.runtime.listPodSandbox(ListPodSandboxRequest.newBuilder().setFilter(PodSandboxFilter.newBuilder()
                .setId(a.substring(0, 10))).build()).getItemsList()).extracting(p -> p.getId()).containsExactly(a);

        String c1 = h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(a)
                .setConfig(CriTestHarness.container("one")).build()).getContainerId();
        String c2 = h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(a)
                .setConfig(CriTestHarness.container("two")).build()).getContainerId();
        h.runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(c2).build());
        assertThat(h.runtime.listContainers(ListContainersRequest.newBuilder().setFilter(ContainerFilter.newBuilder()
                .setState(ContainerStateValue.newBuilder().setState(ContainerState.CONTAINER_RUNNING))).build())
                .getContainersList()).extracting(c -> c.getId()).containsExactly(c2);
        assertThat(h.runtime.listContainers(ListContainersRequest.newBuilder().setFilter(ContainerFilter.newBuilder()
                .putLabelSelector("tier", "one").setPodSandboxId(a)).build())
                .getContainersList()).extracting(c -> c.getId()).containsExactly(c1);
    }

    @Test
    void statusListsEveryHandlerPlusTheDefaultEntry() {
        var s = h.runtime.status(StatusRequest.getDefaultInstance());
        assertThat(s.getRuntimeHandlersList()).extracting(r -> r.getName())
                .containsExactly("", "broken", "fake", "other");
        assertThat(s.getRuntimeHandlers(0).getFeatures().getRecursiveReadOnlyMounts()).isTrue();
        assertThat(s.getStatus().getConditionsList()).extracting(c -> c.getType() + "=" + c.getStatus())
                .containsExactly("RuntimeReady=true", "NetworkReady=true");
        assertThat(h.runtime.runtimeConfig(RuntimeConfigRequest.getDefaultInstance()).getLinux().getCgroupDriver())
                .isEqualTo(dev.berth.cri.v1.CgroupDriver.CGROUPFS);
    }

    @Test
    void verboseStatusCarriesTheEffectiveConfigWithEachHandlersHealth() throws Exception {
        Files.writeString(dir.resolve("sick"), "");
        Files.createDirectories(dir.resolve("verbose"));
        try (var sick = new CriTestHarness(dir.resolve("verbose"), CriTestHarness.CONFIG + """
                [runtimes.sick]
                type = "fake"
                [runtimes.sick.options]
                unhealthy_while = "%s"
                """.formatted(dir.resolve("sick")))) {
            sick.runtime.updateRuntimeConfig(UpdateRuntimeConfigRequest.newBuilder().setRuntimeConfig(
                    RuntimeConfig.newBuilder().setNetworkConfig(NetworkConfig.newBuilder().setPodCidr("10.88.0.0/16")))
                    .build());
            assertThat(sick.runtime.status(StatusRequest.getDefaultInstance()).getInfoMap()).isEmpty();
            var info = sick.runtime.status(StatusRequest.newBuilder().setVerbose(true).build()).getInfoMap();
            JsonNode config = new ObjectMapper().readTree(info.get("config"));
            assertThat(config.path("default_runtime").asText()).isEqualTo("fake");
            assertThat(config.path("pod_cidr").asText()).isEqualTo("10.88.0.0/16");
            assertThat(config.path("state").asText()).isEqualTo(dir.resolve("verbose").resolve("state").toString());
            assertThat(config.path("images").path("sandbox_image").asText()).isNotEmpty();
            JsonNode runtimes = config.path("runtimes");
            assertThat(runtimes.properties()).extracting(Map.Entry::getKey)
                    .containsExactly("broken", "fake", "other", "sick");
            assertThat(runtimes.path("fake").path("type").asText()).isEqualTo("fake");
            assertThat(runtimes.path("fake").path("ready").asBoolean()).isTrue();
            assertThat(runtimes.path("fake").has("not_ready")).isFalse();
            assertThat(runtimes.path("broken").path("options").path("fail_create").asBoolean()).isTrue();
            assertThat(runtimes.path("sick").path("ready").asBoolean()).isFalse();
            assertThat(runtimes.path("sick").path("not_ready").asText()).isNotEmpty();
            assertThat(runtimes.path("sick").path("generation").asInt()).isZero();
        }
    }

    @Test
    void badInputGetsAClearStatus() {
        assertCode(() -> h.runtime.podSandboxStatus(PodSandboxStatusRequest.getDefaultInstance()),
                Status.Code.INVALID_ARGUMENT, "pod sandbox id must not be empty");
        assertCode(() -> h.runtime.runPodSandbox(RunPodSandboxRequest.getDefaultInstance()),
                Status.Code.INVALID_ARGUMENT, "pod sandbox config with metadata is required");
        assertCode(() -> h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId("nope")
                .setConfig(CriTestHarness.container("c")).build()), Status.Code.NOT_FOUND, "pod sandbox \"nope\"");
        var huge = CriTestHarness.pod("huge").toBuilder().putLabels("big", "x".repeat(10 * 1024 * 1024)).build();
        assertCode(() -> h.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(huge).build()),
                Status.Code.INVALID_ARGUMENT, "the limit is 262144");
        String pod = run("p", "");
        String ctr = h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                .setConfig(CriTestHarness.container("c")).build()).getContainerId();
        assertCode(() -> h.runtime.execSync(ExecSyncRequest.newBuilder().setContainerId(ctr).build()),
                Status.Code.INVALID_ARGUMENT, "cmd must not be empty");
        h.runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(ctr).build());
        assertCode(() -> h.runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(ctr).build()),
                Status.Code.FAILED_PRECONDITION, "not CREATED");
        // A capability the fake backend lacks is UNIMPLEMENTED, naming handler and capability.
        assertCode(() -> h.runtime.reopenContainerLog(ReopenContainerLogRequest.newBuilder().setContainerId(ctr)
                .build()), Status.Code.UNIMPLEMENTED, "runtime handler \"fake\" (type fake, plugin builtin) does not "
                + "support reopening container logs");
        // An RPC berth has no class for yet is UNIMPLEMENTED with its name.
        assertCode(() -> h.runtime.streamPodSandboxes(dev.berth.cri.v1.StreamPodSandboxesRequest.getDefaultInstance())
                .hasNext(), Status.Code.UNIMPLEMENTED, "runtime.v1.RuntimeService/StreamPodSandboxes");
    }

    private String run(String name, String handler) {
        return h.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(CriTestHarness.pod(name))
                .setRuntimeHandler(handler).build()).getPodSandboxId();
    }

    static void assertCode(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, Status.Code code,
                           String message) {
        assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(message);
        });
    }

    /** ContainerStatus reports the resources in force after an update, also after a restart of berth. */
    @Test
    void statusReportsTheResourcesAnUpdateSet() throws Exception {
        String pod = h.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder()
                .setConfig(CriTestHarness.pod("resize")).build()).getPodSandboxId();
        var created = CriTestHarness.container("app").toBuilder().setLinux(LinuxContainerConfig.newBuilder()
                .setResources(LinuxContainerResources.newBuilder().setMemoryLimitInBytes(100 << 20).setCpuShares(512)
                        .addHugepageLimits(HugepageLimit.newBuilder().setPageSize("2MB").setLimit(0)))).build();
        String ctr = h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                .setConfig(created).setSandboxConfig(CriTestHarness.pod("resize")).build()).getContainerId();
        h.runtime.updateContainerResources(UpdateContainerResourcesRequest.newBuilder().setContainerId(ctr)
                .setLinux(LinuxContainerResources.newBuilder().setMemoryLimitInBytes(200 << 20)
                        .addHugepageLimits(HugepageLimit.newBuilder().setPageSize("2MB").setLimit(2 << 20))).build());
        var resources = h.runtime.containerStatus(ContainerStatusRequest.newBuilder().setContainerId(ctr).build())
                .getStatus().getResources().getLinux();
        assertThat(resources.getMemoryLimitInBytes()).isEqualTo(200 << 20);
        assertThat(resources.getCpuShares()).as("left out of the update").isEqualTo(512);
        assertThat(resources.getHugepageLimitsList()).extracting(HugepageLimit::getLimit).containsExactly(2L << 20);

        h.close();
        h = new CriTestHarness(dir);
        assertThat(h.runtime.containerStatus(ContainerStatusRequest.newBuilder().setContainerId(ctr).build())
                .getStatus().getResources().getLinux().getMemoryLimitInBytes()).as("after a restart")
                .isEqualTo(200 << 20);
    }

    /** A handler whose backend says it cannot run is refused before anything is set up, and asked again next time. */
    @Test
    void anUnhealthyHandlerIsRefusedWithItsReasonsUntilItRecovers() throws Exception {
        h.close();
        Path flag = java.nio.file.Files.writeString(dir.resolve("sick"), "");
        h = new CriTestHarness(dir, CriTestHarness.CONFIG + "[runtimes.sick]\ntype = \"fake\"\n"
                + "[runtimes.sick.options]\nunhealthy_while = \"" + flag + "\"\n");
        assertCode(() -> run("refused", "sick"), Status.Code.UNAVAILABLE,
                "handler \"sick\" (fake) cannot run pods: fake readiness (unhealthy while sick exists)");
        assertThat(h.runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()).isEmpty();
        assertThat(dir.resolve("state/handlers/sick")).as("the backend was never asked to create")
                .satisfiesAnyOf(d -> assertThat(d).doesNotExist(), d -> assertThat(d).isEmptyDirectory());
        // The name was released: once the handler recovers, the same pod runs (its health is checked again).
        java.nio.file.Files.delete(flag);
        String pod = run("refused", "sick");
        assertThat(h.runtime.podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(pod).build())
                .getStatus().getRuntimeHandler()).isEqualTo("sick");
    }

    /** Each lifecycle step reaches GetContainerEvents once: core's for the calls, the backend's for the exit. */
    @Test
    void everyContainerEventArrivesOnce() throws InterruptedException {
        String pod = h.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder()
                .setConfig(CriTestHarness.pod("events")).build()).getPodSandboxId();
        var events = new java.util.concurrent.LinkedBlockingQueue<ContainerEventResponse>();
        var call = io.grpc.Context.current().withCancellation();
        call.run(() -> RuntimeServiceGrpc.newStub(h.channel).getContainerEvents(GetEventsRequest.getDefaultInstance(),
                new io.grpc.stub.StreamObserver<>() {
                    @Override public void onNext(ContainerEventResponse e) { events.add(e); }
                    @Override public void onError(Throwable t) { }
                    @Override public void onCompleted() { }
                }));
        try {
            // The server registers a subscription asynchronously: primer containers are created until one's event
            // arrives, which shows the subscription is in place before the container under test exists.
            boolean subscribed = false;
            for (int i = 0; i < 50 && !subscribed; i++) {
                String primer = createContainer(pod, "primer-" + i);
                ContainerEventResponse e;
                while (!subscribed && (e = events.poll(200, java.util.concurrent.TimeUnit.MILLISECONDS)) != null) {
                    subscribed = e.getContainerId().equals(primer);
                }
            }
            assertThat(subscribed).as("the event subscription became active").isTrue();
            String ctr = createContainer(pod, "app");
            h.runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(ctr).build());
            h.runtime.stopContainer(StopContainerRequest.newBuilder().setContainerId(ctr).setTimeout(1).build());
            h.runtime.stopContainer(StopContainerRequest.newBuilder().setContainerId(ctr).setTimeout(1).build());
            h.runtime.removeContainer(RemoveContainerRequest.newBuilder().setContainerId(ctr).build());
            // A second container's creation marks the end of the first one's events.
            String marker = createContainer(pod, "marker");
            var seen = new java.util.ArrayList<ContainerEventType>();
            while (true) {
                var e = events.poll(30, java.util.concurrent.TimeUnit.SECONDS);
                assertThat(e).as("an event before the marker's").isNotNull();
                if (e.getContainerId().equals(marker)) {
                    break;
                }
                if (e.getContainerId().equals(ctr)) {
                    seen.add(e.getContainerEventType());
                }
            }
            assertThat(seen).containsExactly(ContainerEventType.CONTAINER_CREATED_EVENT,
                    ContainerEventType.CONTAINER_STARTED_EVENT, ContainerEventType.CONTAINER_STOPPED_EVENT,
                    ContainerEventType.CONTAINER_DELETED_EVENT);
        } finally {
            call.cancel(null);
        }
    }

    private String createContainer(String pod, String name) {
        return h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                .setConfig(CriTestHarness.container(name)).setSandboxConfig(CriTestHarness.pod("events")).build())
                .getContainerId();
    }
}
