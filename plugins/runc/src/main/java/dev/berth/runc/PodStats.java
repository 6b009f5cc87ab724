package dev.berth.runc;

import dev.berth.oci.LinuxBackend;
import dev.berth.oci.NetworkNamespaces;
import dev.berth.runc.StateStore.ContainerRecord;
import dev.berth.runc.StateStore.SandboxRecord;
import dev.berth.spi.NamespaceMode;
import dev.berth.spi.PodMetricsSource.ContainerMetrics;
import dev.berth.spi.PodMetricsSource.PodMetrics;
import dev.berth.spi.StatsProvider.ContainerUsage;
import dev.berth.spi.StatsProvider.SandboxUsage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Usage and metrics of containers and pods: their cgroups ({@link Stats}) and the pod's network interfaces. */
record PodStats(HandlerState state) implements LinuxBackend.PodUsage {
    @Override
    public ContainerUsage containerStats(String containerId) {
        ContainerRecord rec = state.requireContainer(containerId);
        return new ContainerUsage(containerId, Stats.read(state.cgroupOf(rec)));
    }

    @Override
    public SandboxUsage sandboxStats(String sandboxId) {
        SandboxRecord rec = state.requireSandbox(sandboxId);
        return new SandboxUsage(sandboxId, Stats.read(state.podCgroupOf(rec)), -1, -1);
    }

    /**
     * Each running container's cgroup ({@link Stats#metrics}) and the interfaces of the pod's network namespace:
     * the one core pinned, or the pause process's for a pod recorded without a pin. A pod on the host's network
     * has none of its own, and an unreadable namespace leaves the interfaces out rather than the pod.
     */
    @Override
    public PodMetrics podMetrics(String sandboxId) {
        SandboxRecord rec = state.requireSandbox(sandboxId);
        List<ContainerMetrics> ctrs = new ArrayList<>();
        for (ContainerRecord c : state.containersOf(sandboxId)) {
            ContainerMetrics m = Stats.metrics(c.id(), state.cgroupOf(c));
            if (m != null) {
                ctrs.add(m);
            }
        }
        Path netns = NetworkNamespaces.ofPod(NamespaceMode.valueOf(rec.network()) == NamespaceMode.NODE,
                rec.netnsPath().isEmpty() ? null : Path.of(rec.netnsPath()), rec.pausePid());
        return new PodMetrics(sandboxId, ctrs, NetworkNamespaces.podInterfaces(sandboxId, netns));
    }
}
