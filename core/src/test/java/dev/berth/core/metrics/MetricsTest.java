package dev.berth.core.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.cri.CriTestHarness;
import dev.berth.core.environment.Node;
import dev.berth.cri.v1.CreateContainerRequest;
import dev.berth.cri.v1.RemoveContainerRequest;
import dev.berth.cri.v1.RemovePodSandboxRequest;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.cri.v1.StartContainerRequest;
import dev.berth.cri.v1.StatusRequest;
import dev.berth.cri.v1.StopContainerRequest;
import dev.berth.cri.v1.StopPodSandboxRequest;
import dev.berth.spi.testing.FakeBackendFactory;
import io.grpc.StatusRuntimeException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metrics of a daemon over fake backends, read the way Prometheus reads them: from the HTTP listener, after
 * calls through the in-process gRPC server.
 */
class MetricsTest {
    private static final String CONFIG = """
            health_interval = "1h"
            default_runtime = "fake"
            [runtimes.fake]
            type = "fake"
            [runtimes.broken]
            type = "fake"
            [runtimes.broken.options]
            fail_create = true
            [metrics]
            address = "127.0.0.1:0"
            """;

    @TempDir
    Path dir;
    CriTestHarness h;
    int port;

    @BeforeEach
    void start() throws Exception {
        h = new CriTestHarness(dir, CONFIG, Node.none(), List.of(new FakeBackendFactory()));
        port = h.daemon().metrics().listen();
    }

    @AfterEach
    void stop() {
        h.close();
    }

