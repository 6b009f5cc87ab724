package dev.berth.runc;

import dev.berth.oci.RuntimeErrors;
import dev.berth.oci.Libc;
import dev.berth.oci.LinuxBackend;
import dev.berth.oci.ProcessRunner;
import dev.berth.runc.StateStore.ContainerRecord;
import dev.berth.runc.StateStore.SandboxRecord;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import dev.berth.spi.BackendFeatures;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.LinuxResources;
import dev.berth.spi.NamespaceMode;
import dev.berth.spi.Namespaces;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.SandboxStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Sandboxes: a pod's bundle, /dev/shm and cgroup, and either its pause container (run by conmon like any
 * container) or its pinned namespaces ({@link PinnedPods}) with an optional {@link PauseProcess}; their start,
 * stop, status and removal, which stop and remove the pod's containers first.
 */
final class RuncSandboxes implements LinuxBackend.Sandboxes {
    /** A file in a sandbox bundle: its pause process was started, or a pod without one is (see status). */
    static final String STARTED = "started";
    /** The directory in a sandbox bundle that holds its pinned namespaces when it has no pause container. */
    static final String PINS = "ns";

    private final HandlerState state;
    private final RuncOptions options;
    private final RuntimeCli cli;
    private final System.Logger log;
    private final Recovery recovery;
    private final ContainerProcesses processes;
    private final Bundles bundleFiles;
    private final ConmonExec conmonExec;
    private final RuncContainers workloads;

    RuncSandboxes(HandlerState state, ContainerProcesses processes, Bundles bundleFiles, ConmonExec conmonExec,
                  RuncContainers workloads, Recovery recovery) {
        this.state = state;
        this.options = state.options;
        this.cli = state.cli;
        this.log = state.log;
        this.recovery = recovery;
        this.processes = processes;
        this.bundleFiles = bundleFiles;
        this.conmonExec = conmonExec;
        this.workloads = workloads;
    }

    /**
     * Only a pause container runs from the sandbox image; a pod without one needs no root file system. The pause
     * container only joins the pod's network namespace, so CNI can run while it is created. Pods with network
     * sysctls keep the old order: runc writes them at create, and they must land after the plugins' own.
     */
    BackendFeatures.Pod podFeatures(SandboxSpec spec) {
        return new BackendFeatures.Pod(!PinnedPods.withoutPause(options, spec),
                spec.sysctls().keySet().stream().anyMatch(k -> k.startsWith("net.")));
    }

