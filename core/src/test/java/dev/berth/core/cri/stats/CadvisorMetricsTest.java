package dev.berth.core.cri.stats;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.image.WritableLayerUsage;
import dev.berth.core.store.ContainerRecord;
import dev.berth.core.store.SandboxRecord;
import dev.berth.cri.v1.Metric;
import dev.berth.cri.v1.MetricDescriptor;
import dev.berth.cri.v1.MetricType;
import dev.berth.cri.v1.PodSandboxMetrics;
import dev.berth.spi.PodMetricsSource;
import dev.berth.spi.StatsProvider;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The mapping from a backend's raw readings to cAdvisor-named CRI metrics. */
class CadvisorMetricsTest {
    static final SandboxRecord POD = new SandboxRecord("pod1", "web_default", "web", "uid-web", "shop", 0, "runc",
            "runc", "runc", Map.of(), Map.of(), Instant.EPOCH, new byte[0], "/run/netns/x", "10.0.0.2", List.of(),
            false, SandboxRecord.State.READY, 0);
    static final ContainerRecord APP = new ContainerRecord("ctr1", "pod1", "app_web", "app", 0, "busybox:1.36",
            "sha256:abc", Map.of(), Map.of(), Instant.EPOCH, "", new byte[0], "key1");
    static final WritableLayerUsage LAYER = new WritableLayerUsage(Instant.ofEpochSecond(100, 5),
            Path.of("/var/lib/berth/containers"), 4096, 3);

    static PodMetricsSource.ContainerMetrics readings(String id) {
        return new PodMetricsSource.ContainerMetrics(id, new StatsProvider.Usage(Instant.now(), 7_999_999_999L,
                3000, 5000, 2000, 40, 4, 2), 5_500_000_000L, 2_400_000_000L, 1000, 3);
    }

    static PodMetricsSource.InterfaceMetrics eth0() {
        return new PodMetricsSource.InterfaceMetrics("eth0", 1, 2, 3, 4, 5, 6, 7, 8);
    }

    static PodSandboxMetrics map(PodMetricsSource.PodMetrics m) {
        return CadvisorMetrics.pod(POD, m, Map.of(APP.id(), APP), key -> key.equals("key1") ? Optional.of(LAYER)
                : Optional.empty());
    }

    static Map<String, Metric> byName(List<Metric> ms) {
        return ms.stream().filter(m -> !m.getName().equals("container_memory_failures_total"))
                .collect(Collectors.toMap(Metric::getName, m -> m));
    }

    @Test
    void descriptorsHaveCadvisorNamesAndLabelKeys() {
        List<MetricDescriptor> ds = CadvisorMetrics.descriptors();
        assertThat(ds).extracting(MetricDescriptor::getName).doesNotHaveDuplicates().contains(
                "container_cpu_usage_seconds_total", "container_cpu_user_seconds_total",
                "container_cpu_system_seconds_total", "container_memory_working_set_bytes", "container_memory_rss",
                "container_memory_cache", "container_memory_usage_bytes", "container_network_receive_bytes_total",
                "container_network_transmit_packets_dropped_total", "container_fs_usage_bytes",
                "container_processes", "container_threads");
        for (MetricDescriptor d : ds) {
            assertThat(d.getLabelKeysList().subList(0, 6)).as(d.getName())
                    .containsExactly("container", "id", "image", "name", "namespace", "pod");
            assertThat(d.getHelp()).isNotBlank();
        }
        Map<String, MetricDescriptor> by = ds.stream().collect(Collectors.toMap(MetricDescriptor::getName, d -> d));
        assertThat(by.get("container_network_receive_bytes_total").getLabelKeysList()).endsWith("interface");
        assertThat(by.get("container_fs_usage_bytes").getLabelKeysList()).endsWith("device");
        assertThat(by.get("container_memory_failures_total").getLabelKeysList()).endsWith("failure_type", "scope");
    }

    @Test
    void everySeriesHasOneValuePerLabelKeyAndItsDescriptorsType() {
        PodSandboxMetrics p = map(new PodMetricsSource.PodMetrics("pod1", List.of(readings("ctr1")),
                List.of(eth0())));
        Map<String, MetricDescriptor> by = CadvisorMetrics.descriptors().stream()
                .collect(Collectors.toMap(MetricDescriptor::getName, d -> d));
        List<Metric> all = new java.util.ArrayList<>(p.getMetricsList());
        p.getContainerMetricsList().forEach(c -> all.addAll(c.getMetricsList()));
        assertThat(all).as("8 network series, 12 of the container").hasSize(8 + 12);
        for (Metric m : all) {
            MetricDescriptor d = by.get(m.getName());
            assertThat(d).as(m.getName()).isNotNull();
            assertThat(m.getLabelValuesCount()).as(m.getName()).isEqualTo(d.getLabelKeysCount());
            assertThat(m.getMetricType()).as(m.getName())
                    .isEqualTo(m.getName().endsWith("_total") ? MetricType.COUNTER : MetricType.GAUGE);
        }
    }