    @Test
    void everyRpcIsCountedAndTimedByMethodVersionHandlerPluginAndCode() throws Exception {
        CriTestHarness.Started web = h.startedContainer("web", "app");
        String pod = web.pod();
        String ctr = web.container();
        assertThatThrownBy(() -> h.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder()
                .setConfig(CriTestHarness.pod("bad")).setRuntimeHandler("broken").build()))
                .isInstanceOf(StatusRuntimeException.class);
        assertThatThrownBy(() -> h.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder()
                .setConfig(CriTestHarness.pod("nohandler")).setRuntimeHandler("nope").build()))
                .isInstanceOf(StatusRuntimeException.class);
        h.runtime.version(dev.berth.cri.v1.VersionRequest.getDefaultInstance());
        dev.berth.cri.v1alpha2.RuntimeServiceGrpc.newBlockingStub(h.channel)
                .version(dev.berth.cri.v1alpha2.VersionRequest.getDefaultInstance());
        dev.berth.cri.v1alpha2.RuntimeServiceGrpc.newBlockingStub(h.channel)
                .version(dev.berth.cri.v1alpha2.VersionRequest.getDefaultInstance());

        String text = scrape(null).body();
        assertThat(value(text, "berth_cri_requests_total", "method=\"RunPodSandbox\"", "api_version=\"v1\"",
                "handler=\"fake\"", "plugin=\"builtin\"", "code=\"OK\"")).isEqualTo(1);
        assertThat(value(text, "berth_cri_request_duration_seconds_count", "method=\"RunPodSandbox\"",
                "handler=\"fake\"", "code=\"OK\"")).isEqualTo(1);
        assertThat(value(text, "berth_cri_request_duration_seconds_bucket", "method=\"RunPodSandbox\"",
                "handler=\"fake\"", "code=\"OK\"", "le=\"+Inf\"")).isEqualTo(1);
        assertThat(value(text, "berth_cri_requests_total", "method=\"StartContainer\"", "handler=\"fake\"",
                "code=\"OK\"")).isEqualTo(1);
        // The failed create is counted under the handler it reached, with the backend's code.
        assertThat(value(text, "berth_cri_requests_total", "method=\"RunPodSandbox\"", "handler=\"broken\"",
                "code=\"UNAVAILABLE\"")).isEqualTo(1);
        // An unknown handler never resolved to one.
        assertThat(value(text, "berth_cri_requests_total", "method=\"RunPodSandbox\"", "handler=\"\"",
                "code=\"INVALID_ARGUMENT\"")).isEqualTo(1);
        assertThat(value(text, "berth_cri_requests_total", "method=\"Version\"", "api_version=\"v1\"")).isEqualTo(1);
        assertThat(value(text, "berth_cri_requests_total", "method=\"Version\"", "api_version=\"v1alpha2\""))
                .isEqualTo(2);

        // Backend calls through the proxy, by plugin, handler and operation.
        assertThat(value(text, "berth_backend_call_duration_seconds_count", "plugin=\"builtin\"",
                "handler=\"fake\"", "operation=\"createSandbox\"")).isEqualTo(1);
        assertThat(value(text, "berth_backend_call_duration_seconds_count", "handler=\"fake\"",
                "operation=\"startContainer\"")).isEqualTo(1);
        assertThat(value(text, "berth_backend_call_failures_total", "handler=\"broken\"",
                "operation=\"createSandbox\"", "kind=\"unavailable\"")).isEqualTo(1);

        // Objects by handler and state, from the records.
        assertThat(value(text, "berth_pods", "handler=\"fake\"", "state=\"ready\"")).isEqualTo(1);
        assertThat(value(text, "berth_containers", "handler=\"fake\"", "state=\"running\"")).isEqualTo(1);
        // Records written: the pod (CREATING, READY), the container.
        assertThat(value(text, "berth_record_write_duration_seconds_count", "store=\"sandboxes\"")).isGreaterThan(1);
        assertThat(value(text, "berth_record_write_duration_seconds_count", "store=\"containers\"")).isEqualTo(1);
        // No pod or container id in any label.
        assertThat(text).doesNotContain(pod).doesNotContain(ctr);

        h.runtime.stopContainer(StopContainerRequest.newBuilder().setContainerId(ctr).setTimeout(1).build());
        text = scrape(null).body();
        assertThat(value(text, "berth_containers", "handler=\"fake\"", "state=\"exited\"")).isEqualTo(1);
        assertThat(lines(text, "berth_containers", "state=\"running\"")).isEmpty();

        h.runtime.removeContainer(RemoveContainerRequest.newBuilder().setContainerId(ctr).build());
        h.runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        text = scrape(null).body();
        assertThat(value(text, "berth_pods", "handler=\"fake\"", "state=\"notready\"")).isEqualTo(1);
        assertThat(lines(text, "berth_containers")).isEmpty();
        h.runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        text = scrape(null).body();
        assertThat(lines(text, "berth_pods")).isEmpty();
        assertThat(value(text, "berth_cri_requests_total", "method=\"RemovePodSandbox\"", "handler=\"fake\"",
                "code=\"OK\"")).isEqualTo(1);
    }

    @Test
    void containersFromBeforeARestartAreCountedInTheStateTheirBackendGives() throws Exception {
        String pod = h.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder()
                .setConfig(CriTestHarness.pod("web")).build()).getPodSandboxId();
        String created = createIn(pod, "web", "fresh");
        String running = createIn(pod, "web", "app");
        h.runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(running).build());
        String exited = createIn(pod, "web", "job");
        h.runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(exited).build());
        h.runtime.stopContainer(StopContainerRequest.newBuilder().setContainerId(exited).setTimeout(1).build());
        assertThat(created).isNotEmpty();

        // A new daemon on the same state: no container event has happened since it started.
        h.close();
        h = new CriTestHarness(dir, CONFIG, Node.none(), List.of(new FakeBackendFactory()));
        port = h.daemon().metrics().listen();
        // Their states are asked for once the daemon serves, in the background: until then they count as unknown.
        String text = scrape(null).body();
        for (long deadline = System.nanoTime() + 30_000_000_000L;
                !lines(text, "berth_containers", "state=\"unknown\"").isEmpty() && System.nanoTime() < deadline; ) {
            Thread.sleep(20);
            text = scrape(null).body();
        }
        assertThat(value(text, "berth_containers", "handler=\"fake\"", "state=\"created\"")).isEqualTo(1);
        assertThat(value(text, "berth_containers", "handler=\"fake\"", "state=\"running\"")).isEqualTo(1);
        assertThat(value(text, "berth_containers", "handler=\"fake\"", "state=\"exited\"")).isEqualTo(1);
        assertThat(lines(text, "berth_containers", "state=\"unknown\"")).isEmpty();
        assertThat(value(text, "berth_pods", "handler=\"fake\"", "state=\"ready\"")).isEqualTo(1);

        // Events after the restart move them on as before.
        h.runtime.stopContainer(StopContainerRequest.newBuilder().setContainerId(running).setTimeout(1).build());
        text = scrape(null).body();
        assertThat(value(text, "berth_containers", "handler=\"fake\"", "state=\"exited\"")).isEqualTo(2);
        assertThat(lines(text, "berth_containers", "state=\"running\"")).isEmpty();
    }

    private String createIn(String pod, String podName, String name) {
        return h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                .setConfig(CriTestHarness.container(name)).setSandboxConfig(CriTestHarness.pod(podName)).build())
                .getContainerId();
    }

    @Test
    void handlerHealthIsTheLastAnswerAndIsNotAskedForAtScrapeTime() throws Exception {
        // The daemon's health timer (HandlerHealth) asks each handler at start and then every health_interval; the
        // gauge is its last answer. Neither a scrape nor the Status RPC (which reads the same cache) asks again.
        String text = scrape(null).body();
        for (int i = 0; i < 200 && lines(text, "berth_handler_healthy", "handler=\"fake\"").isEmpty(); i++) {
            Thread.sleep(50);
            text = scrape(null).body();
        }
        assertThat(value(text, "berth_handler_healthy", "handler=\"fake\"", "plugin=\"builtin\"")).isEqualTo(1);
        double healthCalls = value(text, "berth_backend_call_duration_seconds_count", "handler=\"fake\"",
                "operation=\"health\"");
        assertThat(healthCalls).isGreaterThanOrEqualTo(1);
        h.runtime.status(StatusRequest.getDefaultInstance());
        text = scrape(null).body();
        assertThat(value(text, "berth_handler_healthy", "handler=\"fake\"", "plugin=\"builtin\"")).isEqualTo(1);
        assertThat(value(text, "berth_backend_call_duration_seconds_count", "handler=\"fake\"",
                "operation=\"health\"")).isEqualTo(healthCalls);
    }

    @Test
    void jvmAndProcessMetricsAreServed() throws Exception {
        String text = scrape(null).body();
        assertThat(lines(text, "jvm_memory_used_bytes", "area=\"heap\"")).hasSize(1);
        assertThat(lines(text, "jvm_threads_current")).hasSize(1);
        assertThat(lines(text, "jvm_gc_collection_seconds_count")).isNotEmpty();
        assertThat(value(text, "process_open_fds")).isGreaterThan(0);
        assertThat(value(text, "process_resident_memory_bytes")).isGreaterThan(0);
    }

    @Test
    void openMetricsWhenTheScraperAsksForIt() throws Exception {
        h.runtime.version(dev.berth.cri.v1.VersionRequest.getDefaultInstance());
        var resp = scrape("application/openmetrics-text; version=1.0.0; charset=utf-8");
        assertThat(resp.headers().firstValue("Content-Type").orElse("")).startsWith("application/openmetrics-text");
        assertThat(resp.body().strip()).endsWith("# EOF");
        assertThat(resp.body()).contains("berth_cri_requests_total{");
        var text = scrape(null);
        assertThat(text.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain; version=0.0.4");
    }

    @Test
    void anAddressInUseIsAConfigErrorNamingTheKey() {
        try (Metrics other = Metrics.fromConfig(new dev.berth.core.config.BerthConfig.Metrics("127.0.0.1:" + port))) {
            assertThatThrownBy(other::listen).isInstanceOf(dev.berth.core.config.ConfigException.class)
                    .hasMessageStartingWith("metrics.address: cannot listen on 127.0.0.1:" + port + ": ");
        }
    }

    @Test
    void disabledMetricsRecordAndServeNothing() {
        Metrics off = Metrics.disabled();
        assertThat(off.enabled()).isFalse();
        assertThat(off.registry()).isNull();
        assertThat(off.listen()).isEqualTo(-1);
        off.rpc("Version", "v1", "", "", "OK", 1);
        off.cni("add", "net", true, 1);
        off.gauge("x", "y", cb -> { throw new AssertionError("never called"); });
        assertThat(off.backendObserver()).isSameAs(dev.berth.core.dispatch.BackendProxy.Observer.NONE);
    }

    private HttpResponse<String> scrape(String accept) throws Exception {
        var req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"));
        if (accept != null) {
            req.header("Accept", accept);
        }
        try (HttpClient client = HttpClient.newHttpClient()) {
            var resp = client.send(req.build(), HttpResponse.BodyHandlers.ofString());
            assertThat(resp.statusCode()).isEqualTo(200);
            return resp;
        }
    }

    static List<String> lines(String text, String name, String... labels) {
        return MetricsScrape.lines(text, name, labels);
    }

    static double value(String text, String name, String... labels) {
        return MetricsScrape.value(text, name, labels);
    }
}