    @Override
    public SandboxStatus create(SandboxSpec spec) {
        String id = spec.id();
        String slice = options.systemdCgroup() ? podSlice(spec) : null;
        ReentrantLock lock = state.lock(id);
        lock.lock();
        Deque<Runnable> undo = new ArrayDeque<>();
        try {
            if (slice != null) {
                try {
                    state.slices.creating(slice);
                } catch (IOException e) {
                    throw new BackendException(Kind.INTERNAL, "failed to create sandbox \"" + id + "\": "
                            + e.getMessage());
                }
            }
            if (state.sandboxes.containsKey(id) || state.containers.containsKey(id)) {
                throw new BackendException(Kind.ALREADY_EXISTS, "sandbox \"" + id + "\" already exists");
            }
            Path bundle = state.bundle(id);
            Namespaces ns = spec.security().namespaces();
            PodSysctls.validate(id, spec.sysctls(), ns);
            // The pod's /dev/shm: a tmpfs in the bundle shared by all its containers, or the host's for host IPC.
            Path shm = ns.ipc() == NamespaceMode.NODE ? Path.of("/dev/shm") : bundle.resolve("shm");
            String podCgroup = options.systemdCgroup() ? "" : OciResources.podCgroup(spec.cgroupParent(), id);
            boolean pinned = PinnedPods.withoutPause(options, spec);
            if (pinned) {
                bundleFiles.newBundle("sandbox", id, undo);
            } else {
                state.requirePrograms("create sandbox", id);
                bundleFiles.prepareBundle("sandbox", id, spec.rootfs(), OciSpecs.sandbox(spec, state.host(), shm),
                        undo);
            }
            bundleFiles.noteCgroup(id, podCgroup);
            mountShm(id, ns, shm);
            if (!podCgroup.isEmpty()) {
                undo.push(() -> Cgroups.remove(podCgroup));
            }
            long pid = 0;
            if (pinned) {
                try {
                    PodNamespaces.pin(bundle.resolve(PINS), PinnedPods.pinKinds(ns.network(), ns.ipc()),
                            spec.hostNetwork() ? "" : spec.hostname());
                    if (!podCgroup.isEmpty()) {
                        Cgroups.create(podCgroup);
                    }
                    PinnedPods.writeSysctls(id, bundle.resolve(PINS), spec.hostNetwork() ? null : spec.netnsPath(),
                            spec.sysctls());
                    if (ns.pid() == NamespaceMode.POD) {
                        Path program = options.pauseProcess().orElseThrow();
                        if (!Files.isExecutable(program)) {
                            throw new BackendException(Kind.UNAVAILABLE, "failed to create sandbox \"" + id
                                    + "\": " + program + " is not installed or not executable");
                        }
                        undo.push(() -> PauseProcess.kill(bundle, bundle.resolve(PINS)));
                        pid = PauseProcess.start(program, bundle, bundle.resolve(PINS),
                                spec.hostNetwork() ? null : spec.netnsPath(),
                                Math.max(-998, state.ownOomScoreAdjustment()), podCgroup + "/" + id);
                        long started = pid;
                        if (state.pauses.watch(id, started,
                                () -> PauseProcess.alive(started, bundle.resolve(PINS)))) {
                            undo.push(() -> state.pauses.unwatch(id));
                        }
                    }
                } catch (IOException e) {
                    throw new BackendException(Kind.INTERNAL, "failed to create sandbox \"" + id + "\": "
                            + e.getMessage());
                }
            } else {
                pid = conmonExec.launch("create sandbox", id, "pause", bundle.resolve("pause.log").toString(), false,
                        false, false, undo);
            }
            SandboxRecord rec = new SandboxRecord(id, Instant.now().toString(), spec.cgroupParent(), podCgroup,
                    spec.netnsPath() == null ? "" : spec.netnsPath().toString(), ns.network().name(),
                    ns.pid().name(), ns.ipc().name(), HandlerState.str(spec.resolvConf()),
                    HandlerState.str(spec.hostsFile()), HandlerState.str(spec.hostnameFile()),
                    spec.security().supplementalGroups(), pid, shm.toString(), pinned ? bundle.resolve(PINS).toString() : "");
            if (!podCgroup.isEmpty()) {
                applyPodLimits(id, podCgroup, spec.overhead(), spec.resources());
            }
            state.persist(rec, "create sandbox");
            state.sandboxes.put(id, rec);
            undo.clear();
            return new SandboxStatus(id, SandboxStatus.State.NOTREADY, StateStore.time(rec.createdAt()), 0,
                    info(rec));
        } finally {
            state.rollback(undo);
            state.endCreate(id, lock);
            if (slice != null) {
                state.slices.created(slice);
            }
        }
    }

    /** The systemd driver's slice for a pod: its cgroup parent must name one. */
    private static String podSlice(SandboxSpec spec) {
        try {
            return SystemdCgroups.slice(spec.cgroupParent());
        } catch (IllegalArgumentException e) {
            throw BackendException.invalid("failed to create sandbox \"" + spec.id() + "\": " + e.getMessage());
        }
    }

