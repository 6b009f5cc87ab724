package dev.berth.kata;

import dev.berth.kata.shim.EventsServer;
import dev.berth.kata.shim.ShimLauncher;
import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import dev.berth.spi.BackendFeatures;
import dev.berth.spi.BackendHealth;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.EventSource;
import dev.berth.spi.ExecResult;
import dev.berth.spi.LinuxResources;
import dev.berth.spi.LogReopening;
import dev.berth.spi.PodMetricsSource;
import dev.berth.spi.PortForwarding;
import dev.berth.spi.Recoverable;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.SandboxStatus;
import dev.berth.spi.StatsProvider;
import dev.berth.spi.StreamingIo;
import java.io.IOException;
import java.nio.channels.ByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A kata handler: each pod is one shim v2 process (for Kata, one VM) that runs the pod's sandbox (pause)
 * container and all its containers, driven over one ttrpc connection. This class is the SPI's face of it and
 * delegates: {@link ShimPods} (pods, their shims, recovery), {@link ShimContainers} (containers), {@link ShimEvents},
 * {@link ShimExec} (exec, exec sync), {@link ShimAttach}, {@link ShimStats} and {@link KataHealth}; {@link ShimRegistry} holds
 * what they share.
 *
 * <h2>On-disk state</h2>
 * Every task has a bundle {@code <stateDir>/bundles/<id>} (shims require the directory name to be the id):
 * {@code config.json}, {@code rootfs/} (the shim mounts the {@link dev.berth.spi.MountSpec}s there),
 * {@code berth.properties} ({@link BundleProperties}: what berth needs after a restart), FIFOs
 * {@code stdout}/{@code stderr}; the sandbox bundle also has the shim's {@code log} FIFO and the {@code address}
 * file the shim writes. Nothing else is needed to recover: the shim keeps the truth about tasks, read back with
 * {@code State}.
 *
 * <h2>Locks</h2>
 * One lock per pod serialises lifecycle changes of that pod and its containers (create, stop, remove);
 * status, stats and exec calls run concurrently over the shared connection.
 */
final class KataBackend implements RuntimeBackend, Recoverable, StatsProvider, PodMetricsSource, EventSource,
        StreamingIo, LogReopening, PortForwarding {
    private final KataOptions options;
    private final EventsServer events;
    private final ShimEvents shimEvents;
    private final ShimPods pods;
    private final ShimContainers containers;
    private final ShimExec exec;
    private final ShimAttach attach;
    private final ShimStats stats;

    KataBackend(KataOptions options, BackendContext context) {
        this.options = options;
        Path bundles = context.stateDir().resolve("bundles");
        Path execs = context.stateDir().resolve("execs");
        Path eventsSocket = context.stateDir().resolve("events.ttrpc");
        ShimLauncher launcher = new ShimLauncher(options.shim(),
                context.stateDir().resolve("berth-shim.sock").toString(), eventsSocket, options.shimDebug());
        ShimRegistry registry = new ShimRegistry();
        this.containers = new ShimContainers(options, context.logger(), bundles, launcher, registry);
        this.pods = new ShimPods(options, context.logger(), bundles, launcher, registry, containers);
        this.exec = new ShimExec(options, context.logger(), execs, registry);
        this.attach = new ShimAttach(context.logger(), registry, containers);
        this.stats = new ShimStats(registry);
        try {
            Files.createDirectories(bundles);
            Files.createDirectories(execs);
            this.shimEvents = new ShimEvents(context, registry);
            this.events = EventsServer.start(eventsSocket, shimEvents::accept);
        } catch (IOException e) {
            throw new BackendException(Kind.UNAVAILABLE, "failed to start the events server of kata handler \""
                    + options.handler() + "\": " + e.getMessage());
        }
    }

    @Override
    public BackendFeatures features() {
        return KataHealth.features(options);
    }

    @Override
    public BackendHealth health() {
        return KataHealth.health(options);
    }

    @Override
    public SandboxStatus createSandbox(SandboxSpec spec) {
        return pods.create(spec);
    }

    @Override
    public void startSandbox(String sandboxId) {
        pods.start(sandboxId);
    }

    @Override
    public void stopSandbox(String sandboxId, Duration timeout) {
        pods.stop(sandboxId, timeout);
    }

    @Override
    public SandboxStatus sandboxStatus(String sandboxId) {
        return pods.status(sandboxId);
    }

    @Override
    public void removeSandbox(String sandboxId) {
        pods.remove(sandboxId);
    }

    @Override
    public ContainerStatus createContainer(ContainerSpec spec) {
        return containers.create(spec);
    }

    @Override
    public void startContainer(String containerId) {
        containers.start(containerId);
    }

    @Override
    public void stopContainer(String containerId, Duration timeout) {
        containers.stop(containerId, timeout);
    }

    @Override
    public ContainerStatus containerStatus(String containerId) {
        return containers.status(containerId);
    }

    @Override
    public void removeContainer(String containerId) {
        containers.remove(containerId);
    }

    @Override
    public void updateContainer(String containerId, LinuxResources resources) {
        containers.update(containerId, resources);
    }

    @Override
    public void reopenLog(String containerId) {
        containers.reopenLog(containerId);
    }

    @Override
    public ExecResult execSync(String containerId, List<String> command, Duration timeout) {
        return exec.execSync(containerId, command, timeout);
    }

    @Override
    public int exec(String containerId, List<String> command, Streams io) {
        return exec.exec(containerId, command, io);
    }

    @Override
    public void attach(String containerId, Streams io) {
        attach.attach(containerId, io);
    }

    @Override
    public ByteChannel connect(String sandboxId, int port) {
        return pods.connect(sandboxId, port);
    }

    @Override
    public ContainerUsage containerStats(String containerId) {
        return stats.containerStats(containerId);
    }

    @Override
    public SandboxUsage sandboxStats(String sandboxId) {
        return stats.sandboxStats(sandboxId);
    }

    @Override
    public PodMetrics podMetrics(String sandboxId) {
        return stats.podMetrics(sandboxId);
    }

    @Override
    public Report recover(List<String> sandboxIds, List<String> containerIds) {
        List<String> lost = new ArrayList<>();
        pods.recover(sandboxIds, lost);
        containers.recover(containerIds, lost);
        return new Report(lost);
    }

    @Override
    public void close() {
        events.close();
        shimEvents.close();
        pods.close();
        containers.close();
    }
}
