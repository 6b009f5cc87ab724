package dev.berth.hcs;

import dev.berth.hcs.bind.Bindings;
import dev.berth.hcs.layer.LayerStore;
import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendFeatures;
import dev.berth.spi.BackendHealth;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.ExecResult;
import dev.berth.spi.LinuxResources;
import dev.berth.spi.LogReopening;
import dev.berth.spi.Recoverable;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.SandboxStatus;
import dev.berth.spi.StatsProvider;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * Windows containers through the Host Compute Service, process-isolated. This class is the SPI's face; the work is
 * done by {@link HcsPods}, {@link HcsContainers} (with {@link HcsInit}), {@link HcsExec}, {@link HcsStats},
 * {@link HcsRecovery} and {@link HcsHealth}, over the known pods and containers ({@link HcsRegistry}) and their
 * records ({@link HcsState}).
 *
 * <p><b>Pods.</b> A pod is a compute system of its own run from the sandbox (pause) image, holding the pod's HNS
 * namespace, as hcsshim does for process isolation ("a real task for the sandbox", {@code pod.go}); each app
 * container is another compute system (a silo) naming the same namespace in {@code Networking.Namespace}. When
 * core hands over an HNS namespace (the netns path's last element is its GUID) the pod uses it; otherwise the
 * backend creates one and deletes it with the pod.
 *
 * <p><b>Processes.</b> A container's init process is created with stdout and stderr pipes that are copied into
 * its CRI log file; its exit arrives as a ProcessExited event with the exit code. Stop is CtrlShutdown, then
 * {@code HcsTerminateProcess} after the grace period, then the compute system is shut down, and terminated if it
 * does not go within the handler's shutdown timeout.
 *
 * <p><b>Restarts.</b> Compute systems outlive berth (berth never asks HCS to terminate them when its handle
 * closes). The backend keeps one small JSON record per pod and container in its state directory and, on
 * {@link #recover}, opens every system by id and every running init process by pid. Exit codes seen while berth
 * ran are in exit files next to the records.
 */
final class HcsBackend implements RuntimeBackend, Recoverable, StatsProvider, LogReopening {
    private final HcsEnv env;
    private final BackendFeatures features;
    private final HcsRegistry registry = new HcsRegistry();
    private final HcsHealth health;
    private final HcsPods pods;
    private final HcsContainers containers;
    private final HcsExec exec;
    private final HcsStats stats;
    private final HcsRecovery recovery;

    HcsBackend(String handler, HcsOptions options, BackendContext context, Bindings bindings, int hostProcessors) {
        this.env = new HcsEnv(handler, options, context, bindings, Math.max(1, hostProcessors), Clock.systemUTC(),
                new HcsState(context), new LayerStore(bindings.layers(), bindings.backups(),
                        context.rootDir().resolve("layers"), context.stateDir().toString()));
        // Where HCS is missing, the backend runs nothing from images: core then pulls no image and prepares no
        // root file system for a pod that createSandbox refuses anyway. The answer holds for the backend's life.
        this.features = new BackendFeatures(false, false, BackendFeatures.CgroupDriver.CGROUPFS, bindings.available(),
                options.sandboxImage());
        HcsInit init = new HcsInit(env, null);
        this.health = new HcsHealth(env);
        this.containers = new HcsContainers(env, registry, init);
        this.pods = new HcsPods(env, registry, containers);
        this.exec = new HcsExec(env, registry);
        this.stats = new HcsStats(env, registry);
        this.recovery = new HcsRecovery(env, registry, init);
    }

    // ---- features and health

    @Override
    public BackendFeatures features() {
        return features;
    }

    @Override
    public BackendFeatures.Pod podFeatures(SandboxSpec spec) {
        // The holder runs from the sandbox image; CNI attaches its HNS endpoint before the system is created, so
        // that HCS gives the silo the namespace's adapters at create.
        return env.bindings().available() ? new BackendFeatures.Pod(true, true) : new BackendFeatures.Pod(false, false);
    }

    @Override
    public BackendHealth health() {
        return health.check();
    }

    // ---- sandboxes

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

    // ---- containers

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
        containers.update(containerId);
    }

    @Override
    public ExecResult execSync(String containerId, List<String> command, Duration timeout) {
        return exec.execSync(containerId, command, timeout);
    }

    // ---- stats

    @Override
    public ContainerUsage containerStats(String containerId) {
        return stats.container(containerId);
    }

    @Override
    public SandboxUsage sandboxStats(String sandboxId) {
        return stats.sandbox(sandboxId);
    }

    // ---- recovery

    @Override
    public void reopenLog(String containerId) {
        containers.reopenLog(containerId);
    }

    @Override
    public Report recover(List<String> sandboxIds, List<String> containerIds) {
        return recovery.recover(sandboxIds, containerIds);
    }

    @Override
    public void close() {
        registry.close();
    }
}
