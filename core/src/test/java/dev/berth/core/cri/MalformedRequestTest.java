package dev.berth.core.cri;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.Daemon;
import dev.berth.core.UnixSockets;
import dev.berth.core.config.ConfigLoader;
import dev.berth.core.environment.Node;
import dev.berth.core.plugin.PluginHost;
import dev.berth.cri.v1.ListContainersRequest;
import dev.berth.cri.v1.ListPodSandboxRequest;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.VersionRequest;
import dev.berth.spi.testing.FakeBackendFactory;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests that are not valid protobuf, sent as raw bytes to the real server on its unix socket, answer
 * INVALID_ARGUMENT naming the method, for every method of every service berth serves, and create nothing.
 */
class MalformedRequestTest {
    /** A varint that never ends within the message: not a protobuf message. */
    static final byte[] NOT_PROTOBUF = HexFormat.of().parseHex("ffffffff0f");
    /** Field 1, length 3, bytes that are not UTF-8: invalid where field 1 is a proto3 string. */
    static final byte[] BAD_UTF8 = HexFormat.of().parseHex("0a03fffefd");

    @TempDir
    Path dir;

    Daemon daemon;
    ManagedChannel channel;

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
    }

    @AfterEach
    void stop() {
        channel.shutdownNow();
        daemon.close();
    }

    @Test
    void everyMethodOfEveryServiceAnswersInvalidArgumentNamingTheMethod() {
        List<MethodDescriptor<?, ?>> methods = new ArrayList<>();
        for (ServiceDescriptor sd : List.of(dev.berth.cri.v1.RuntimeServiceGrpc.getServiceDescriptor(),
                dev.berth.cri.v1.ImageServiceGrpc.getServiceDescriptor(),
                dev.berth.cri.v1alpha2.RuntimeServiceGrpc.getServiceDescriptor(),
                dev.berth.cri.v1alpha2.ImageServiceGrpc.getServiceDescriptor())) {
            methods.addAll(sd.getMethods());
        }
        assertThat(methods).hasSizeGreaterThan(60);
        for (MethodDescriptor<?, ?> m : methods) {
            assertThatThrownBy(() -> call(m, NOT_PROTOBUF)).as(m.getFullMethodName())
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).as(m.getFullMethodName())
                                .isEqualTo(Status.Code.INVALID_ARGUMENT);
                        assertThat(e.getStatus().getDescription()).as(m.getFullMethodName())
                                .startsWith("malformed " + m.getFullMethodName() + " request: ");
                    });
        }
        var runtime = RuntimeServiceGrpc.newBlockingStub(channel);
        assertThat(runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()).isEmpty();
        assertThat(runtime.listContainers(ListContainersRequest.getDefaultInstance()).getContainersList()).isEmpty();
        assertThat(runtime.version(VersionRequest.getDefaultInstance()).getRuntimeName()).isEqualTo("berth");
    }

    @Test
    void invalidUtf8InAStringFieldIsNamed() {
        for (var m : List.of(dev.berth.cri.v1.RuntimeServiceGrpc.getVersionMethod(),
                dev.berth.cri.v1alpha2.RuntimeServiceGrpc.getVersionMethod(),
                dev.berth.cri.v1.RuntimeServiceGrpc.getRemovePodSandboxMethod(),
                dev.berth.cri.v1.RuntimeServiceGrpc.getStopContainerMethod())) {
            assertThatThrownBy(() -> call(m, BAD_UTF8)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                assertThat(e.getStatus().getDescription()).isEqualTo("malformed " + m.getFullMethodName()
                        + " request: Protocol message had invalid UTF-8.");
            });
        }
    }

    @Test
    void aValidRequestStillPassesThrough() {
        byte[] reply = call(dev.berth.cri.v1.RuntimeServiceGrpc.getVersionMethod(),
                VersionRequest.newBuilder().setVersion("v1").build().toByteArray());
        assertThat(new String(reply, java.nio.charset.StandardCharsets.ISO_8859_1)).contains("berth");
    }

    /** Sends {@code body} as the request of {@code m} and returns the (first) response's bytes. */
    private byte[] call(MethodDescriptor<?, ?> m, byte[] body) {
        MethodDescriptor<byte[], byte[]> raw = MethodDescriptor.<byte[], byte[]>newBuilder(RAW, RAW)
                .setType(m.getType()).setFullMethodName(m.getFullMethodName()).build();
        CallOptions options = CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS);
        if (m.getType() == MethodDescriptor.MethodType.UNARY) {
            return ClientCalls.blockingUnaryCall(channel, raw, options, body);
        }
        var it = ClientCalls.blockingServerStreamingCall(channel, raw, options, body);
        return it.hasNext() ? it.next() : new byte[0];
    }

    static final MethodDescriptor.Marshaller<byte[]> RAW = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };
}
