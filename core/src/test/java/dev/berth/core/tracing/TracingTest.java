package dev.berth.core.tracing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.Daemon;
import dev.berth.core.config.BerthConfig;
import dev.berth.core.config.ConfigException;
import dev.berth.core.config.ConfigLoader;
import dev.berth.core.environment.Node;
import dev.berth.core.plugin.PluginHost;
import dev.berth.cri.v1.PodSandboxConfig;
import dev.berth.cri.v1.PodSandboxMetadata;
import dev.berth.cri.v1.PodSandboxStatusRequest;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.spi.testing.FakeBackendFactory;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Spans from an in-process daemon reach an OTLP/HTTP receiver through the real exporter: one server span per RPC,
 * parented on the client's traceparent, with backend calls and record writes as its children.
 */
class TracingTest {
    private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static final String CLIENT_SPAN = "00f067aa0ba902b7";

    @TempDir
    Path dir;

    private ConfigLoader.Loaded config(String tracing) throws Exception {
        Path file = dir.resolve("config.toml");
        Files.writeString(file, "state = \"" + dir.resolve("state") + "\"\nroot = \"" + dir.resolve("root") + "\"\n"
                + "health_interval = \"1h\"\ndefault_runtime = \"fake\"\n[runtimes.fake]\ntype = \"fake\"\n" + tracing);
        return ConfigLoader.load(file, true);
    }

