package dev.berth.core.cri;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.Daemon;
import dev.berth.core.UnixSockets;
import dev.berth.core.config.ConfigLoader;
import dev.berth.core.environment.Node;
import dev.berth.core.plugin.PluginHost;
import dev.berth.seeds.runtime001.ContainerConfig;
import dev.berth.seeds.runtime001.ContainerFilter;
import dev.berth.seeds.runtime001.ContainerMetadata;
import dev.berth.seeds.runtime001.ContainerState;
import dev.berth.seeds.runtime001.ContainerStatusRequest;
import dev.berth.seeds.runtime001.CreateContainerRequest;
import dev.berth.seeds.runtime001.ExecSyncRequest;
import dev.berth.seeds.runtime001.ImageSpec;
import dev.berth.seeds.runtime001.ListContainersRequest;
import dev.berth.seeds.runtime001.ListPodSandboxRequest;
import dev.berth.seeds.runtime001.PodSandboxConfig;
import dev.berth.seeds.runtime001.PodSandboxFilter;
import dev.berth.seeds.runtime001.PodSandboxMetadata;
import dev.berth.seeds.runtime001.PodSandboxState;
import dev.berth.seeds.runtime001.PodSandboxStatusRequest;
import dev.berth.seeds.runtime001.RemoveContainerRequest;
import dev.berth.seeds.runtime001.RemovePodSandboxRequest;
import dev.berth.seeds.runtime001.RunPodSandboxRequest;
import dev.berth.seeds.runtime001.RuntimeServiceGrpc;
import dev.berth.seeds.runtime001.StartContainerRequest;
import dev.berth.seeds.runtime001.StatusRequest;
import dev.berth.seeds.runtime001.StopContainerRequest;
import dev.berth.seeds.runtime001.StopPodSandboxRequest;
import dev.berth.seeds.runtime001.VersionRequest;
import dev.berth.spi.testing.FakeBackendFactory;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Clients generated from the seed documents themselves (the proto2 CRI, seed 001, and the first CRI draft, seed
 * 002; copies under src/test/proto*) against berth's real server on its unix socket, over fake backends: the
 * lifecycle each contract drives, and bad input answered with the same named statuses as on runtime.v1.
 * plugins/runc's {@code SeedApiRuncTest} drives real containers the same way.
 */
class SeedApiTest {
    @TempDir
    Path dir;

    Daemon daemon;
    ManagedChannel channel;
    RuntimeServiceGrpc.RuntimeServiceBlockingStub rt;
    dev.berth.seeds.runtime002.RuntimeServiceGrpc.RuntimeServiceBlockingStub draft;

    @BeforeEach
    void start() throws Exception {
        Path file = dir.resolve("config.toml");
        Files.writeString(file, "state = \"" + dir.resolve("state") + "\"\nroot = \"" + dir.resolve("root") + "\"\n"
                + CriTestHarness.CONFIG);
        daemon = Daemon.create(ConfigLoader.load(file, true), PluginHost.of(List.of(new FakeBackendFactory())),
                Node.none());
        Path socket = dir.resolve("berth.sock");
        daemon.serveUnix(socket);
        channel = UnixSockets.channel(socket);
        rt = RuntimeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
        draft = dev.berth.seeds.runtime002.RuntimeServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() {
        channel.shutdownNow();
        daemon.close();
    }

    static PodSandboxConfig pod(String name) {
        return PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName(name).setNamespace("default")
                        .setUid("uid-" + name).setAttempt(0))
                .putLabels("app", name)
                .setLogDirectory("/var/log/pods/" + name)
                .build();
    }

