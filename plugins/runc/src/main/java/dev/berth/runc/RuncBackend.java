package dev.berth.runc;

import dev.berth.oci.BundleSpecs;
import dev.berth.oci.LinuxBackend;
import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendFeatures;
import dev.berth.spi.BundleRunning;
import dev.berth.spi.Checkpointing;
import dev.berth.spi.LinuxResources;
import dev.berth.spi.SandboxEventSource;
import dev.berth.spi.SandboxResizing;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.SpecReading;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

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
 * <p>This class wires the parts behind the SPI face the Linux plugins share ({@link LinuxBackend}) and adds what
 * only runc offers (per-pod features, pod resizing, checkpoints): {@link RuncSandboxes} and {@link RuncContainers}
 * hold the lifecycles, {@link ContainerProcesses} the state and stopping of what conmon supervises, {@link Bundles} the
 * bundle directories, {@link ConmonExec} what runs through conmon, {@link RuntimeExec} the exec probes, {@link ContainerIo} streams and logs,
 * {@link PodStats} usage and metrics, {@link Recovery} what survives a restart, {@link BundleContainers} the bundles
 * a client prepared (the containerd 0.2 API); {@link HandlerState} is what they share.
 */
public final class RuncBackend extends LinuxBackend implements SandboxResizing, Checkpointing, BundleRunning,
        SandboxEventSource, SpecReading {
    private final HandlerState state;
    private final RuncSandboxes sandboxes;
    private final RuncContainers containers;
    private final BundleContainers bundleContainers;

    RuncBackend(String handler, RuncOptions options, BackendContext context) {
        HandlerState state = new HandlerState(handler, options, context);
        ContainerProcesses processes = new ContainerProcesses(state);
        Bundles bundles = new Bundles(state);
        ConmonExec conmonExec = new ConmonExec(state, processes);
        RuntimeExec runtimeExec = new RuntimeExec(state, processes);
        Recovery recovery = new Recovery(state, processes, bundles);
        RuncContainers containers = new RuncContainers(state, processes, bundles, conmonExec, recovery);
        RuncSandboxes sandboxes = new RuncSandboxes(state, processes, bundles, conmonExec, containers, recovery);
        ContainerIo io = new ContainerIo(state, processes, conmonExec, sandboxes);
        ExitWatcher watcher = new ExitWatcher(state.exits, state.exitSignals, recovery::onExit, state.log);
        BundleContainers bundleRuns = new BundleContainers(state);
        super(new Parts(state::features, () -> HostChecks.health(state.options), sandboxes, containers,
                options.runsc() || RuntimeExec.PATH.isEmpty() ? conmonExec::execSync : runtimeExec::execSync,
                io::exec, io::attach, io::reopenLog, io::connect, new PodStats(state), recovery::recover, () -> {
                    watcher.close();
                    runtimeExec.close();
                    state.pauses.close();
                    bundleRuns.close();
                }));
        state.pauses.onEnd(recovery::onSandboxEnd);
        this.state = state;
        this.sandboxes = sandboxes;
        this.containers = containers;
        this.bundleContainers = bundleRuns;
        // Launchers an earlier berth left waiting (killed in the middle of a launch), off the start's path.
        Thread.ofVirtual().name("berth-runc-launchers").start(() -> {
            int killed = Conmon.killOrphanedLaunchers(context.stateDir());
            if (killed > 0) {
                state.log.log(System.Logger.Level.WARNING, "handler \"{0}\": killed {1} conmon launcher(s) an "
                        + "earlier berth left waiting", handler, killed);
            }
        });
    }

    /** The bundle's config.json, as runc was given it at create. */
    @Override
    public Optional<String> containerRuntimeSpec(String containerId) {
        state.requireContainer(containerId);
        return BundleSpecs.read(state.bundle(containerId), "container \"" + containerId + "\"");
    }

    /** The pause container's config.json; empty for a pod without one (its namespaces pinned, no pause). */
    @Override
    public Optional<String> sandboxRuntimeSpec(String sandboxId) {
        state.requireSandbox(sandboxId);
        return BundleSpecs.read(state.bundle(sandboxId), "sandbox \"" + sandboxId + "\"");
    }

    /** A pause container's end is published (its conmon's exit file), a berth-pause process's where it is watched. */
    @Override
    public boolean reportsEnd(String sandboxId) {
        return sandboxes.reportsEnd(sandboxId);
    }

    @Override
    public BackendFeatures.Pod podFeatures(SandboxSpec spec) {
        return sandboxes.podFeatures(spec);
    }

    @Override
    public void updateSandboxResources(String sandboxId, LinuxResources overhead, LinuxResources resources) {
        sandboxes.updateSandboxResources(sandboxId, overhead, resources);
    }

    /** CRIU through the runtime; see {@link Checkpoints}. */
    @Override
    public void checkpoint(String containerId, Path location) {
        containers.checkpoint(containerId, location);
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

    /** The bundle directory of a container or sandbox (for tests). */
    Path bundle(String id) {
        return state.bundle(id);
    }
}
