package dev.berth.core.cri.stats;

import dev.berth.core.image.WritableLayerUsage;
import dev.berth.core.store.ContainerRecord;
import dev.berth.core.store.SandboxRecord;
import dev.berth.cri.v1.ContainerMetrics;
import dev.berth.cri.v1.Metric;
import dev.berth.cri.v1.MetricDescriptor;
import dev.berth.cri.v1.MetricType;
import dev.berth.cri.v1.PodSandboxMetrics;
import dev.berth.spi.PodMetricsSource;
import dev.berth.spi.StatsProvider;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * The metrics berth serves through {@code ListMetricDescriptors} and {@code ListPodSandboxMetrics}: cAdvisor's
 * {@code container_*} names, types and label sets, built from a backend's raw {@link PodMetricsSource} readings and
 * core's own records (names, image, writable layer).
 *
 * <p>Every series carries cAdvisor's labels {@code container, id, image, name, namespace, pod}, in that order, then
 * the metric's own ({@code interface}, {@code device}, {@code failure_type, scope}); the kubelet matches values to
 * keys by position. For a container: its CRI name, its id (twice: as {@code id} and {@code name}), and its image as
 * the kubelet asked for it. For the pod's network series: {@code container} and {@code image} empty, the pod's id.
 *
 * <p>The CRI carries whole numbers, so CPU seconds are truncated to whole seconds, as containerd and CRI-O do.
 * Values read on demand have timestamp 0 (the kubelet's sign for "not cached"); the writable layer, which core
 * measures in the background, carries the time of its reading.
 */
final class CadvisorMetrics {
    static final List<String> BASE_LABELS = List.of("container", "id", "image", "name", "namespace", "pod");
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    /** One metric: its name, help, type, and the labels it has after the base labels. */
    record Descriptor(String name, String help, MetricType type, List<String> extraLabels) {
        MetricDescriptor toProto() {
            return MetricDescriptor.newBuilder().setName(name).setHelp(help)
                    .addAllLabelKeys(BASE_LABELS).addAllLabelKeys(extraLabels).build();
        }
    }

    private static Descriptor counter(String name, String help, String... extra) {
        return new Descriptor(name, help, MetricType.COUNTER, List.of(extra));
    }

    private static Descriptor gauge(String name, String help, String... extra) {
        return new Descriptor(name, help, MetricType.GAUGE, List.of(extra));
    }

    static final Descriptor CPU_USAGE = counter("container_cpu_usage_seconds_total",
            "Cumulative CPU time consumed in seconds.");
    static final Descriptor CPU_USER = counter("container_cpu_user_seconds_total",
            "Cumulative user CPU time consumed in seconds.");
    static final Descriptor CPU_SYSTEM = counter("container_cpu_system_seconds_total",
            "Cumulative system CPU time consumed in seconds.");
    static final Descriptor MEMORY_USAGE = gauge("container_memory_usage_bytes",
            "Current memory usage in bytes, including all memory regardless of when it was accessed.");
    static final Descriptor MEMORY_WORKING_SET = gauge("container_memory_working_set_bytes",
            "Current working set in bytes.");
    static final Descriptor MEMORY_RSS = gauge("container_memory_rss", "Size of RSS in bytes.");
    static final Descriptor MEMORY_CACHE = gauge("container_memory_cache", "Number of bytes of page cache memory.");
    static final Descriptor MEMORY_FAILURES = counter("container_memory_failures_total",
            "Cumulative count of memory allocation failures.", "failure_type", "scope");
    static final Descriptor NET_RX_BYTES = counter("container_network_receive_bytes_total",
            "Cumulative count of bytes received.", "interface");
    static final Descriptor NET_RX_PACKETS = counter("container_network_receive_packets_total",
            "Cumulative count of packets received.", "interface");
    static final Descriptor NET_RX_ERRORS = counter("container_network_receive_errors_total",
            "Cumulative count of errors encountered while receiving.", "interface");
    static final Descriptor NET_RX_DROPPED = counter("container_network_receive_packets_dropped_total",
            "Cumulative count of packets dropped while receiving.", "interface");
    static final Descriptor NET_TX_BYTES = counter("container_network_transmit_bytes_total",
            "Cumulative count of bytes transmitted.", "interface");
    static final Descriptor NET_TX_PACKETS = counter("container_network_transmit_packets_total",
            "Cumulative count of packets transmitted.", "interface");
    static final Descriptor NET_TX_ERRORS = counter("container_network_transmit_errors_total",
            "Cumulative count of errors encountered while transmitting.", "interface");
    static final Descriptor NET_TX_DROPPED = counter("container_network_transmit_packets_dropped_total",
            "Cumulative count of packets dropped while transmitting.", "interface");
    static final Descriptor FS_USAGE = gauge("container_fs_usage_bytes",
            "Number of bytes that are consumed by the container on this filesystem.", "device");
    static final Descriptor PROCESSES = gauge("container_processes",
            "Number of processes running inside the container.");
    static final Descriptor THREADS = gauge("container_threads", "Number of threads running inside the container.");

    static final List<Descriptor> ALL = List.of(CPU_USAGE, CPU_USER, CPU_SYSTEM, MEMORY_USAGE, MEMORY_WORKING_SET,
            MEMORY_RSS, MEMORY_CACHE, MEMORY_FAILURES, NET_RX_BYTES, NET_RX_PACKETS, NET_RX_ERRORS, NET_RX_DROPPED,
            NET_TX_BYTES, NET_TX_PACKETS, NET_TX_ERRORS, NET_TX_DROPPED, FS_USAGE, PROCESSES, THREADS);

    private CadvisorMetrics() {}

    static List<MetricDescriptor> descriptors() {
        return ALL.stream().map(Descriptor::toProto).toList();
    }

    /**
     * One pod's answer: its network series, then each container the backend read and core has a record of.
     *
     * @param containers core's records of the pod's containers, by id
     * @param layers the writable layer of a container root, by root file system key
     */
    static PodSandboxMetrics pod(SandboxRecord s, PodMetricsSource.PodMetrics m, Map<String, ContainerRecord> containers,
                                 Function<String, Optional<WritableLayerUsage>> layers) {
        var b = PodSandboxMetrics.newBuilder().setPodSandboxId(s.id());
        List<String> podLabels = List.of("", s.id(), "", s.id(), s.namespace(), s.name());
        for (PodMetricsSource.InterfaceMetrics i : m.interfaces()) {
            if (i.name().equals("lo")) {
                continue; // cAdvisor leaves loopback out: it is no traffic of the pod's
            }
            List<String> l = with(podLabels, i.name());
            add(b::addMetrics, NET_RX_BYTES, l, i.rxBytes(), 0);
            add(b::addMetrics, NET_RX_PACKETS, l, i.rxPackets(), 0);
            add(b::addMetrics, NET_RX_ERRORS, l, i.rxErrors(), 0);
            add(b::addMetrics, NET_RX_DROPPED, l, i.rxDropped(), 0);
            add(b::addMetrics, NET_TX_BYTES, l, i.txBytes(), 0);
            add(b::addMetrics, NET_TX_PACKETS, l, i.txPackets(), 0);
            add(b::addMetrics, NET_TX_ERRORS, l, i.txErrors(), 0);
            add(b::addMetrics, NET_TX_DROPPED, l, i.txDropped(), 0);
        }
        for (PodMetricsSource.ContainerMetrics cm : m.containers()) {
            ContainerRecord c = containers.get(cm.containerId());
            if (c != null && c.sandboxId().equals(s.id())) {
                b.addContainerMetrics(container(s, c, cm, layers.apply(c.rootfsKey())));
            }
        }
        return b.build();
    }

    static ContainerMetrics container(SandboxRecord s, ContainerRecord c, PodMetricsSource.ContainerMetrics cm,
                                      Optional<WritableLayerUsage> layer) {
        var b = ContainerMetrics.newBuilder().setContainerId(c.id());
        List<String> l = List.of(c.name(), c.id(), c.image(), c.id(), s.namespace(), s.name());
        StatsProvider.Usage u = cm.usage();
        add(b::addMetrics, CPU_USAGE, l, seconds(u.cpuUsageCoreNanoSeconds()), 0);
        add(b::addMetrics, CPU_USER, l, seconds(cm.cpuUserNanoSeconds()), 0);
        add(b::addMetrics, CPU_SYSTEM, l, seconds(cm.cpuSystemNanoSeconds()), 0);
        add(b::addMetrics, MEMORY_USAGE, l, u.memoryUsageBytes(), 0);
        add(b::addMetrics, MEMORY_WORKING_SET, l, u.memoryWorkingSetBytes(), 0);
        add(b::addMetrics, MEMORY_RSS, l, u.memoryRssBytes(), 0);
        add(b::addMetrics, MEMORY_CACHE, l, cm.memoryCacheBytes(), 0);
        add(b::addMetrics, MEMORY_FAILURES, with(l, "pgfault", "container"), u.pageFaults(), 0);
        add(b::addMetrics, MEMORY_FAILURES, with(l, "pgmajfault", "container"), u.majorPageFaults(), 0);
        layer.ifPresent(w -> add(b::addMetrics, FS_USAGE, with(l, w.mountpoint().toString()), w.usedBytes(),
                w.timestamp().getEpochSecond() * NANOS_PER_SECOND + w.timestamp().getNano()));
        add(b::addMetrics, PROCESSES, l, u.processCount(), 0);
        add(b::addMetrics, THREADS, l, cm.threadCount(), 0);
        return b.build();
    }

    private static long seconds(long nanos) {
        return nanos < 0 ? -1 : nanos / NANOS_PER_SECOND;
    }

    private static List<String> with(List<String> base, String... extra) {
        return Stream.concat(base.stream(), Stream.of(extra)).toList();
    }

    /** Adds one series unless its value is unknown (-1). */
    private static void add(java.util.function.Consumer<Metric> to, Descriptor d, List<String> labels, long value,
                            long timestampNanos) {
        if (value < 0) {
            return;
        }
        if (labels.size() != BASE_LABELS.size() + d.extraLabels().size()) {
            throw new IllegalStateException(d.name() + " has " + labels.size() + " label values");
        }
        to.accept(Metric.newBuilder().setName(d.name()).setTimestamp(timestampNanos).setMetricType(d.type())
                .addAllLabelValues(labels).setValue(StatsMapper.v(value)).build());
    }
}
