package dev.berth.runc;

import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendFeatures;
import dev.berth.spi.BundleRunning;
import dev.berth.spi.BackendHealth;
import dev.berth.spi.Checkpointing;
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
import dev.berth.spi.SandboxResizing;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.SandboxStatus;
import dev.berth.spi.StatsProvider;
import dev.berth.spi.StreamingIo;
import java.nio.channels.ByteChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * One handler of type {@code runc}. A sandbox owns the pod's namespaces and cgroup, and workload containers join
 * its namespaces. By default a pod has no pause container: its network namespace is core's, its UTS and IPC
 * namespaces are pinned by {@link PodNamespaces} (which also writes its sysctls), and a pod-wide pid namespace has
 * {@link PauseProcess} as its init ({@code drop_infra_container = false} gives every pod a pause container). Every
 * container, a pause one included, has a bundle under {@code <state>/b/<id>} and its own conmon, which outlives berth; what
 * berth needs after a restart is kept in {@link StateStore} records, runc's state and conmon's exit files.
 *
 * <p>Operations on one container or sandbox are serialised by a per-id lock; different ids run in parallel.
 *
 * <p>This class is the SPI's face and only delegates: {@link RuncSandboxes} and {@link RuncContainers} hold the
 * lifecycles, {@link ContainerProcesses} the state and stopping of what conmon supervises, {@link Bundles} the
 * bundle directories, {@link ConmonExec} what runs through conmon, {@link ContainerIo} streams and logs,
 * {@link PodStats} usage and metrics, {@link Recovery} what survives a restart; {@link HandlerState} is what they
 * share.
 */
public final class RuncBackend implements RuntimeBackend, Recoverable, LogReopening, StatsProvider, EventSource,
        SandboxResizing, StreamingIo, PortForwarding, Checkpointing, PodMetricsSource, BundleRunning {
    private final HandlerState state;
    private final ContainerProcesses processes;
    private final RuncSandboxes sandboxes;
    private final RuncContainers containers;
    private final ConmonExec conmonExec;
    private final ContainerIo io;
    private final PodStats stats;
    private final Recovery recovery;
    private final ExitWatcher watcher;
    private final BundleContainers bundleContainers;

    RuncBackend(String handler, RuncOptions options, BackendContext context) {
        this.state = new HandlerState(handler, options, context);
        this.processes = new ContainerProcesses(state);
        Bundles bundles = new Bundles(state);
        this.conmonExec = new ConmonExec(state, processes);
        this.recovery = new Recovery(state, processes, bundles);
        this.containers = new RuncContainers(state, processes, bundles, conmonExec, recovery);
        this.sandboxes = new RuncSandboxes(state, processes, bundles, conmonExec, containers, recovery);
        this.io = new ContainerIo(state, processes, conmonExec, sandboxes);
        this.stats = new PodStats(state);
        this.watcher = new ExitWatcher(state.exits, recovery::onExit, state.log);
        this.bundleContainers = new BundleContainers(state);
    }

    // ---- features and health -------------------------------------------------------------------------------

    @Override
    public BackendFeatures features() {
        return state.features();
    }

    @Override
    public BackendHealth health() {
        return HostChecks.health(state.options);
    }

    // ---- sandboxes -----------------------------------------------------------------------------------------

    @Override
    public BackendFeatures.Pod podFeatures(SandboxSpec spec) {
        return sandboxes.podFeatures(spec);
    }

    @Override
    public SandboxStatus createSandbox(SandboxSpec spec) {
        return sandboxes.createSandbox(spec);
    }

    @Override
    public void startSandbox(String sandboxId) {
        sandboxes.startSandbox(sandboxId);
    }

    @Override
    public void stopSandbox(String sandboxId, Duration timeout) {
        sandboxes.stopSandbox(sandboxId, timeout);
    }

    @Override
    public SandboxStatus sandboxStatus(String sandboxId) {
        return sandboxes.sandboxStatus(sandboxId);
    }

    @Override
    public void removeSandbox(String sandboxId) {
        sandboxes.removeSandbox(sandboxId);
    }

    @Override
    public void updateSandboxResources(String sandboxId, LinuxResources overhead, LinuxResources resources) {
        sandboxes.updateSandboxResources(sandboxId, overhead, resources);
    }

    // ---- containers ----------------------------------------------------------------------------------------

    @Override
    public ContainerStatus createContainer(ContainerSpec spec) {
        return containers.createContainer(spec);
    }

    @Override
    public void startContainer(String containerId) {
        containers.startContainer(containerId);
    }

    @Override
    public void stopContainer(String containerId, Duration timeout) {
        containers.stopContainer(containerId, timeout);
    }

    @Override
    public ContainerStatus containerStatus(String containerId) {
        return processes.containerStatus(containerId);
    }

    @Override
    public void removeContainer(String containerId) {
        containers.removeContainer(containerId);
    }

    @Override
    public void updateContainer(String containerId, LinuxResources resources) {
        containers.updateContainer(containerId, resources);
    }

    @Override
    public ExecResult execSync(String containerId, List<String> command, Duration timeout) {
        return conmonExec.execSync(containerId, command, timeout);
    }

    // ---- capabilities --------------------------------------------------------------------------------------

    @Override
    public void reopenLog(String containerId) {
        io.reopenLog(containerId);
    }

    @Override
    public int exec(String containerId, List<String> command, Streams streams) {
        return io.exec(containerId, command, streams);
    }

    @Override
    public void attach(String containerId, Streams streams) {
        io.attach(containerId, streams);
    }

    @Override
    public ByteChannel connect(String sandboxId, int port) {
        return io.connect(sandboxId, port);
    }

    /** CRIU through the runtime; see {@link Checkpoints}. */
    @Override
    public void checkpoint(String containerId, Path location) {
        containers.checkpoint(containerId, location);
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
        return recovery.recover(sandboxIds, containerIds);
    }

    // ---- bundles a client prepared (the containerd 0.2 API): see BundleContainers -------------------------

    @Override
    public long createBundle(String id, Path bundle, Stdio stdio) {
        return bundleContainers.create(id, bundle, stdio);
    }

    @Override
    public long addProcess(String id, String processId, ProcessSpec process) {
        return bundleContainers.addProcess(id, processId, process);
    }

    @Override
    public void signal(String id, long pid, int signal) {
        bundleContainers.signal(id, pid, signal);
    }

    @Override
    public void pause(String id, boolean paused) {
        bundleContainers.pause(id, paused);
    }

    @Override
    public BundleStatus bundleStatus(String id) {
        return bundleContainers.status(id);
    }

    @Override
    public BundleRunning.BundleStats bundleStats(String id) {
        return bundleContainers.stats(id);
    }

    @Override
    public void deleteBundle(String id) {
        bundleContainers.delete(id);
    }

    @Override
    public void checkpointBundle(String id, Path directory, CheckpointOptions options) {
        bundleContainers.checkpoint(id, directory, options);
    }

    @Override
    public List<String> recoverBundles(List<String> ids) {
        return bundleContainers.recover(ids);
    }

    @Override
    public void bundleEvents(java.util.function.Consumer<BundleEvent> sink) {
        bundleContainers.events(sink);
    }

    @Override
    public void close() {
        watcher.close();
        bundleContainers.close();
    }

    /** The bundle directory of a container or sandbox (for tests). */
    Path bundle(String id) {
        return state.bundle(id);
    }
}
