package dev.berth.spi;

import java.util.List;
import java.util.Objects;

/**
 * Optional: raw per-pod readings for CRI's {@code ListPodSandboxMetrics}. Core names the metrics (cAdvisor's
 * {@code container_*} names), labels them and builds the CRI messages; a backend only reads values.
 *
 * <p>A value the backend cannot read is -1 and is left out of the answer. Counters are cumulative since the
 * container (or, for interfaces, the network namespace) was created.
 */
@Experimental(eta = "2027-06-30")
public interface PodMetricsSource {

    /**
     * Readings of one pod: its running containers and its network interfaces. {@code NOT_FOUND} if the pod is
     * unknown. Containers that cannot be read (exited, being removed) are left out of the list, not failed.
     */
    PodMetrics podMetrics(String sandboxId);

    /**
     * One container's cgroup.
     *
     * @param usage CPU and memory as for {@link StatsProvider}; here {@code processCount} counts processes
     *     (not threads), or is -1 where only a task count is known
     * @param cpuUserNanoSeconds CPU time in user mode
     * @param cpuSystemNanoSeconds CPU time in kernel mode
     * @param memoryCacheBytes page cache charged to the container
     * @param threadCount tasks (threads) in the container's cgroup
     */
    @Experimental(eta = "2027-06-30")
    record ContainerMetrics(String containerId, StatsProvider.Usage usage, long cpuUserNanoSeconds,
                            long cpuSystemNanoSeconds, long memoryCacheBytes, long threadCount) {
        public ContainerMetrics {
            Checks.id(containerId, "containerId");
            Objects.requireNonNull(usage, "usage");
        }
    }

    /** The counters of one network interface of the pod, as {@code /proc/net/dev} has them. */
    @Experimental(eta = "2027-06-30")
    record InterfaceMetrics(String name, long rxBytes, long rxPackets, long rxErrors, long rxDropped, long txBytes,
                            long txPackets, long txErrors, long txDropped) {
        public InterfaceMetrics {
            Checks.id(name, "name");
        }
    }

    /**
     * @param interfaces the interfaces of the pod's network namespace, loopback included (core decides what it
     *     publishes); empty for a pod on the host's network or when the backend cannot see them
     */
    @Experimental(eta = "2027-06-30")
    record PodMetrics(String sandboxId, List<ContainerMetrics> containers, List<InterfaceMetrics> interfaces) {
        public PodMetrics {
            Checks.id(sandboxId, "sandboxId");
            containers = Checks.list(containers);
            interfaces = Checks.list(interfaces);
        }
    }
}
