package dev.berth.kata;

import static dev.berth.kata.ShimRegistry.QUICK;
import static dev.berth.kata.ShimRegistry.task;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.berth.kata.proto.types.Status;
import dev.berth.kata.ttrpc.TtrpcException;
import dev.berth.oci.LinuxBackend;
import dev.berth.oci.NetworkNamespaces;
import dev.berth.spi.BackendException.Kind;
import dev.berth.spi.BackendException;
import dev.berth.spi.PodMetricsSource.ContainerMetrics;
import dev.berth.spi.PodMetricsSource.InterfaceMetrics;
import dev.berth.spi.PodMetricsSource.PodMetrics;
import dev.berth.spi.StatsProvider.ContainerUsage;
import dev.berth.spi.StatsProvider.SandboxUsage;
import dev.berth.spi.StatsProvider.Usage;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/** Usage and metrics from the shim's Stats (decoded by {@link Metrics}), and the pod's interfaces. */
record ShimStats(ShimRegistry registry) implements LinuxBackend.PodUsage {
    @Override
    public ContainerUsage containerStats(String containerId) {
        Container c = registry.container(containerId);
        return new ContainerUsage(containerId, usage(registry.pod(c.sandboxId), containerId, "container"));
    }

    @Override
    public SandboxUsage sandboxStats(String sandboxId) {
        Pod pod = registry.pod(sandboxId);
        Usage total = usage(pod, sandboxId, "sandbox");
        for (String c : List.copyOf(pod.containerIds)) {
            try {
                total = Metrics.add(total, usage(pod, c, "container"));
            } catch (BackendException e) {
                // an exited or deleted container has no cgroup any more
            }
        }
        return new SandboxUsage(sandboxId, total, -1, -1);
    }

    /**
     * Each running container's readings from the shim's Stats, and the pod's interfaces: those the shim's reply
     * for the sandbox carries (Kata's agent reads them in the guest), else the pod's network namespace on the host
     * (the runc shim sends none; the host side of a VM's interfaces counts the same traffic).
     */
    @Override
    public PodMetrics podMetrics(String sandboxId) {
        Pod pod = registry.pod(sandboxId);
        List<ContainerMetrics> ctrs = new ArrayList<>();
        for (String id : List.copyOf(pod.containerIds)) {
            try {
                if (task(pod, "get metrics of container").state(id, "", QUICK).getStatus()
                        == Status.RUNNING) {
                    ctrs.add(Metrics.containerMetrics(id, task(pod, "get metrics of container").stats(id, QUICK)
                            .getStats(), Instant.now()));
                }
            } catch (TtrpcException | BackendException | InvalidProtocolBufferException e) {
                // exited, deleted or unreadable now: left out
            }
        }
        List<InterfaceMetrics> interfaces = List.of();
        try {
            interfaces = Metrics.interfaces(task(pod, "get metrics of sandbox").stats(sandboxId, QUICK).getStats());
        } catch (TtrpcException | BackendException | InvalidProtocolBufferException e) {
            // no interfaces from the shim: read the namespace below
        }
        if (interfaces.isEmpty()) {
            Properties p = pod.props;
            interfaces = NetworkNamespaces.podInterfaces(sandboxId, NetworkNamespaces.ofPod(
                    Boolean.parseBoolean(p.getProperty("hostNetwork")), BundleProperties.path(p, "netns"), pod.pid()));
        }
        return new PodMetrics(sandboxId, ctrs, interfaces);
    }

    private static Usage usage(Pod pod, String id, String what) {
        try {
            var r = task(pod, "get stats of " + what).stats(id, QUICK);
            return Metrics.decode(r.getStats(), Instant.now());
        } catch (TtrpcException e) {
            throw e.toBackend("get stats of " + what, id);
        } catch (InvalidProtocolBufferException e) {
            throw new BackendException(Kind.INTERNAL, "failed to get stats of " + what + " \"" + id + "\": "
                    + e.getMessage());
        }
    }
}