    /** Mounts the pod's shared /dev/shm at {@code shm}, unless the pod uses the host's IPC namespace. */
    private static void mountShm(String id, Namespaces ns, Path shm) {
        if (ns.ipc() == NamespaceMode.NODE) {
            return;
        }
        try {
            Files.createDirectories(shm);
            Mounts.mount("shm", shm, "tmpfs", Libc.MS_NOSUID | Libc.MS_NODEV | Libc.MS_NOEXEC,
                    "mode=1777,size=65536k");
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to create sandbox \"" + id
                    + "\": cannot mount the pod's /dev/shm: " + e.getMessage());
        }
    }

    @Override
    public void start(String sandboxId) {
        ReentrantLock lock = state.lockIfKnown(sandboxId);
        if (lock == null) {
            throw BackendException.notFound("sandbox", sandboxId);
        }
        lock.lock();
        try {
            SandboxRecord rec = state.requireSandbox(sandboxId);
            if (!rec.pins().isEmpty()) {
                if (!PinnedPods.pinsHold(rec)) {
                    throw new BackendException(Kind.FAILED_PRECONDITION, "failed to start sandbox \"" + sandboxId
                            + "\": its namespaces are gone (was the node rebooted?)");
                }
                if (!PinnedPods.pauseProcessLives(rec)) {
                    throw new BackendException(Kind.FAILED_PRECONDITION, "failed to start sandbox \"" + sandboxId
                            + "\": its pause process (pid " + rec.pausePid() + ") has exited");
                }
                markStarted(sandboxId);
                return;
            }
            // Try first, ask later: the status costs a runtime call, and a created sandbox is the usual case.
            ProcessRunner.Result r = processes.exit(sandboxId).isPresent() ? null
                    : cli.run(List.of("start", sandboxId));
            if (r != null && r.ok()) {
                markStarted(sandboxId);
            }
            if (r == null || !r.ok()) {
                ContainerStatus st = processes.processStatus(sandboxId, null, null, null);
                if (st.state() == ContainerStatus.State.RUNNING) {
                    markStarted(sandboxId);
                    return;
                }
                if (st.state() != ContainerStatus.State.CREATED) {
                    throw new BackendException(Kind.FAILED_PRECONDITION, "failed to start sandbox \"" + sandboxId
                            + "\": its pause container is " + st.state().name().toLowerCase(java.util.Locale.ROOT));
                }
                throw new BackendException(Kind.INTERNAL, "failed to start sandbox \"" + sandboxId + "\": "
                        + (r == null ? "its pause container has exited" : r.errorText()));
            }
        } finally {
            lock.unlock();
        }
    }

    /** A marker that the pause process was started, for the status fast path; losing it only costs speed. */
    private void markStarted(String sandboxId) {
        try {
            Files.writeString(state.bundle(sandboxId).resolve(STARTED), "");
        } catch (IOException e) {
            log.log(System.Logger.Level.DEBUG, "cannot mark sandbox {0} started: {1}", sandboxId, e.getMessage());
        }
    }

    @Override
    public void stop(String sandboxId, Duration timeout) {
        if (!state.sandboxes.containsKey(sandboxId)) {
            return;
        }
        for (ContainerRecord c : state.containersOf(sandboxId)) {
            workloads.stop(c.id(), timeout);
        }
        ReentrantLock lock = state.lockIfKnown(sandboxId);
        if (lock == null) {
            return; // removed meanwhile
        }
        lock.lock();
        try {
            SandboxRecord rec = state.sandboxes.get(sandboxId);
            if (rec != null && !rec.pins().isEmpty()) {
                PauseProcess.kill(state.bundle(sandboxId), Path.of(rec.pins()));
                try {
                    Files.deleteIfExists(state.bundle(sandboxId).resolve(STARTED));
                } catch (IOException e) {
                    throw new BackendException(Kind.INTERNAL, "failed to stop sandbox \"" + sandboxId + "\": "
                            + e.getMessage());
                }
            } else if (rec != null) {
                processes.stopProcess("stop sandbox", sandboxId, "", timeout, startedPausePid(rec));
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public SandboxStatus status(String sandboxId) {
        SandboxRecord rec = state.requireSandbox(sandboxId);
        if (!rec.pins().isEmpty()) {
            boolean ready = PinnedPods.pinnedReady(state, rec);
            return new SandboxStatus(sandboxId, ready ? SandboxStatus.State.READY : SandboxStatus.State.NOTREADY,
                    StateStore.time(rec.createdAt()), ready ? rec.pausePid() : 0, info(rec));
        }
        ContainerStatus pause = processes.processStatus(sandboxId, rec.createdAt(), null, null, startedPausePid(rec));
        boolean ready = pause.state() == ContainerStatus.State.RUNNING;
        return new SandboxStatus(sandboxId, ready ? SandboxStatus.State.READY : SandboxStatus.State.NOTREADY,
                StateStore.time(rec.createdAt()), ready ? pause.pid() : 0, info(rec));
    }

    /**
     * Whether the sandbox's end is published as an event: for a pause container (conmon writes its exit file, which
     * {@link ExitWatcher} sees), for pinned namespaces alone (no process to end), and for a berth-pause process
     * {@link PauseWatcher} watches (it does wherever the kernel has pidfds) or that has ended already (while berth
     * was down: its status says so, and stays so).
     */
    boolean reportsEnd(String sandboxId) {
        SandboxRecord rec = state.requireSandbox(sandboxId);
        return rec.pins().isEmpty() || rec.pausePid() == 0 || state.pauses.watching(sandboxId)
                || (state.pauses.available() && !PinnedPods.pauseProcessLives(rec)); // it ended: nothing to report
    }

    /** The pause container's pid if berth started it (its status then needs no runtime call), else 0. */
    private long startedPausePid(SandboxRecord rec) {
        return Files.exists(state.bundle(rec.id()).resolve(STARTED)) ? rec.pausePid() : 0;
    }

    /**
     * A sandbox's status info, shown by verbose status and {@code berth explain} (keys in the plugin's README):
     * {@code runtime}, {@code bundle}, {@code cgroup} (the pod cgroup, with the cgroupfs driver); with a pause
     * container also {@code conmon_pid} and {@code runtime_pid} (the pause process as conmon reported it), for a pod
     * with pinned namespaces {@code pause} (its berth-pause process, if it has one).
     */
    private Map<String, String> info(SandboxRecord rec) {
        Map<String, String> info;
        if (rec.pins().isEmpty()) {
            info = processes.info(rec.id());
            if (rec.pausePid() > 0) {
                info.put("runtime_pid", Long.toString(rec.pausePid()));
            }
        } else {
            info = new LinkedHashMap<>();
            info.put("runtime", options.binary().toString());
            info.put("bundle", state.bundle(rec.id()).toString());
            info.put("pause", rec.pausePid() == 0 ? "none (namespaces pinned)"
                    : PauseProcess.PROGRAM + " (pid " + rec.pausePid() + ", namespaces pinned)");
        }
        if (!rec.podCgroup().isEmpty()) {
            info.put("cgroup", rec.podCgroup());
        }
        return info;
    }

    @Override
    public void remove(String sandboxId) {
        if (!state.sandboxes.containsKey(sandboxId)) {
            recovery.removeLeftovers("remove sandbox", sandboxId);
            return;
        }
        stop(sandboxId, Duration.ZERO);
        for (ContainerRecord c : state.containersOf(sandboxId)) {
            workloads.remove(c.id());
        }
        ReentrantLock lock = state.lock(sandboxId);
        lock.lock();
        SandboxRecord removed = null;
        try {
            SandboxRecord rec = state.sandboxes.get(sandboxId);
            if (rec == null) {
                return;
            }
            if (rec.pins().isEmpty()) {
                processes.destroy(sandboxId);
            } else {
                state.pauses.unwatch(sandboxId);
                PauseProcess.kill(state.bundle(sandboxId), Path.of(rec.pins()));
            }
            bundleFiles.cleanupBundle("remove sandbox", sandboxId);
            if (!rec.podCgroup().isEmpty()) {
                List<Path> left = Cgroups.remove(rec.podCgroup());
                if (!left.isEmpty()) {
                    throw new BackendException(Kind.INTERNAL, "failed to remove sandbox \"" + sandboxId
                            + "\": cgroup still busy: " + left.getFirst());
                }
            }
            try {
                state.store.deleteSandbox(sandboxId);
            } catch (IOException e) {
                throw new BackendException(Kind.INTERNAL, "failed to remove sandbox \"" + sandboxId + "\": "
                        + e.getMessage());
            }
            state.sandboxes.remove(sandboxId);
            removed = rec;
        } finally {
            lock.unlock();
            state.locks.remove(sandboxId);
        }
        if (removed != null && options.systemdCgroup()) {
            String slice = PodSlices.sliceOf(removed);
            if (slice != null) {
                state.slices.removed(slice);
            }
        }
    }

    void updateSandboxResources(String sandboxId, LinuxResources overhead, LinuxResources resources) {
        SandboxRecord rec = state.requireSandbox(sandboxId);
        if (!rec.podCgroup().isEmpty()) {
            applyPodLimits(sandboxId, rec.podCgroup(), overhead, resources);
        }
    }

    /** Pod-level limits: the sum of overhead and the containers' resources, on the pod cgroup. */
    private void applyPodLimits(String sandboxId, String podCgroup, LinuxResources overhead, LinuxResources res) {
        try {
            Cgroups.applyPodLimits(podCgroup, overhead, res);
        } catch (IOException e) {
            throw new BackendException(RuntimeErrors.kindOf(e.getMessage()), "failed to update sandbox resources \""
                    + sandboxId + "\": " + e.getMessage());
        }
    }
}
