package dev.berth.core.cri;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.Daemon;
import dev.berth.core.UnixSockets;
import dev.berth.core.config.ConfigException;
import dev.berth.core.config.ConfigLoader;
import dev.berth.core.environment.Node;
import dev.berth.core.plugin.PluginHost;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.seeds.containerd003.APIGrpc;
import dev.berth.seeds.containerd003.AddProcessRequest;
import dev.berth.seeds.containerd003.CreateCheckpointRequest;
import dev.berth.seeds.containerd003.CreateContainerRequest;
import dev.berth.seeds.containerd003.SignalRequest;
import dev.berth.seeds.containerd003.StateRequest;
import dev.berth.seeds.containerd003.StatsRequest;
import dev.berth.seeds.containerd003.UpdateContainerRequest;
import dev.berth.spi.testing.FakeBackendFactory;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * The containerd 0.2 API's edge, on its own unix socket, with a client generated from the seed document and a
 * handler (the fake backend) that cannot run bundles: named statuses for bad input and for the missing capability,
 * malformed requests refused by name on every method, and no sharing with CRI.
 */
class ContainerdApiTest {
    @TempDir
    Path dir;

    Daemon daemon;
    ManagedChannel cri;
    ManagedChannel channel;

    private APIGrpc.APIBlockingStub start(String legacy) throws Exception {
        Path file = dir.resolve("config.toml");
        Files.writeString(file, "state = \"" + dir.resolve("state") + "\"\nroot = \"" + dir.resolve("root") + "\"\n"
                + CriTestHarness.CONFIG + legacy);
        daemon = Daemon.create(ConfigLoader.load(file, true), PluginHost.of(List.of(new FakeBackendFactory())),
                Node.none());
        daemon.serveUnix(dir.resolve("berth.sock"));
        daemon.serveLegacy();
        cri = UnixSockets.channel(dir.resolve("berth.sock"));
        channel = UnixSockets.channel(dir.resolve("containerd.sock"));
        return APIGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() {
        if (channel != null) {
            channel.shutdownNow();
            cri.shutdownNow();
        }
        if (daemon != null) {
            daemon.close();
        }
    }

    private APIGrpc.APIBlockingStub api() throws Exception {
        return start("[legacy]\ncontainerd_api_socket = \"" + dir.resolve("containerd.sock") + "\"\n");
    }

    @Test
    void aHandlerThatCannotRunBundlesIsNamed() throws Exception {
        var api = api();
        assertCode(() -> api.createContainer(CreateContainerRequest.newBuilder().setId("box")
                .setBundlePath("/srv/bundle").build()), Status.Code.UNIMPLEMENTED,
                "runtime handler \"fake\" (type fake, plugin builtin) does not support running OCI bundles");
        assertThat(api.state(StateRequest.getDefaultInstance()).getContainersList()).isEmpty();
        assertThat(daemon.containerd().records().all()).as("a failed create leaves no record").isEmpty();
    }

    @Test
    void anotherHandlerCanBeConfigured() throws Exception {
        var api = start("[legacy]\ncontainerd_api_socket = \"" + dir.resolve("containerd.sock")
                + "\"\ncontainerd_api_handler = \"nope\"\n");
        assertCode(() -> api.createContainer(CreateContainerRequest.newBuilder().setId("box")
                .setBundlePath("/srv/bundle").build()), Status.Code.INVALID_ARGUMENT, "unknown runtime handler \"nope\"");
    }

    @Test
    void badInputGetsTheNamedStatusesOfRuntimeV1() throws Exception {
        var api = api();
        assertCode(() -> api.createContainer(CreateContainerRequest.newBuilder().setBundlePath("/b").build()),
                Status.Code.INVALID_ARGUMENT, "id must not be empty");
        assertCode(() -> api.createContainer(CreateContainerRequest.newBuilder().setId("../x").setBundlePath("/b")
                .build()), Status.Code.INVALID_ARGUMENT, "id");
        assertCode(() -> api.createContainer(CreateContainerRequest.newBuilder().setId("x").build()),
                Status.Code.INVALID_ARGUMENT, "bundlePath must not be empty");
        assertCode(() -> api.createContainer(CreateContainerRequest.newBuilder().setId("x").setBundlePath("b")
                .build()), Status.Code.INVALID_ARGUMENT, "bundlePath must be an absolute path");
        assertCode(() -> api.createContainer(CreateContainerRequest.newBuilder().setId("x").setBundlePath("/b")
                .setStdout("out.log").build()), Status.Code.INVALID_ARGUMENT, "stdout must be an absolute path");
        assertCode(() -> api.createContainer(CreateContainerRequest.newBuilder().setId("x\0y").setBundlePath("/b")
                .build()), Status.Code.INVALID_ARGUMENT, "NUL");
        assertCode(() -> api.signal(SignalRequest.newBuilder().setId("nope").setSignal(9).build()),
                Status.Code.NOT_FOUND, "nope");
        assertCode(() -> api.addProcess(AddProcessRequest.newBuilder().setId("nope").addArgs("true").build()),
                Status.Code.NOT_FOUND, "nope");
        assertCode(() -> api.updateContainer(UpdateContainerRequest.newBuilder().setId("").build()),
                Status.Code.INVALID_ARGUMENT, "id must not be empty");
        assertCode(() -> api.createCheckpoint(CreateCheckpointRequest.newBuilder().setId("nope").build()),
                Status.Code.NOT_FOUND, "nope");
        assertCode(() -> api.getStats(StatsRequest.newBuilder().setId("nope").build()).next(),
                Status.Code.NOT_FOUND, "nope");
    }

    @Test
    void malformedRequestsOnEveryMethodAreNamed() throws Exception {
        api();
        var methods = APIGrpc.getServiceDescriptor().getMethods();
        assertThat(methods).hasSize(10);
        for (MethodDescriptor<?, ?> m : methods) {
            assertThatThrownBy(() -> raw(m, MalformedRequestTest.NOT_PROTOBUF)).as(m.getFullMethodName())
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                        assertThat(e.getStatus().getDescription())
                                .startsWith("malformed " + m.getFullMethodName() + " request: ");
                    });
        }
        assertThatThrownBy(() -> raw(APIGrpc.getSignalMethod(), MalformedRequestTest.BAD_UTF8))
                .hasMessageEndingWith("malformed types.API/Signal request: Protocol message had invalid UTF-8.");
    }

    @Test
    void criAndTheContainerdApiShareNothing() throws Exception {
        var api = api();
        String pod = dev.berth.cri.v1.RuntimeServiceGrpc.newBlockingStub(cri).runPodSandbox(RunPodSandboxRequest
                .newBuilder().setConfig(CriTestHarness.pod("web")).build()).getPodSandboxId();
        var state = api.state(StateRequest.getDefaultInstance());
        assertThat(state.getContainersList()).isEmpty();
        assertThat(state.getMachine().getCpus()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(state.getMachine().getMemory()).isPositive();
        assertCode(() -> api.createContainer(CreateContainerRequest.newBuilder().setId(pod).setBundlePath("/b")
                .build()), Status.Code.ALREADY_EXISTS, "CRI pod or container");
    }

    @Test
    void withoutASocketItIsNotServed() throws Exception {
        start("");
        assertThat(daemon.containerd()).isNull();
        assertThat(Files.exists(dir.resolve("containerd.sock"))).isFalse();
    }

    @Test
    void theSocketMustBeAnAbsolutePath() throws Exception {
        Path file = dir.resolve("bad.toml");
        Files.writeString(file, "[legacy]\ncontainerd_api_socket = \"containerd.sock\"\n");
        assertThatThrownBy(() -> ConfigLoader.load(file, true)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("legacy.containerd_api_socket");
        Files.writeString(file, "[legacy]\nsocket = \"/x.sock\"\n");
        assertThatThrownBy(() -> ConfigLoader.load(file, true)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("legacy.socket");
    }

    private byte[] raw(MethodDescriptor<?, ?> m, byte[] body) {
        MethodDescriptor<byte[], byte[]> raw = MethodDescriptor.<byte[], byte[]>newBuilder(MalformedRequestTest.RAW,
                MalformedRequestTest.RAW).setType(m.getType()).setFullMethodName(m.getFullMethodName()).build();
        CallOptions options = CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS);
        if (m.getType() == MethodDescriptor.MethodType.UNARY) {
            return ClientCalls.blockingUnaryCall(channel, raw, options, body);
        }
        var it = ClientCalls.blockingServerStreamingCall(channel, raw, options, body);
        return it.hasNext() ? it.next() : new byte[0];
    }

    private static void assertCode(Executable call, Status.Code code, String message) {
        assertThatThrownBy(call::execute).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(message);
        });
    }
}
