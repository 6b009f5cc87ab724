package dev.berth.runc;

import dev.berth.runc.StateStore.ContainerRecord;
import dev.berth.runc.StateStore.SandboxRecord;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import dev.berth.spi.NamespaceMode;
import dev.berth.spi.PodMetricsSource.ContainerMetrics;
import dev.berth.spi.PodMetricsSource.InterfaceMetrics;
import dev.berth.spi.PodMetricsSource.PodMetrics;
import dev.berth.spi.StatsProvider.ContainerUsage;
import dev.berth.spi.StatsProvider.SandboxUsage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Usage and metrics of containers and pods: their cgroups ({@link Stats}) and the pod's network interfaces. */
final class PodStats {
    private final HandlerState state;

    PodStats(HandlerState state) {
        this.state = state;
    }

    ContainerUsage containerStats(String containerId) {
        ContainerRecord rec = state.requireContainer(containerId);
        return new ContainerUsage(containerId, Stats.read(state.cgroupOf(rec)));
    }

    SandboxUsage sandboxStats(String sandboxId) {
        SandboxRecord rec = state.requireSandbox(sandboxId);
        return new SandboxUsage(sandboxId, Stats.read(state.podCgroupOf(rec)), -1, -1);
    }

    /**
     * Each running container's cgroup ({@link Stats#metrics}) and the interfaces of the pod's network namespace:
     * the one core pinned, or the pause process's for a pod recorded without a pin. A pod on the host's network
     * has none of its own, and an unreadable namespace leaves the interfaces out rather than the pod.
     */
    PodMetrics podMetrics(String sandboxId) {
        SandboxRecord rec = state.requireSandbox(sandboxId);
        List<ContainerMetrics> ctrs = new ArrayList<>();
        for (ContainerRecord c : state.containersOf(sandboxId)) {
            ContainerMetrics m = Stats.metrics(c.id(), state.cgroupOf(c));
            if (m != null) {
                ctrs.add(m);
            }
        }
        List<InterfaceMetrics> interfaces = List.of();
        Path netns = null;
        if (NamespaceMode.valueOf(rec.network()) != NamespaceMode.NODE) {
            if (!rec.netnsPath().isEmpty()) {
                netns = Path.of(rec.netnsPath());
            } else if (rec.pausePid() > 0 && dev.berth.oci.Processes.live(rec.pausePid())) {
                netns = Path.of("/proc", Long.toString(rec.pausePid()), "ns", "net");
            }
        }
        if (netns != null) {
            try {
                interfaces = dev.berth.oci.NetworkNamespaces.interfaces(netns);
            } catch (IOException e) {
                // the namespace is going away with the pod: its containers' readings still stand
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new BackendException(Kind.UNAVAILABLE, "failed to read the metrics of sandbox \"" + sandboxId
                        + "\": interrupted");
            }
        }
        return new PodMetrics(sandboxId, ctrs, interfaces);
    }
}