    @Test
    void theProto2CriDrivesAPodAndAContainer() {
        var version = rt.version(VersionRequest.newBuilder().setVersion("0.1.0").build());
        assertThat(version.getVersion()).isEqualTo("0.1.0");
        assertThat(version.getRuntimeName()).isEqualTo("berth");
        assertThat(version.getRuntimeApiVersion()).isEqualTo("0.1.0");

        String pod = rt.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(pod("web")).build())
                .getPodSandboxId();
        assertThat(pod).hasSize(64);
        var ps = rt.podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(pod).build()).getStatus();
        assertThat(ps.getId()).isEqualTo(pod);
        assertThat(ps.getState()).isEqualTo(PodSandboxState.SANDBOX_READY);
        assertThat(ps.getMetadata().getName()).isEqualTo("web");
        assertThat(ps.getLabelsMap()).containsEntry("app", "web");
        assertThat(ps.getLinux().getNamespaces().getOptions().getHostPid()).isFalse();
        assertThat(ps.getUnknownFields().asMap()).as("only the contract's fields").isEmpty();

        String ctr = rt.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                .setConfig(ContainerConfig.newBuilder().setMetadata(ContainerMetadata.newBuilder().setName("app"))
                        .setImage(ImageSpec.newBuilder().setImage("busybox")).addCommand("sleep").addArgs("3600")
                        .setLogPath("app.log"))
                .setSandboxConfig(pod("web")).build()).getContainerId();
        rt.startContainer(StartContainerRequest.newBuilder().setContainerId(ctr).build());
        var cs = rt.containerStatus(ContainerStatusRequest.newBuilder().setContainerId(ctr).build()).getStatus();
        assertThat(cs.getState()).isEqualTo(ContainerState.CONTAINER_RUNNING);
        assertThat(cs.getMetadata().getName()).isEqualTo("app");
        assertThat(rt.listContainers(ListContainersRequest.newBuilder().setFilter(ContainerFilter.newBuilder()
                .setPodSandboxId(pod).setState(ContainerState.CONTAINER_RUNNING)).build()).getContainersList())
                .extracting(c -> c.getId()).containsExactly(ctr);
        assertThat(rt.listContainers(ListContainersRequest.newBuilder().setFilter(ContainerFilter.newBuilder()
                .setState(ContainerState.CONTAINER_EXITED)).build()).getContainersList()).isEmpty();

        var exec = rt.execSync(ExecSyncRequest.newBuilder().setContainerId(ctr).addCmd("echo").addCmd("hi")
                .setTimeout(10).build());
        assertThat(exec.getStdout().toStringUtf8()).isEqualTo("hi\n");
        assertThat(exec.getExitCode()).isZero();
        assertThat(rt.status(StatusRequest.getDefaultInstance()).getStatus().getConditionsList())
                .anySatisfy(c -> {
                    assertThat(c.getType()).isEqualTo("RuntimeReady");
                    assertThat(c.getStatus()).isTrue();
                });

        rt.stopContainer(StopContainerRequest.newBuilder().setContainerId(ctr).setTimeout(1).build());
        assertThat(rt.containerStatus(ContainerStatusRequest.newBuilder().setContainerId(ctr).build()).getStatus()
                .getState()).isEqualTo(ContainerState.CONTAINER_EXITED);
        rt.removeContainer(RemoveContainerRequest.newBuilder().setContainerId(ctr).build());
        rt.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        assertThat(rt.listPodSandbox(ListPodSandboxRequest.newBuilder().setFilter(PodSandboxFilter.newBuilder()
                .setState(PodSandboxState.SANDBOX_NOTREADY)).build()).getItemsList())
                .extracting(p -> p.getId()).containsExactly(pod);
        assertThat(rt.listPodSandbox(ListPodSandboxRequest.newBuilder().setFilter(PodSandboxFilter.newBuilder()
                .setState(PodSandboxState.SANDBOX_READY)).build()).getItemsList()).isEmpty();
        rt.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        assertThat(rt.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()).isEmpty();
    }

    @Test
    void theDraftCreatesAPodSandboxThroughToItsRemoval() {
        var created = draft.createPodSandbox(dev.berth.seeds.runtime002.CreatePodSandboxRequest.newBuilder()
                .setConfig(dev.berth.seeds.runtime002.PodSandboxConfig.newBuilder()
                        .setMetadata(dev.berth.seeds.runtime002.PodSandboxMetadata.newBuilder().setName("draft")
                                .setNamespace("default").setUid("uid-draft"))
                        .setHostname("draft").putLabels("app", "draft")
                        .setLinux(dev.berth.seeds.runtime002.LinuxPodSandboxConfig.newBuilder()
                                .setNamespaceOptions(dev.berth.seeds.runtime002.NamespaceOption.newBuilder()
                                        .setHostNetwork(true))))
                .build());
        String pod = created.getPodSandboxId();
        assertThat(pod).hasSize(64);
        var status = draft.podSandboxStatus(dev.berth.seeds.runtime002.PodSandboxStatusRequest.newBuilder()
                .setPodSandboxId(pod).build()).getStatus();
        assertThat(status.getState()).isEqualTo(dev.berth.seeds.runtime002.PodSandBoxState.READY);
        assertThat(status.getMetadata().getName()).isEqualTo("draft");
        assertThat(status.getLinux().getNamespaces().getOptions().getHostNetwork()).isTrue();
        assertThat(draft.listPodSandbox(dev.berth.seeds.runtime002.ListPodSandboxRequest.getDefaultInstance())
                .getItemsList()).extracting(p -> p.getId()).containsExactly(pod);
        draft.stopPodSandbox(dev.berth.seeds.runtime002.StopPodSandboxRequest.newBuilder().setPodSandboxId(pod)
                .build());
        assertThat(draft.podSandboxStatus(dev.berth.seeds.runtime002.PodSandboxStatusRequest.newBuilder()
                .setPodSandboxId(pod).build()).getStatus().getState())
                .isEqualTo(dev.berth.seeds.runtime002.PodSandBoxState.NOTREADY);
        draft.removePodSandbox(dev.berth.seeds.runtime002.RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod)
                .build());
        assertThat(draft.listPodSandbox(dev.berth.seeds.runtime002.ListPodSandboxRequest.getDefaultInstance())
                .getItemsList()).isEmpty();
        // A draft client's filter by id lands where the proto2 CRI has the state enum: refused by name.
        assertCode(() -> draft.listPodSandbox(dev.berth.seeds.runtime002.ListPodSandboxRequest.newBuilder()
                        .setFilter(dev.berth.seeds.runtime002.PodSandboxFilter.newBuilder().setId(pod)).build()),
                Status.Code.INVALID_ARGUMENT, "filter.state: a value the field cannot take (not a PodSandboxState)");
    }

    @Test
    void malformedRequestsOnEveryMethodAreNamed() {
        List<MethodDescriptor<?, ?>> methods = new ArrayList<>();
        for (ServiceDescriptor sd : List.of(RuntimeServiceGrpc.getServiceDescriptor(),
                dev.berth.seeds.runtime001.ImageServiceGrpc.getServiceDescriptor())) {
            methods.addAll(sd.getMethods());
        }
        methods.add(dev.berth.seeds.runtime002.RuntimeServiceGrpc.getCreatePodSandboxMethod());
        assertThat(methods).hasSize(23);
        for (MethodDescriptor<?, ?> m : methods) {
            var firstField = ((com.google.protobuf.Message) ((MethodDescriptor.PrototypeMarshaller<?>) m
                    .getRequestMarshaller()).getMessagePrototype()).getDescriptorForType().findFieldByNumber(1);
            boolean firstIsString = firstField != null
                    && firstField.getType() == com.google.protobuf.Descriptors.FieldDescriptor.Type.STRING;
            for (byte[] body : firstIsString ? List.of(MalformedRequestTest.NOT_PROTOBUF, MalformedRequestTest.BAD_UTF8)
                    : List.of(MalformedRequestTest.NOT_PROTOBUF)) {
                assertThatThrownBy(() -> raw(m, body)).as(m.getFullMethodName())
                        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                            assertThat(e.getStatus().getCode()).as(m.getFullMethodName())
                                    .isEqualTo(Status.Code.INVALID_ARGUMENT);
                            assertThat(e.getStatus().getDescription()).as(m.getFullMethodName())
                                    .startsWith("malformed " + m.getFullMethodName() + " request: ");
                        });
            }
        }
        assertThatThrownBy(() -> raw(RuntimeServiceGrpc.getVersionMethod(), MalformedRequestTest.BAD_UTF8))
                .hasMessageEndingWith("malformed runtime.RuntimeService/Version request: Protocol message had "
                        + "invalid UTF-8.");
        assertThat(rt.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()).isEmpty();
    }

    @Test
    void invalidFieldsGetTheSameNamedStatusesAsOnRuntimeV1() {
        assertCode(() -> rt.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(pod("a/b")).build()),
                Status.Code.INVALID_ARGUMENT, "pod sandbox metadata.name \"a/b\" is not valid");
        assertCode(() -> rt.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(pod("p").toBuilder()
                        .putLabels("Example.com/x", "v")).build()),
                Status.Code.INVALID_ARGUMENT, "pod sandbox labels key \"Example.com/x\" has an invalid prefix");
        assertCode(() -> rt.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(pod("p").toBuilder()
                        .setHostname("h\0")).build()),
                Status.Code.INVALID_ARGUMENT, "config.hostname must not contain a NUL byte");
        assertCode(() -> draft.createPodSandbox(dev.berth.seeds.runtime002.CreatePodSandboxRequest.newBuilder()
                        .setConfig(dev.berth.seeds.runtime002.PodSandboxConfig.newBuilder()
                                .setMetadata(dev.berth.seeds.runtime002.PodSandboxMetadata.newBuilder().setName("-x")
                                        .setNamespace("ns"))).build()),
                Status.Code.INVALID_ARGUMENT, "pod sandbox metadata.name \"-x\" is not valid");
        assertCode(() -> rt.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId("../../etc").build()),
                Status.Code.INVALID_ARGUMENT, "pod sandbox id \"../../etc\" is not valid");
        assertCode(() -> rt.podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId("nope").build()),
                Status.Code.NOT_FOUND, "pod sandbox \"nope\" not found");
        assertCode(() -> rt.containerStatus(ContainerStatusRequest.newBuilder().setContainerId("a b").build()),
                Status.Code.INVALID_ARGUMENT, "container id \"a b\" is not valid");
        String pod = rt.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(pod("ok")).build())
                .getPodSandboxId();
        assertCode(() -> rt.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                        .setConfig(ContainerConfig.newBuilder().setMetadata(ContainerMetadata.newBuilder()
                                .setName("c/../d")).setImage(ImageSpec.newBuilder().setImage("busybox"))).build()),
                Status.Code.INVALID_ARGUMENT, "container metadata.name \"c/../d\" is not valid");
        // A closed proto2 enum's value out of range: the proto2 parser keeps it aside; berth names the field.
        byte[] state9 = dev.berth.cri.v1.ListContainersRequest.newBuilder().setFilter(dev.berth.cri.v1
                .ContainerFilter.newBuilder().setId("x")).build().toByteArray();
        byte[] withBadState = concat(state9, new byte[] {0x0a, 0x02, 0x10, 0x09}); // filter { state: 9 }
        assertThatThrownBy(() -> raw(RuntimeServiceGrpc.getListContainersMethod(), withBadState))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription())
                            .isEqualTo("filter.state: a value the field cannot take (not a ContainerState)");
                });
        assertThat(rt.listContainers(ListContainersRequest.getDefaultInstance()).getContainersList()).isEmpty();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static void assertCode(Executable call, Status.Code code, String message) {
        assertThatThrownBy(call::execute).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).startsWith(message);
        });
    }

    private byte[] raw(MethodDescriptor<?, ?> m, byte[] body) {
        MethodDescriptor<byte[], byte[]> raw = MethodDescriptor.<byte[], byte[]>newBuilder(MalformedRequestTest.RAW,
                MalformedRequestTest.RAW).setType(m.getType()).setFullMethodName(m.getFullMethodName()).build();
        return ClientCalls.blockingUnaryCall(channel, raw, CallOptions.DEFAULT.withDeadlineAfter(10,
                TimeUnit.SECONDS), body);
    }
}