    /** Sends a W3C traceparent with every call, as the kubelet does with its tracing on. */
    private static ClientInterceptor traceparent() {
        return new ClientInterceptor() {
            @Override
            public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options,
                                                         Channel next) {
                return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                    @Override
                    public void start(Listener<R> listener, Metadata headers) {
                        headers.put(Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER),
                                "00-" + TRACE + "-" + CLIENT_SPAN + "-01");
                        super.start(listener, headers);
                    }
                };
            }
        };
    }

    @Test
    void rpcSpansWithBackendChildrenReachAnOtlpReceiverUnderTheClientsTrace() throws Exception {
        String pod;
        try (OtlpReceiver receiver = new OtlpReceiver()) {
            var loaded = config("[tracing]\nendpoint = \"" + receiver.endpoint() + "\"\nservice_name = \"berth-test\"\n"
                    + "sampling_ratio = 1.0\n");
            Daemon daemon = Daemon.create(loaded, PluginHost.of(List.of(new FakeBackendFactory())), Node.none());
            Tracing tracing = Tracing.start(loaded.config().tracing(), Map.of());
            assertThat(Tracing.enabled()).isTrue();
            daemon.tracing(tracing);
            String name = InProcessServerBuilder.generateName();
            daemon.serve(InProcessServerBuilder.forName(name));
            ManagedChannel channel = InProcessChannelBuilder.forName(name).intercept(traceparent()).build();
            try {
                var runtime = RuntimeServiceGrpc.newBlockingStub(channel);
                pod = runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(PodSandboxConfig.newBuilder()
                        .setMetadata(PodSandboxMetadata.newBuilder().setName("traced").setNamespace("default")
                                .setUid("u1"))).setRuntimeHandler("fake").build()).getPodSandboxId();
                assertThatThrownBy(() -> runtime.podSandboxStatus(PodSandboxStatusRequest.newBuilder()
                        .setPodSandboxId("0123456789abcdef").build())).isInstanceOf(StatusRuntimeException.class);
            } finally {
                channel.shutdownNow();
                daemon.close(); // flushes the batch of spans
            }
            assertThat(Tracing.enabled()).as("closing the daemon stops tracing").isFalse();

            var spans = receiver.spans;
            assertThat(receiver.contentTypes).allMatch(t -> t.equals("application/x-protobuf"));
            var run = spans.stream().filter(s -> s.name().equals("runtime.v1.RuntimeService/RunPodSandbox"))
                    .findFirst().orElseThrow(() -> new AssertionError("no RunPodSandbox span in " + spans));
            assertThat(run.traceId()).isEqualTo(TRACE);
            assertThat(run.parentSpanId()).isEqualTo(CLIENT_SPAN);
            assertThat(run.kind()).isEqualTo(2); // SPAN_KIND_SERVER
            assertThat(run.attributes()).containsEntry("rpc.system", "grpc").containsEntry("rpc.method", "RunPodSandbox")
                    .containsEntry("berth.handler", "fake").containsEntry("berth.plugin", "builtin")
                    .containsEntry("berth.pod_id", pod).containsEntry("rpc.grpc.status_code", 0L);
            assertThat(run.resource()).containsEntry("service.name", "berth-test");

            var children = spans.stream().filter(s -> s.parentSpanId().equals(run.spanId())).toList();
            assertThat(children).allMatch(s -> s.traceId().equals(TRACE));
            assertThat(children).extracting(OtlpReceiver.Span::name)
                    .contains("backend createSandbox", "backend startSandbox", "record write");
            var create = children.stream().filter(s -> s.name().equals("backend createSandbox")).findFirst().get();
            assertThat(create.attributes()).containsEntry("berth.operation", "createSandbox")
                    .containsEntry("berth.handler", "fake");

            var failed = spans.stream().filter(s -> s.name().equals("runtime.v1.RuntimeService/PodSandboxStatus"))
                    .findFirst().orElseThrow();
            assertThat(failed.attributes()).containsEntry("rpc.grpc.status_code", 5L); // NOT_FOUND
            assertThat(failed.statusCode()).isEqualTo(2); // STATUS_CODE_ERROR
            assertThat(failed.statusMessage()).contains("NOT_FOUND");
        }
    }

    @Test
    void offUnlessTheConfigOrTheEnvironmentAskAndNoSdkStarts() throws Exception {
        var off = new BerthConfig.Tracing("", null, "berth");
        assertThat(Tracing.wanted(off, Map.of())).isFalse();
        assertThat(Tracing.start(off, Map.of())).isSameAs(Tracing.off());
        assertThat(Tracing.off().interceptor()).isNull();
        assertThat(Tracing.enabled()).isFalse();
        assertThat(Tracing.child("x")).isSameAs(Tracing.Child.NONE);

        assertThat(Tracing.wanted(off, Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"))).isTrue();
        assertThat(Tracing.wanted(off, Map.of("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4318/v1/traces")))
                .isTrue();
        assertThat(Tracing.wanted(off, Map.of("OTEL_TRACES_EXPORTER", "otlp"))).isTrue();
        var on = new BerthConfig.Tracing("http://127.0.0.1:4318", null, "berth");
        assertThat(Tracing.wanted(on, Map.of())).isTrue();
        assertThat(Tracing.wanted(on, Map.of("OTEL_SDK_DISABLED", "true"))).isFalse();
        assertThat(Tracing.wanted(on, Map.of("OTEL_TRACES_EXPORTER", "none"))).isFalse();
    }

    @Test
    void badTracingKeysAreRefusedNamingTheKey() {
        assertThatThrownBy(() -> config("[tracing]\nendpoint = \"127.0.0.1:4318\"\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("tracing.endpoint")
                .hasMessageContaining("http://");
        assertThatThrownBy(() -> config("[tracing]\nsampling_ratio = 1.5\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("tracing.sampling_ratio");
        assertThatThrownBy(() -> config("[tracing]\nsampling_ratio = \"half\"\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("tracing.sampling_ratio");
        assertThatThrownBy(() -> config("[tracing]\nservice_name = \"\"\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("tracing.service_name");
        assertThatThrownBy(() -> config("[tracing]\nendpont = \"http://x:4318\"\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("tracing.endpont")
                .hasMessageContaining("unknown key");
    }

    @Test
    void theTableIsRead() throws Exception {
        var t = config("[tracing]\nendpoint = \"https://otel.example:4318\"\nsampling_ratio = 0.25\n"
                + "service_name = \"node-a\"\n").config().tracing();
        assertThat(t).isEqualTo(new BerthConfig.Tracing("https://otel.example:4318", 0.25, "node-a"));
        assertThat(config("").config().tracing()).isEqualTo(new BerthConfig.Tracing("", null, "berth"));
    }
}
