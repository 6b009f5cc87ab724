package dev.berth.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.Daemon;
import dev.berth.core.UnixSockets;
import dev.berth.core.config.ConfigLoader;
import dev.berth.core.environment.Node;
import dev.berth.core.plugin.PluginHost;
import dev.berth.spi.testing.FakeBackendFactory;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fuzzer against a daemon with fake backends on a unix socket: it passes against berth's edge, and fails when
 * the edge answers UNKNOWN (as grpc-java did for requests that do not parse, before berth handled them).
 */
class CriFuzzTest {
    @TempDir
    Path dir;

    @Test
    void passesAgainstBerthsEdge() throws Exception {
        assertThat(fuzz(null)).isZero();
    }

    @Test
    void failsWhenTheEdgeAnswersUnknown() throws Exception {
        assertThat(fuzz(changingInvalidArgument(status ->
                Status.UNKNOWN.withDescription("Application error processing RPC")))).isEqualTo(1);
    }

    @Test
    void failsWhenADescriptionCarriesJavasInsides() throws Exception {
        assertThat(fuzz(changingInvalidArgument(status -> status.withDescription(
                "com.google.protobuf.InvalidProtocolBufferException: " + status.getDescription())))).isEqualTo(1);
    }

    /** An edge that answers {@code change(status)} wherever berth's answers INVALID_ARGUMENT. */
    private static ServerInterceptor changingInvalidArgument(UnaryOperator<Status> change) {
        return new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                               ServerCallHandler<Q, R> next) {
                return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                    @Override
                    public void close(Status status, Metadata trailers) {
                        super.close(status.getCode() == Status.Code.INVALID_ARGUMENT ? change.apply(status) : status,
                                trailers);
                    }
                }, headers);
            }
        };
    }

    @Test
    void tellsJavasInsidesFromARequestsOwnWords() {
        assertThat(CriFuzz.leaksInternals("java.lang.NullPointerException")).isTrue();
        assertThat(CriFuzz.leaksInternals("failed: io.grpc.StatusRuntimeException: x")).isTrue();
        assertThat(CriFuzz.leaksInternals("boom\n\tat dev.berth.core.Foo.bar(Foo.java:12)")).isTrue();
        assertThat(CriFuzz.leaksInternals("pod sandbox id \"java.lang\" is not a valid id")).isFalse();
        assertThat(CriFuzz.leaksInternals("container name \"Error\" is invalid")).isFalse();
        assertThat(CriFuzz.leaksInternals(null)).isFalse();
    }

    private int fuzz(ServerInterceptor interceptor) throws Exception {
        Path file = dir.resolve("config.toml");
        Files.writeString(file, "state = \"" + dir.resolve("state") + "\"\nroot = \"" + dir.resolve("root")
                + "\"\ndefault_runtime = \"fake\"\n[runtimes.fake]\ntype = \"fake\"\n[legacy]\ncontainerd_api_socket = \""
                + dir.resolve("containerd.sock") + "\"\n");
        Daemon daemon = Daemon.create(ConfigLoader.load(file, true), PluginHost.of(List.of(new FakeBackendFactory())),
                Node.none());
        Path socket = dir.resolve("berth.sock");
        UnixSockets.Server server = UnixSockets.server(socket);
        if (interceptor != null) {
            server.builder().intercept(interceptor);
        }
        daemon.serve(server.builder());
        // The containerd 0.2 API on its own socket: the fake backend cannot run bundles, so its creates answer
        // UNIMPLEMENTED, while every method's edge (parsing, checks, statuses) is fuzzed.
        Path legacySocket = dir.resolve("containerd.sock");
        UnixSockets.Server legacy = UnixSockets.server(legacySocket);
        if (interceptor != null) {
            legacy.builder().intercept(interceptor);
        }
        daemon.serveLegacy(legacy.builder());
        try {
            return CriFuzz.run("--socket", socket.toString(), "--seed", "42", "--calls", "600",
                    "--scratch", dir.resolve("scratch").toString(), "--containerd-socket", legacySocket.toString());
        } finally {
            daemon.close();
            server.eventLoops().close();
            legacy.eventLoops().close();
        }
    }
}
