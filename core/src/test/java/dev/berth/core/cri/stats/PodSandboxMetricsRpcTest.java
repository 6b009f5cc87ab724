package dev.berth.core.cri.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.cri.CriTestHarness;
import dev.berth.core.environment.Node;
import dev.berth.cri.v1.CreateContainerRequest;
import dev.berth.cri.v1.ListMetricDescriptorsRequest;
import dev.berth.cri.v1.ListPodSandboxMetricsRequest;
import dev.berth.cri.v1.Metric;
import dev.berth.cri.v1.MetricDescriptor;
import dev.berth.cri.v1.PodSandboxMetrics;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.cri.v1.StartContainerRequest;
import dev.berth.cri.v1.StopPodSandboxRequest;
import dev.berth.spi.BackendContext;
import dev.berth.spi.PodMetricsSource;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.RuntimeBackendFactory;
import dev.berth.spi.StatsProvider;
import dev.berth.spi.testing.FakeBackend;
import dev.berth.spi.testing.FakeBackendFactory;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ListMetricDescriptors and ListPodSandboxMetrics over the CRI edge: pods of a handler whose backend reads pod
 * metrics are answered with cAdvisor-named series and the labels core knows; pods of a handler without the
 * capability, and pods that are not ready, are left out; with no capable handler both RPCs are UNIMPLEMENTED.
 */
class PodSandboxMetricsRpcTest {
    @TempDir
    Path dir;

    /** The fake backend with pod metrics: fixed readings for each started container and one interface. */
    static final class MetricsFakeBackend extends FakeBackend implements PodMetricsSource {
        final Map<String, String> started = new ConcurrentHashMap<>();

        MetricsFakeBackend(BackendContext context, Map<String, Object> options) {
            super(context, options);
        }

        @Override
        public void startContainer(String containerId) {
            super.startContainer(containerId);
            started.put(containerId, containerId);
        }

        @Override
        public PodMetrics podMetrics(String sandboxId) {
            sandboxStatus(sandboxId); // NOT_FOUND when unknown
            return new PodMetrics(sandboxId, started.keySet().stream().map(id -> new ContainerMetrics(id,
                    new StatsProvider.Usage(Instant.now(), 3_000_000_000L, 100, 200, 50, 7, 1, 1), 2_000_000_000L,
                    1_000_000_000L, 150, 2)).toList(),
                    List.of(new InterfaceMetrics("eth0", 10, 1, 0, 0, 20, 2, 0, 0),
                            new InterfaceMetrics("lo", 5, 5, 0, 0, 5, 5, 0, 0)));
        }
    }

    static final class MetricsFakeBackendFactory implements RuntimeBackendFactory {
        @Override
        public String type() {
            return "fake-metrics";
        }

        @Override
        public RuntimeBackend create(String handlerName, Map<String, Object> options, BackendContext context) {
            return new MetricsFakeBackend(context, options);
        }
    }

    private CriTestHarness harness(String config) throws Exception {
        return new CriTestHarness(dir, config, Node.none(),
                List.of(new FakeBackendFactory(), new MetricsFakeBackendFactory()));
    }

    private static String runPod(CriTestHarness h, String name, String handler) {
        return h.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(CriTestHarness.pod(name))
                .setRuntimeHandler(handler).build()).getPodSandboxId();
    }

    private static String runContainer(CriTestHarness h, String pod, String podName, String name) {
        String id = h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                .setConfig(CriTestHarness.container(name)).setSandboxConfig(CriTestHarness.pod(podName)).build())
                .getContainerId();
        h.runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(id).build());
        return id;
    }

    @Test
    void podsOfACapableHandlerAreAnsweredOthersLeftOut() throws Exception {
        try (CriTestHarness h = harness("""
                default_runtime = "metrics"
                [runtimes.metrics]
                type = "fake-metrics"
                [runtimes.plain]
                type = "fake"
                """)) {
            List<MetricDescriptor> descs = h.runtime.listMetricDescriptors(
                    ListMetricDescriptorsRequest.getDefaultInstance()).getDescriptorsList();
            Map<String, MetricDescriptor> byName = descs.stream()
                    .collect(Collectors.toMap(MetricDescriptor::getName, d -> d));
            assertThat(byName).containsKeys("container_cpu_usage_seconds_total", "container_memory_working_set_bytes",
                    "container_network_receive_bytes_total", "container_fs_usage_bytes", "container_threads");

            String web = runPod(h, "web", "metrics");
            String app = runContainer(h, web, "web", "app");
            String other = runPod(h, "other", "plain");
            runContainer(h, other, "other", "sidecar");
            String stopped = runPod(h, "stopped", "metrics");
            h.runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(stopped).build());

            List<PodSandboxMetrics> pods = h.runtime.listPodSandboxMetrics(
                    ListPodSandboxMetricsRequest.getDefaultInstance()).getPodMetricsList();
            assertThat(pods).extracting(PodSandboxMetrics::getPodSandboxId).containsExactly(web);
            PodSandboxMetrics p = pods.getFirst();
            assertThat(p.getMetricsList()).hasSize(8).allSatisfy(m ->
                    assertThat(m.getLabelValuesList()).containsExactly("", web, "", web, "default", "web", "eth0"));
            assertThat(p.getContainerMetricsList()).hasSize(1);
            assertThat(p.getContainerMetrics(0).getContainerId()).isEqualTo(app);
            Set<String> seen = new java.util.HashSet<>();
            for (Metric m : p.getContainerMetrics(0).getMetricsList()) {
                assertThat(byName).as("a descriptor for " + m.getName()).containsKey(m.getName());
                assertThat(m.getLabelValuesCount()).isEqualTo(byName.get(m.getName()).getLabelKeysCount());
                assertThat(m.getLabelValuesList().subList(0, 6))
                        .containsExactly("app", app, "busybox", app, "default", "web");
                seen.add(m.getName());
            }
            assertThat(seen).contains("container_cpu_usage_seconds_total", "container_cpu_user_seconds_total",
                    "container_memory_cache", "container_processes", "container_threads");
            Metric cpu = p.getContainerMetrics(0).getMetricsList().stream()
                    .filter(m -> m.getName().equals("container_cpu_usage_seconds_total")).findFirst().orElseThrow();
            assertThat(cpu.getValue().getValue()).isEqualTo(3);
        }
    }

    @Test
    void withoutACapableHandlerBothRpcsAreUnimplemented() throws Exception {
        try (CriTestHarness h = harness("""
                default_runtime = "plain"
                [runtimes.plain]
                type = "fake"
                """)) {
            runPod(h, "web", "plain");
            assertThatThrownBy(() -> h.runtime.listMetricDescriptors(ListMetricDescriptorsRequest.getDefaultInstance()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
                        assertThat(e.getStatus().getDescription()).contains("pod sandbox metrics").contains("\"plain\"");
                    });
            assertThatThrownBy(() -> h.runtime.listPodSandboxMetrics(ListPodSandboxMetricsRequest.getDefaultInstance()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));
        }
    }
}
