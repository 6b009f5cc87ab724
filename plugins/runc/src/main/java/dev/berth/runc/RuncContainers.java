package dev.berth.runc;

import dev.berth.oci.BundleSpecs;
import dev.berth.oci.RuntimeErrors;
import dev.berth.oci.CreatedLogs;
import dev.berth.oci.LinuxBackend;
import dev.berth.oci.MountSources;
import dev.berth.oci.ProcessRunner;
import dev.berth.oci.spec.Devices;
import dev.berth.oci.spec.OciJson;
import dev.berth.oci.spec.RuntimeSpec;
import dev.berth.runc.StateStore.ContainerRecord;
import dev.berth.runc.StateStore.SandboxRecord;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.LinuxResources;
import dev.berth.spi.NamespaceMode;
import dev.berth.spi.Namespaces;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Workload containers: create (bundle, log joiner, conmon running the runtime's create in the pod's namespaces),
 * start (through berth-runsc's stand-in for gVisor), stop, status, removal, resource updates and checkpoints.
 */
final class RuncContainers implements LinuxBackend.Containers {
    private static final System.Logger LOG = System.getLogger(RuncContainers.class.getName());
    private final HandlerState state;
    private final RuncOptions options;
    private final RuntimeCli cli;
    private final Recovery recovery;
    private final ContainerProcesses processes;
    private final Bundles bundleFiles;
    private final ConmonExec conmonExec;

    RuncContainers(HandlerState state, ContainerProcesses processes, Bundles bundleFiles, ConmonExec conmonExec,
                   Recovery recovery) {
        this.state = state;
        this.options = state.options;
        this.cli = state.cli;
        this.recovery = recovery;
        this.processes = processes;
        this.bundleFiles = bundleFiles;
        this.conmonExec = conmonExec;
    }

    @Override
    public ContainerStatus create(ContainerSpec spec) {
        String id = spec.id();
        SandboxRecord sb = state.sandboxes.get(spec.sandboxId());
        if (sb == null) {
            throw BackendException.notFound("sandbox", spec.sandboxId());
        }
        ReentrantLock lock = state.lock(id);
        lock.lock();
        Deque<Runnable> undo = new ArrayDeque<>();
        try {
            if (state.containers.containsKey(id) || state.sandboxes.containsKey(id)) {
                throw new BackendException(Kind.ALREADY_EXISTS, "container \"" + id + "\" already exists");
            }
            state.requirePrograms("create container", id);
            // The pause process is alive while conmon has written no exit file for it (no runtime call needed).
            boolean ready = sb.pins().isEmpty()
                    ? sb.pausePid() > 0 && processes.exit(sb.id()).isEmpty()
                            && Files.exists(Path.of("/proc", Long.toString(sb.pausePid()), "ns", "net"))
                    : PinnedPods.pinnedReady(state, sb);
            if (!ready) {
                throw new BackendException(Kind.FAILED_PRECONDITION, "failed to create container \"" + id
                        + "\": sandbox \"" + sb.id() + "\" is not ready");
            }
            long targetPid = 0;
            Namespaces ns = spec.security().namespaces();
            if (ns.pid() == NamespaceMode.TARGET) {
                if (!state.containers.containsKey(ns.targetId())) {
                    throw BackendException.notFound("target container", ns.targetId());
                }
                targetPid = processes.processStatus(ns.targetId(), null, null, null).pid();
            }
            OciSpecs.Pod pod = new OciSpecs.Pod(sb.id(), sb.cgroupParent(), sb.pausePid(),
                    sb.netnsPath().isEmpty() ? null : Path.of(sb.netnsPath()),
                    new Namespaces(NamespaceMode.valueOf(sb.network()), NamespaceMode.valueOf(sb.pid()),
                            NamespaceMode.valueOf(sb.ipc()), "", null),
                    HandlerState.path(sb.resolvConf()), HandlerState.path(sb.hostsFile()),
                    HandlerState.path(sb.hostnameFile()), sb.supplementalGroups(),
                    targetPid, HandlerState.path(sb.shm()), HandlerState.path(sb.pins()));
            HugePageSizes.check("failed to create container \"" + id + "\"", spec.resources().hugepageLimits(),
                    HugePageSizes.host());
            RuntimeSpec config = OciSpecs.container(withResources(spec, SwapLimits.apply(spec.resources(),
                    SwapLimits.accounted())), pod, state.host(), Devices.of(id, spec,
                    state.options.privilegedWithoutHostDevices()));
            MountSources.ensure(id, spec.mounts());
            for (var m : spec.mounts()) {
                if (m.propagation() == dev.berth.spi.ContainerMount.Propagation.BIDIRECTIONAL) {
                    try {
                        Mounts.ensureShared(Path.of(m.hostPath()));
                    } catch (IOException e) {
                        throw new BackendException(Kind.FAILED_PRECONDITION, "failed to create container \"" + id
                                + "\": bidirectional mount of " + m.hostPath() + " needs a shared mount: "
                                + e.getMessage());
                    }
                }
            }
            String logPath = spec.logPath().isEmpty() ? "/dev/null" : spec.logPath();
            if (!spec.logPath().isEmpty()) {
                try {
                    Files.createDirectories(Path.of(spec.logPath()).getParent());
                } catch (IOException e) {
                    throw new BackendException(Kind.FAILED_PRECONDITION, "failed to create container \"" + id
                            + "\": cannot create log directory: " + e.getMessage());
                }
                Runnable removeLog = CreatedLogs.removalIfNew(spec.logPath());
                if (removeLog != null) {
                    undo.push(removeLog);
                }
            }
            bundleFiles.newBundle("container", id, undo);
            // The joiner starts (a few ms: a process that forks) while the root file system is mounted.
            LogJoiner.Starting joiner = null;
            if (!spec.logPath().isEmpty() && options.logJoiner().isPresent()) {
                LogJoiner.Starting starting = LogJoiner.startAsync(options.logJoiner().get(), state.bundle(id),
                        logPath);
                undo.push(starting::cancel);
                joiner = starting;
            }
            bundleFiles.fillBundle("container", id, spec.rootfs(), config);
            String cgroupsPath = config.linux().cgroupsPath();
            if (!options.systemdCgroup()) {
                undo.push(() -> Cgroups.remove(cgroupsPath));
            }
            String conmonLog = logPath;
            if (joiner != null) {
                try {
                    conmonLog = joiner.await().toString();
                } catch (IOException e) {
                    // A log file the joiner cannot open (a log directory in /proc, one on a read-only file system)
                    // is where the request put it, not berth's fault.
                    String why = String.valueOf(e.getMessage());
                    Kind kind = why.contains("cannot open " + logPath + ":") ? Kind.FAILED_PRECONDITION : Kind.INTERNAL;
                    throw new BackendException(kind, "failed to create container \"" + id + "\": cannot start "
                            + LogJoiner.PROGRAM + ": " + why);
                }
            }
            long pid = conmonExec.launch("create container", id, spec.name(), conmonLog, spec.tty(), spec.stdin(),
                    spec.stdin() && !spec.stdinOnce(), undo);
            ContainerRecord rec = new ContainerRecord(id, sb.id(), spec.name(), Instant.now().toString(), null,
                    spec.logPath(), spec.image().stopSignal(), options.systemdCgroup() ? "" : cgroupsPath, pid);
            state.persist(rec, "create container");
            state.containers.put(id, rec);
            if (!options.runsc()) {
                state.createdHere.add(id);
            }
            undo.clear();
            return new ContainerStatus(id, ContainerStatus.State.CREATED, StateStore.time(rec.createdAt()), null,
                    null, 0, "", "", pid, processes.containerInfo(id, pid, cgroupsPath));
        } finally {
            state.rollback(undo);
            state.endCreate(id, lock);
        }
    }

    @Override
    public void start(String containerId) {
        ReentrantLock lock = state.lockIfKnown(containerId);
        if (lock == null) {
            throw BackendException.notFound("container", containerId);
        }
        lock.lock();
        try {
            ContainerRecord rec = state.requireContainer(containerId);
            state.createdHere.remove(containerId);
            // Only a never-started container without an exit file can be started; the runtime checks the rest.
            ProcessRunner.Result r = rec.startedAt() != null || processes.exit(containerId).isPresent() ? null
                    : RunscShim.standIn(state.bundle(containerId)) ? startThroughStandIn(containerId, rec.pid())
                    : cli.run(List.of("start", containerId));
            if (r == null || !r.ok()) {
                ContainerStatus st = processes.containerStatus(containerId);
                if (st.state() != ContainerStatus.State.CREATED) {
                    throw new BackendException(Kind.FAILED_PRECONDITION, "failed to start container \""
                            + containerId + "\": it is " + st.state().name().toLowerCase(java.util.Locale.ROOT)
                            + ", not created");
                }
                throw new BackendException(Kind.INTERNAL, "failed to start container \"" + containerId + "\": "
                        + (r == null ? "it cannot be started" : r.errorText()));
            }
            ContainerRecord started = rec.started(Instant.now());
            state.persist(started, "start container");
            state.containers.put(containerId, started);
        } finally {
            lock.unlock();
        }
    }

    /** gVisor: a container that joined a pod's sandbox is started by its berth-runsc stand-in ({@link RunscShim}). */
    private ProcessRunner.Result startThroughStandIn(String containerId, long standIn) {
        try {
            int status = RunscShim.start(state.bundle(containerId), standIn, ConmonExec.CREATE_TIMEOUT);
            return new ProcessRunner.Result(status, "", status == 0 ? "" : "runsc start exited with status " + status
                    + " (its message is in the container's log)", false);
        } catch (IOException e) {
            return new ProcessRunner.Result(255, "", e.getMessage(), false);
        }
    }

    @Override
    public void stop(String containerId, Duration timeout) {
        ContainerRecord rec = state.containers.get(containerId);
        if (rec == null) {
            return;
        }
        ReentrantLock lock = state.lockIfKnown(containerId);
        if (lock == null) {
            return; // removed meanwhile
        }
        // The grace period is waited out without the lock: a stop with a shorter timeout, or a remove, goes ahead.
        ContainerProcesses.Grace grace = null;
        lock.lock();
        try {
            ContainerRecord current = state.containers.get(containerId);
            if (current == null) {
                return;
            }
            if (timeout.toMillis() > 0) {
                grace = processes.signalStop(containerId, current.stopSignal(), current.startedPid());
            }
        } finally {
            lock.unlock();
        }
        if (grace != null) {
            processes.awaitGrace(containerId, timeout, grace);
        }
        lock.lock();
        try {
            ContainerRecord current = state.containers.get(containerId);
            if (current != null) {
                processes.kill("stop container", containerId, current.startedPid());
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public ContainerStatus status(String containerId) {
        return processes.containerStatus(containerId);
    }

    @Override
    public void remove(String containerId) {
        if (!state.containers.containsKey(containerId)) {
            recovery.removeLeftovers("remove container", containerId);
            return;
        }
        ReentrantLock lock = state.lock(containerId);
        lock.lock();
        try {
            ContainerRecord rec = state.containers.get(containerId);
            if (rec == null) {
                return;
            }
            processes.stopProcess("remove container", containerId, rec.stopSignal(), Duration.ZERO, rec.startedPid());
            if (options.runsc()) {
                // gVisor's gofer serves the root file system until runsc has deleted the container: in turn
                processes.destroy(containerId);
                bundleFiles.cleanupBundle("remove container", containerId);
            } else {
                bundleFiles.cleanupBundle("remove container", containerId, () -> processes.destroy(containerId));
            }
            if (!rec.cgroupsPath().isEmpty()) {
                Cgroups.remove(rec.cgroupsPath());
            }
            try {
                state.store.deleteContainer(containerId);
            } catch (IOException e) {
                throw new BackendException(Kind.INTERNAL, "failed to remove container \"" + containerId + "\": "
                        + e.getMessage());
            }
            state.containers.remove(containerId);
            state.execSpecs.forget(containerId);
        } finally {
            lock.unlock();
            state.locks.remove(containerId);
        }
    }

    @Override
    public void update(String containerId, LinuxResources resources) {
        state.requireContainer(containerId);
        ContainerStatus st = processes.containerStatus(containerId);
        if (st.state() == ContainerStatus.State.EXITED) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "failed to update container \"" + containerId
                    + "\": it has exited");
        }
        HugePageSizes.check("failed to update container \"" + containerId + "\"", resources.hugepageLimits(),
                HugePageSizes.host());
        resources = SwapLimits.apply(resources, SwapLimits.accounted());
        Path file = state.bundle(containerId).resolve("update-" + System.nanoTime() + ".json");
        try {
            var oci = OciResources.updateResources(resources);
            Files.write(file, OciJson.writeBytes(oci));
            ProcessRunner.Result r = cli.run(List.of("update", "--resources", file.toString(), containerId));
            if (!r.ok()) {
                throw new BackendException(RuntimeErrors.kindOf(r.errorText()), "failed to update container \""
                        + containerId + "\": " + RuntimeErrors.message(r.errorText()));
            }
            try {
                BundleSpecs.updateResources(state.bundle(containerId), oci);
            } catch (IOException e) {
                // the limits are in force; only the spec a verbose status shows is behind them
                LOG.log(System.Logger.Level.WARNING, "container " + containerId + ": resources updated, but its "
                        + "config.json still holds the old ones: " + e.getMessage());
            }
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to update container \"" + containerId + "\": "
                    + e.getMessage());
        } finally {
            Conmon.deleteQuietly(file);
        }
    }

    /** {@code spec} with other resources; {@code spec} itself when they are the same. */
    static ContainerSpec withResources(ContainerSpec spec, LinuxResources resources) {
        if (resources == spec.resources()) {
            return spec;
        }
        return new ContainerSpec(spec.id(), spec.sandboxId(), spec.name(), spec.attempt(), spec.image(),
                spec.command(), spec.args(), spec.workingDir(), spec.env(), spec.mounts(), spec.devices(),
                spec.labels(), spec.annotations(), spec.logPath(), spec.stdin(), spec.stdinOnce(), spec.tty(),
                resources, spec.security(), spec.rootfs(), spec.raw());
    }

    /** CRIU through the runtime; see {@link Checkpoints}. */
    void checkpoint(String containerId, Path location) {
        state.requireContainer(containerId);
        String criu = Checkpoints.criuProblem();
        if (criu != null) {
            throw BackendException.unimplemented("failed to checkpoint container \"" + containerId
                    + "\": CRIU does not work on this host: " + criu);
        }
        processes.requireRunning(containerId, "checkpoint");
        Checkpoints.checkpoint(cli, state.bundle(containerId), containerId, location);
    }
}