    @Test
    void containerValuesAndLabels() {
        PodSandboxMetrics p = map(new PodMetricsSource.PodMetrics("pod1", List.of(readings("ctr1")), List.of()));
        assertThat(p.getPodSandboxId()).isEqualTo("pod1");
        assertThat(p.getContainerMetricsList()).hasSize(1);
        assertThat(p.getContainerMetrics(0).getContainerId()).isEqualTo("ctr1");
        Map<String, Metric> m = byName(p.getContainerMetrics(0).getMetricsList());
        Metric cpu = m.get("container_cpu_usage_seconds_total");
        assertThat(cpu.getValue().getValue()).as("whole seconds, truncated").isEqualTo(7);
        assertThat(cpu.getLabelValuesList()).containsExactly("app", "ctr1", "busybox:1.36", "ctr1", "shop", "web");
        assertThat(cpu.getTimestamp()).as("read on demand").isZero();
        assertThat(m.get("container_cpu_user_seconds_total").getValue().getValue()).isEqualTo(5);
        assertThat(m.get("container_cpu_system_seconds_total").getValue().getValue()).isEqualTo(2);
        assertThat(m.get("container_memory_working_set_bytes").getValue().getValue()).isEqualTo(3000);
        assertThat(m.get("container_memory_usage_bytes").getValue().getValue()).isEqualTo(5000);
        assertThat(m.get("container_memory_rss").getValue().getValue()).isEqualTo(2000);
        assertThat(m.get("container_memory_cache").getValue().getValue()).isEqualTo(1000);
        assertThat(m.get("container_processes").getValue().getValue()).isEqualTo(2);
        assertThat(m.get("container_threads").getValue().getValue()).isEqualTo(3);
        Metric fs = m.get("container_fs_usage_bytes");
        assertThat(fs.getValue().getValue()).isEqualTo(4096);
        assertThat(fs.getLabelValuesList()).endsWith("/var/lib/berth/containers");
        assertThat(fs.getTimestamp()).as("the layer's reading time").isEqualTo(100_000_000_005L);
        List<Metric> faults = p.getContainerMetrics(0).getMetricsList().stream()
                .filter(x -> x.getName().equals("container_memory_failures_total")).toList();
        assertThat(faults).extracting(x -> x.getLabelValues(6) + "/" + x.getLabelValues(7) + "=" + x.getValue()
                .getValue()).containsExactly("pgfault/container=40", "pgmajfault/container=4");
    }

    @Test
    void networkSeriesArePodLevelByInterfaceWithoutLoopback() {
        var lo = new PodMetricsSource.InterfaceMetrics("lo", 9, 9, 9, 9, 9, 9, 9, 9);
        PodSandboxMetrics p = map(new PodMetricsSource.PodMetrics("pod1", List.of(), List.of(lo, eth0())));
        assertThat(p.getContainerMetricsList()).isEmpty();
        Map<String, Metric> m = byName(p.getMetricsList());
        assertThat(m).hasSize(8);
        assertThat(m.get("container_network_receive_bytes_total").getLabelValuesList())
                .containsExactly("", "pod1", "", "pod1", "shop", "web", "eth0");
        assertThat(m.values()).allMatch(x -> x.getMetricType() == MetricType.COUNTER);
        assertThat(m.get("container_network_receive_bytes_total").getValue().getValue()).isEqualTo(1);
        assertThat(m.get("container_network_receive_packets_total").getValue().getValue()).isEqualTo(2);
        assertThat(m.get("container_network_receive_errors_total").getValue().getValue()).isEqualTo(3);
        assertThat(m.get("container_network_receive_packets_dropped_total").getValue().getValue()).isEqualTo(4);
        assertThat(m.get("container_network_transmit_bytes_total").getValue().getValue()).isEqualTo(5);
        assertThat(m.get("container_network_transmit_packets_total").getValue().getValue()).isEqualTo(6);
        assertThat(m.get("container_network_transmit_errors_total").getValue().getValue()).isEqualTo(7);
        assertThat(m.get("container_network_transmit_packets_dropped_total").getValue().getValue()).isEqualTo(8);
    }

    @Test
    void unknownValuesAndUnknownContainersAreLeftOut() {
        var unknown = new PodMetricsSource.ContainerMetrics("ctr1", new StatsProvider.Usage(Instant.now(), -1, -1,
                -1, -1, -1, -1, -1), -1, -1, -1, -1);
        var stranger = readings("not-in-core");
        PodSandboxMetrics p = CadvisorMetrics.pod(POD, new PodMetricsSource.PodMetrics("pod1",
                List.of(unknown, stranger), List.of()), Map.of(APP.id(), APP), key -> Optional.empty());
        assertThat(p.getContainerMetricsList()).hasSize(1);
        assertThat(p.getContainerMetrics(0).getContainerId()).isEqualTo("ctr1");
        assertThat(p.getContainerMetrics(0).getMetricsList()).isEmpty();
        assertThat(new HashSet<>(CadvisorMetrics.descriptors())).hasSize(CadvisorMetrics.ALL.size());
    }
}
