package dev.berth.runc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.oci.FileTrees;
import dev.berth.oci.Libc;
import dev.berth.oci.ProcessRunner;
import dev.berth.oci.Processes;
import dev.berth.runc.StateStore.ContainerRecord;
import dev.berth.runc.StateStore.SandboxRecord;
import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendEvent;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import dev.berth.spi.BackendFeatures;
import dev.berth.spi.BackendHealth;
import dev.berth.spi.Checkpointing;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.EventSource;
import dev.berth.spi.ExecResult;
import dev.berth.spi.LinuxResources;
import dev.berth.spi.LogReopening;
import dev.berth.spi.NamespaceMode;
import dev.berth.spi.Namespaces;
import dev.berth.spi.Recoverable;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxResizing;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.SandboxStatus;
import dev.berth.spi.PodMetricsSource;
import dev.berth.spi.StatsProvider;
import dev.berth.spi.StreamingIo;
import dev.berth.spi.PortForwarding;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One handler of type {@code runc}. A sandbox owns the pod's namespaces and cgroup, and workload containers join
 * its namespaces. By default a pod has no pause container: its network namespace is core's, its UTS and IPC
 * namespaces are pinned by {@link PodNamespaces} (which also writes its sysctls), and a pod-wide pid namespace has
 * {@link PauseProcess} as its init ({@code drop_infra_container = false} gives every pod a pause container). Every
 * container, a pause one included, has a bundle under {@code <state>/b/<id>} and its own conmon, which outlives berth; what
 * berth needs after a restart is kept in {@link StateStore} records, runc's state and conmon's exit files.
 *
 * <p>Operations on one container or sandbox are serialised by a per-id lock; different ids run in parallel.
 */
public final class RuncBackend implements RuntimeBackend, Recoverable, LogReopening, StatsProvider, EventSource,
        SandboxResizing, StreamingIo, PortForwarding, Checkpointing, PodMetricsSource {
    private static final Duration CREATE_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration KILL_WAIT = Duration.ofSeconds(60);
    /** How long an exit waits for the log joiner to finish writing (it normally takes a millisecond or two). */
    private static final Duration JOIN_WAIT = Duration.ofSeconds(1);
    /** A file in a sandbox bundle: its pause process was started, or a pod without one is (see sandboxStatus). */
    private static final String STARTED = "started";
    /** The directory in a sandbox bundle that holds its pinned namespaces when it has no pause container. */
    private static final String PINS = "ns";
    /** A file in a sandbox bundle naming the pod cgroup (cgroupfs driver). */
    private static final String CGROUP = "cgroup";
    /** The ids core hands out; only such an id names a bundle that a removal may clean up. */
    private static final java.util.regex.Pattern HEX_ID = java.util.regex.Pattern.compile("[0-9a-f]{64}");

    private final String handler;
    private final RuncOptions options;
    private final BackendContext context;
    private final System.Logger log;
    private final StateStore store;
    private final Path bundles;
    private final Path exits;
    private final Path attach;
    private final OciSpecs.Host host;
    private final Map<String, SandboxRecord> sandboxes = new ConcurrentHashMap<>();
    private final Map<String, ContainerRecord> containers = new ConcurrentHashMap<>();
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
    private final ExitWatcher watcher;
    private final RuntimeCli cli;
    private volatile BackendFeatures features;

    RuncBackend(String handler, RuncOptions options, BackendContext context) {
        this.handler = handler;
        this.options = options;
        this.context = context;
        this.log = context.logger();
        Path state = context.stateDir();
        try {
            this.store = new StateStore(state);
            this.bundles = Files.createDirectories(state.resolve("b"));
            this.exits = Files.createDirectories(state.resolve("exits"));
            this.attach = Files.createDirectories(state.resolve("a"));
            Files.createDirectories(options.root());
        } catch (IOException e) {
            throw new BackendException(Kind.UNAVAILABLE, "failed to prepare state directory for runtime handler \""
                    + handler + "\": " + e.getMessage());
        }
        this.cli = new RuntimeCli(options);
        this.host = new OciSpecs.Host(ownOomScoreAdj(), false, options.systemdCgroup(), RuncBackend::readJson,
                grantable(options));
        load();
        this.watcher = new ExitWatcher(exits, this::onExit, log);
    }

    /** Capabilities added since Linux 5.8, which runsc 2022-12 refuses ("unknown capability \"CAP_PERFMON\""). */
    private static final java.util.Set<String> UNKNOWN_TO_RUNSC = java.util.Set.of("CAP_PERFMON", "CAP_BPF",
            "CAP_CHECKPOINT_RESTORE");

    /**
     * The capabilities a container may get: the host's bounding set; for runsc without those its gVisor kernel
     * does not know (a privileged or ALL-capabilities container would not start at all).
     */
    private static java.util.Set<String> grantable(RuncOptions options) {
        java.util.Set<String> caps = OciSpecs.Host.boundingSet();
        if (!options.runsc()) {
            return caps;
        }
        return caps.stream().filter(c -> !UNKNOWN_TO_RUNSC.contains(c))
                .collect(java.util.stream.Collectors.toUnmodifiableSet());
    }

    private void load() {
        for (String id : store.sandboxIds()) {
            store.sandbox(id).ifPresent(r -> sandboxes.put(id, r));
        }
        for (String id : store.containerIds()) {
            store.container(id).ifPresent(r -> containers.put(id, r));
        }
    }

    // ---- features and health -------------------------------------------------------------------------------

    @Override
    public BackendFeatures features() {
        BackendFeatures f = features;
        if (f == null) {
            f = HostChecks.features(options);
            features = f;
        }
        return f;
    }

    @Override
    public BackendHealth health() {
        return HostChecks.health(options);
    }

    /** The host facts for spec generation, with rro support known once features() has been asked. */
    private OciSpecs.Host host() {
        return new OciSpecs.Host(host.ownOomScoreAdj(), features().recursiveReadOnlyMounts(), host.systemdCgroup(),
                host.seccompLoader(), host.grantableCaps());
    }

    // ---- sandboxes -----------------------------------------------------------------------------------------

    /**
     * Only a pause container runs from the sandbox image; a pod without one needs no root file system. The pause
     * container only joins the pod's network namespace, so CNI can run while it is created. Pods with network
     * sysctls keep the old order: runc writes them at create, and they must land after the plugins' own.
     */
    @Override
    public BackendFeatures.Pod podFeatures(SandboxSpec spec) {
        return new BackendFeatures.Pod(!withoutPause(spec),
                spec.sysctls().keySet().stream().anyMatch(k -> k.startsWith("net.")));
    }

    @Override
    public SandboxStatus createSandbox(SandboxSpec spec) {
        String id = spec.id();
        ReentrantLock lock = lock(id);
        lock.lock();
        Deque<Runnable> undo = new ArrayDeque<>();
        try {
            if (sandboxes.containsKey(id) || containers.containsKey(id)) {
                throw new BackendException(Kind.ALREADY_EXISTS, "sandbox \"" + id + "\" already exists");
            }
            Path bundle = bundle(id);
            Namespaces ns = spec.security().namespaces();
            PodSysctls.validate(id, spec.sysctls(), ns);
            // The pod's /dev/shm: a tmpfs in the bundle shared by all its containers, or the host's for host IPC.
            Path shm = ns.ipc() == NamespaceMode.NODE ? Path.of("/dev/shm") : bundle.resolve("shm");
            String podCgroup = options.systemdCgroup() ? "" : OciSpecs.podCgroup(spec.cgroupParent(), id);
            boolean pinned = withoutPause(spec);
            if (pinned) {
                newBundle("sandbox", id, undo);
            } else {
                requirePrograms("create sandbox", id);
                prepareBundle("sandbox", id, spec.rootfs(), OciSpecs.sandbox(spec, host(), shm), undo);
            }
            noteCgroup(id, podCgroup);
            mountShm(id, ns, shm);
            if (!podCgroup.isEmpty()) {
                undo.push(() -> Cgroups.remove(podCgroup));
            }
            long pid = 0;
            if (pinned) {
                try {
                    PodNamespaces.pin(bundle.resolve(PINS), pinKinds(ns.network(), ns.ipc()),
                            spec.hostNetwork() ? "" : spec.hostname());
                    if (!podCgroup.isEmpty()) {
                        Cgroups.create(podCgroup);
                    }
                    writeSysctls(id, bundle.resolve(PINS), spec.hostNetwork() ? null : spec.netnsPath(),
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
                                Math.max(-998, host.ownOomScoreAdj()), podCgroup + "/" + id);
                    }
                } catch (IOException e) {
                    throw new BackendException(Kind.INTERNAL, "failed to create sandbox \"" + id + "\": "
                            + e.getMessage());
                }
            } else {
                pid = launch("create sandbox", id, "pause", bundle.resolve("pause.log").toString(), false, false,
                        false, undo);
            }
            SandboxRecord rec = new SandboxRecord(id, Instant.now().toString(), spec.cgroupParent(), podCgroup,
                    spec.netnsPath() == null ? "" : spec.netnsPath().toString(), ns.network().name(),
                    ns.pid().name(), ns.ipc().name(), str(spec.resolvConf()), str(spec.hostsFile()),
                    str(spec.hostnameFile()), spec.security().supplementalGroups(), pid, shm.toString(),
                    pinned ? bundle.resolve(PINS).toString() : "");
            if (!podCgroup.isEmpty()) {
                applyPodLimits(id, podCgroup, spec.overhead(), spec.resources());
            }
            persist(rec, "create sandbox");
            sandboxes.put(id, rec);
            undo.clear();
            return new SandboxStatus(id, SandboxStatus.State.NOTREADY, StateStore.time(rec.createdAt()), 0,
                    Map.of("runtime", options.binary().toString(), "bundle", bundle.toString(), "cgroup", podCgroup));
        } finally {
            rollback(undo);
            lock.unlock();
        }
    }

    /**
     * Whether a pod can go without a pause container: the handler allows it, and nothing needs one. Its network
     * namespace is core's (or the host's); its UTS and IPC namespaces are pinned ({@link PodNamespaces}), and its
     * sysctls written into them ({@link PodNamespaces#writeSysctls}). A pod-wide pid namespace needs an init
     * process: {@link PauseProcess} (with the cgroupfs driver, which puts it in the pod cgroup). A pod without a
     * pinned network namespace keeps a pause container.
     */
    private boolean withoutPause(SandboxSpec spec) {
        return options.dropInfraContainer()
                && (spec.security().namespaces().pid() != NamespaceMode.POD
                        || (options.pauseProcess().isPresent() && !options.systemdCgroup()))
                && (spec.hostNetwork() || spec.netnsPath() != null);
    }

    /** Writes a pod's (validated) sysctls into its pinned namespaces; the kernel's refusal is the caller's error. */
    private static void writeSysctls(String id, Path pins, Path netns, Map<String, String> sysctls) {
        try {
            PodNamespaces.writeSysctls(pins, netns, sysctls);
        } catch (IOException e) {
            throw BackendException.invalid("failed to create sandbox \"" + id + "\": " + e.getMessage());
        }
    }

    /** The namespaces a pod without a pause container pins: UTS unless host network, IPC unless host IPC. */
    private static List<PodNamespaces.Kind> pinKinds(NamespaceMode network, NamespaceMode ipc) {
        List<PodNamespaces.Kind> kinds = new ArrayList<>();
        if (network != NamespaceMode.NODE) {
            kinds.add(PodNamespaces.Kind.UTS);
        }
        if (ipc != NamespaceMode.NODE) {
            kinds.add(PodNamespaces.Kind.IPC);
        }
        return kinds;
    }

    /** Whether the namespaces a pod without a pause container pinned are still there (a reboot drops them). */
    private static boolean pinsHold(SandboxRecord rec) {
        return PodNamespaces.pinned(Path.of(rec.pins()),
                pinKinds(NamespaceMode.valueOf(rec.network()), NamespaceMode.valueOf(rec.ipc())));
    }

    /**
     * A pod without a pause container is ready from its start until its stop, while its namespaces are pinned and
     * its pause process, if it has one, lives.
     */
    private boolean pinnedReady(SandboxRecord rec) {
        return Files.exists(bundle(rec.id()).resolve(STARTED)) && pinsHold(rec) && pauseProcessLives(rec);
    }

    /** Whether a pod without a pause container has no pause process or has it still running. */
    private static boolean pauseProcessLives(SandboxRecord rec) {
        return rec.pausePid() == 0 || PauseProcess.alive(rec.pausePid(), Path.of(rec.pins()));
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
    public void startSandbox(String sandboxId) {
        ReentrantLock lock = lock(sandboxId);
        lock.lock();
        try {
            SandboxRecord rec = requireSandbox(sandboxId);
            if (!rec.pins().isEmpty()) {
                if (!pinsHold(rec)) {
                    throw new BackendException(Kind.FAILED_PRECONDITION, "failed to start sandbox \"" + sandboxId
                            + "\": its namespaces are gone (was the node rebooted?)");
                }
                if (!pauseProcessLives(rec)) {
                    throw new BackendException(Kind.FAILED_PRECONDITION, "failed to start sandbox \"" + sandboxId
                            + "\": its pause process (pid " + rec.pausePid() + ") has exited");
                }
                markStarted(sandboxId);
                return;
            }
            // Try first, ask later: the status costs a runtime call, and a created sandbox is the usual case.
            ProcessRunner.Result r = exit(sandboxId).isPresent() ? null : cli.run(List.of("start", sandboxId));
            if (r != null && r.ok()) {
                markStarted(sandboxId);
            }
            if (r == null || !r.ok()) {
                ContainerStatus st = processStatus(sandboxId, null, null, null);
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
            Files.writeString(bundle(sandboxId).resolve(STARTED), "");
        } catch (IOException e) {
            log.log(System.Logger.Level.DEBUG, "cannot mark sandbox {0} started: {1}", sandboxId, e.getMessage());
        }
    }

    @Override
    public void stopSandbox(String sandboxId, Duration timeout) {
        if (!sandboxes.containsKey(sandboxId)) {
            return;
        }
        for (ContainerRecord c : containersOf(sandboxId)) {
            stopContainer(c.id(), timeout);
        }
        ReentrantLock lock = lock(sandboxId);
        lock.lock();
        try {
            SandboxRecord rec = sandboxes.get(sandboxId);
            if (rec != null && !rec.pins().isEmpty()) {
                PauseProcess.kill(bundle(sandboxId), Path.of(rec.pins()));
                try {
                    Files.deleteIfExists(bundle(sandboxId).resolve(STARTED));
                } catch (IOException e) {
                    throw new BackendException(Kind.INTERNAL, "failed to stop sandbox \"" + sandboxId + "\": "
                            + e.getMessage());
                }
            } else if (rec != null) {
                stopProcess("stop sandbox", sandboxId, "", timeout);
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public SandboxStatus sandboxStatus(String sandboxId) {
        SandboxRecord rec = requireSandbox(sandboxId);
        if (!rec.pins().isEmpty()) {
            boolean ready = pinnedReady(rec);
            return new SandboxStatus(sandboxId, ready ? SandboxStatus.State.READY : SandboxStatus.State.NOTREADY,
                    StateStore.time(rec.createdAt()), ready ? rec.pausePid() : 0,
                    Map.of("runtime", options.binary().toString(), "bundle", bundle(sandboxId).toString(),
                            "cgroup", rec.podCgroup(), "pause", rec.pausePid() == 0 ? "none (namespaces pinned)"
                                    : PauseProcess.PROGRAM + " (pid " + rec.pausePid() + ", namespaces pinned)"));
        }
        ContainerStatus pause = processStatus(sandboxId, rec.createdAt(), null, null,
                Files.exists(bundle(sandboxId).resolve(STARTED)) ? rec.pausePid() : 0);
        boolean ready = pause.state() == ContainerStatus.State.RUNNING;
        return new SandboxStatus(sandboxId, ready ? SandboxStatus.State.READY : SandboxStatus.State.NOTREADY,
                StateStore.time(rec.createdAt()), ready ? pause.pid() : 0,
                Map.of("runtime", options.binary().toString(), "bundle", bundle(sandboxId).toString(),
                        "cgroup", rec.podCgroup()));
    }

    @Override
    public void removeSandbox(String sandboxId) {
        if (!sandboxes.containsKey(sandboxId)) {
            removeLeftovers("remove sandbox", sandboxId);
            return;
        }
        stopSandbox(sandboxId, Duration.ZERO);
        for (ContainerRecord c : containersOf(sandboxId)) {
            removeContainer(c.id());
        }
        ReentrantLock lock = lock(sandboxId);
        lock.lock();
        try {
            SandboxRecord rec = sandboxes.get(sandboxId);
            if (rec == null) {
                return;
            }
            if (rec.pins().isEmpty()) {
                destroy(sandboxId);
            } else {
                PauseProcess.kill(bundle(sandboxId), Path.of(rec.pins()));
            }
            cleanupBundle("remove sandbox", sandboxId);
            if (!rec.podCgroup().isEmpty()) {
                List<Path> left = Cgroups.remove(rec.podCgroup());
                if (!left.isEmpty()) {
                    throw new BackendException(Kind.INTERNAL, "failed to remove sandbox \"" + sandboxId
                            + "\": cgroup still busy: " + left.getFirst());
                }
            }
            try {
                store.deleteSandbox(sandboxId);
            } catch (IOException e) {
                throw new BackendException(Kind.INTERNAL, "failed to remove sandbox \"" + sandboxId + "\": "
                        + e.getMessage());
            }
            sandboxes.remove(sandboxId);
        } finally {
            lock.unlock();
            locks.remove(sandboxId);
        }
    }

    @Override
    public void updateSandboxResources(String sandboxId, LinuxResources overhead, LinuxResources resources) {
        SandboxRecord rec = requireSandbox(sandboxId);
        if (!rec.podCgroup().isEmpty()) {
            applyPodLimits(sandboxId, rec.podCgroup(), overhead, resources);
        }
    }

    /** Pod-level limits: the sum of overhead and the containers' resources, on the pod cgroup. */
    private void applyPodLimits(String sandboxId, String podCgroup, LinuxResources overhead, LinuxResources res) {
        try {
            Cgroups.applyPodLimits(podCgroup, overhead, res);
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to update sandbox resources \"" + sandboxId + "\": "
                    + e.getMessage());
        }
    }

    // ---- containers ----------------------------------------------------------------------------------------

    @Override
    public ContainerStatus createContainer(ContainerSpec spec) {
        String id = spec.id();
        SandboxRecord sb = sandboxes.get(spec.sandboxId());
        if (sb == null) {
            throw BackendException.notFound("sandbox", spec.sandboxId());
        }
        ReentrantLock lock = lock(id);
        lock.lock();
        Deque<Runnable> undo = new ArrayDeque<>();
        try {
            if (containers.containsKey(id) || sandboxes.containsKey(id)) {
                throw new BackendException(Kind.ALREADY_EXISTS, "container \"" + id + "\" already exists");
            }
            requirePrograms("create container", id);
            // The pause process is alive while conmon has written no exit file for it (no runtime call needed).
            boolean ready = sb.pins().isEmpty()
                    ? sb.pausePid() > 0 && exit(sb.id()).isEmpty()
                            && Files.exists(Path.of("/proc", Long.toString(sb.pausePid()), "ns", "net"))
                    : pinnedReady(sb);
            if (!ready) {
                throw new BackendException(Kind.FAILED_PRECONDITION, "failed to create container \"" + id
                        + "\": sandbox \"" + sb.id() + "\" is not ready");
            }
            long targetPid = 0;
            Namespaces ns = spec.security().namespaces();
            if (ns.pid() == NamespaceMode.TARGET) {
                if (!containers.containsKey(ns.targetId())) {
                    throw BackendException.notFound("target container", ns.targetId());
                }
                targetPid = processStatus(ns.targetId(), null, null, null).pid();
            }
            OciSpecs.Pod pod = new OciSpecs.Pod(sb.id(), sb.cgroupParent(), sb.pausePid(),
                    sb.netnsPath().isEmpty() ? null : Path.of(sb.netnsPath()),
                    new Namespaces(NamespaceMode.valueOf(sb.network()), NamespaceMode.valueOf(sb.pid()),
                            NamespaceMode.valueOf(sb.ipc()), "", null),
                    path(sb.resolvConf()), path(sb.hostsFile()), path(sb.hostnameFile()), sb.supplementalGroups(),
                    targetPid, path(sb.shm()), path(sb.pins()));
            ObjectNode config = OciSpecs.container(spec, pod, host(), Devices.resolve(id, spec.devices()));
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
                    throw new BackendException(Kind.INTERNAL, "failed to create container \"" + id
                            + "\": cannot create log directory: " + e.getMessage());
                }
            }
            newBundle("container", id, undo);
            // The joiner starts (a few ms: a process that forks) while the root file system is mounted.
            LogJoiner.Starting joiner = null;
            if (!spec.logPath().isEmpty() && options.logJoiner().isPresent()) {
                LogJoiner.Starting starting = LogJoiner.startAsync(options.logJoiner().get(), bundle(id), logPath);
                undo.push(starting::cancel);
                joiner = starting;
            }
            fillBundle("container", id, spec.rootfs(), config);
            String cgroupsPath = config.path("linux").path("cgroupsPath").asText();
            if (!options.systemdCgroup()) {
                undo.push(() -> Cgroups.remove(cgroupsPath));
            }
            String conmonLog = logPath;
            if (joiner != null) {
                try {
                    conmonLog = joiner.await().toString();
                } catch (IOException e) {
                    throw new BackendException(Kind.INTERNAL, "failed to create container \"" + id
                            + "\": cannot start " + LogJoiner.PROGRAM + ": " + e.getMessage());
                }
            }
            long pid = launch("create container", id, spec.name(), conmonLog, spec.tty(), spec.stdin(),
                    spec.stdin() && !spec.stdinOnce(), undo);
            ContainerRecord rec = new ContainerRecord(id, sb.id(), spec.name(), Instant.now().toString(), null,
                    spec.logPath(), spec.image().stopSignal(), options.systemdCgroup() ? "" : cgroupsPath, pid);
            persist(rec, "create container");
            containers.put(id, rec);
            undo.clear();
            return new ContainerStatus(id, ContainerStatus.State.CREATED, StateStore.time(rec.createdAt()), null,
                    null, 0, "", "", pid, Map.of("bundle", bundle(id).toString(), "runtime",
                    options.binary().toString()));
        } finally {
            rollback(undo);
            lock.unlock();
        }
    }

    @Override
    public void startContainer(String containerId) {
        ReentrantLock lock = lock(containerId);
        lock.lock();
        try {
            ContainerRecord rec = requireContainer(containerId);
            // Only a never-started container without an exit file can be started; the runtime checks the rest.
            ProcessRunner.Result r = rec.startedAt() != null || exit(containerId).isPresent() ? null
                    : RunscShim.standIn(bundle(containerId)) ? startThroughStandIn(containerId, rec.pid())
                    : cli.run(List.of("start", containerId));
            if (r == null || !r.ok()) {
                ContainerStatus st = containerStatus(containerId);
                if (st.state() != ContainerStatus.State.CREATED) {
                    throw new BackendException(Kind.FAILED_PRECONDITION, "failed to start container \""
                            + containerId + "\": it is " + st.state().name().toLowerCase(java.util.Locale.ROOT)
                            + ", not created");
                }
                throw new BackendException(Kind.INTERNAL, "failed to start container \"" + containerId + "\": "
                        + (r == null ? "it cannot be started" : r.errorText()));
            }
            ContainerRecord started = rec.started(Instant.now());
            persist(started, "start container");
            containers.put(containerId, started);
        } finally {
            lock.unlock();
        }
    }

    /** gVisor: a container that joined a pod's sandbox is started by its berth-runsc stand-in ({@link RunscShim}). */
    private ProcessRunner.Result startThroughStandIn(String containerId, long standIn) {
        try {
            int status = RunscShim.start(bundle(containerId), standIn, CREATE_TIMEOUT);
            return new ProcessRunner.Result(status, "", status == 0 ? "" : "runsc start exited with status " + status
                    + " (its message is in the container's log)", false);
        } catch (IOException e) {
            return new ProcessRunner.Result(255, "", e.getMessage(), false);
        }
    }

    @Override
    public void stopContainer(String containerId, Duration timeout) {
        ContainerRecord rec = containers.get(containerId);
        if (rec == null) {
            return;
        }
        ReentrantLock lock = lock(containerId);
        lock.lock();
        try {
            if (containers.containsKey(containerId)) {
                stopProcess("stop container", containerId, rec.stopSignal(), timeout);
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public ContainerStatus containerStatus(String containerId) {
        ContainerRecord rec = containers.get(containerId);
        if (rec == null) {
            throw BackendException.notFound("container", containerId);
        }
        return processStatus(containerId, rec.createdAt(), rec.startedAt(), rec.cgroupsPath(),
                rec.startedAt() != null ? rec.pid() : 0);
    }

    @Override
    public void removeContainer(String containerId) {
        if (!containers.containsKey(containerId)) {
            removeLeftovers("remove container", containerId);
            return;
        }
        ReentrantLock lock = lock(containerId);
        lock.lock();
        try {
            ContainerRecord rec = containers.get(containerId);
            if (rec == null) {
                return;
            }
            stopProcess("remove container", containerId, rec.stopSignal(), Duration.ZERO);
            destroy(containerId);
            cleanupBundle("remove container", containerId);
            if (!rec.cgroupsPath().isEmpty()) {
                Cgroups.remove(rec.cgroupsPath());
            }
            try {
                store.deleteContainer(containerId);
            } catch (IOException e) {
                throw new BackendException(Kind.INTERNAL, "failed to remove container \"" + containerId + "\": "
                        + e.getMessage());
            }
            containers.remove(containerId);
        } finally {
            lock.unlock();
            locks.remove(containerId);
        }
    }

    @Override
    public void updateContainer(String containerId, LinuxResources resources) {
        requireContainer(containerId);
        ContainerStatus st = containerStatus(containerId);
        if (st.state() == ContainerStatus.State.EXITED) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "failed to update container \"" + containerId
                    + "\": it has exited");
        }
        Path file = bundle(containerId).resolve("update-" + System.nanoTime() + ".json");
        try {
            Files.write(file, OciSpecs.JSON.writeValueAsBytes(OciSpecs.updateResources(resources)));
            ProcessRunner.Result r = cli.run(List.of("update", "--resources", file.toString(), containerId));
            if (!r.ok()) {
                throw new BackendException(Kind.INTERNAL, "failed to update container \"" + containerId + "\": "
                        + r.errorText());
            }
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to update container \"" + containerId + "\": "
                    + e.getMessage());
        } finally {
            Conmon.deleteQuietly(file);
        }
    }

    @Override
    public ExecResult execSync(String containerId, List<String> command, Duration timeout) {
        ContainerRecord rec = requireContainer(containerId);
        if (command.isEmpty()) {
            throw BackendException.invalid("failed to exec in container \"" + containerId + "\": empty command");
        }
        if (containerStatus(containerId).state() != ContainerStatus.State.RUNNING) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "failed to exec in container \"" + containerId
                    + "\": it is not running");
        }
        Path bundle = bundle(containerId);
        String tag = "exec-" + System.nanoTime();
        Path spec = bundle.resolve(tag + ".json");
        Path logFile = bundle.resolve(tag + ".log");
        Path pidFile = bundle.resolve(tag + ".pid");
        try {
            JsonNode process = OciSpecs.JSON.readTree(bundle.resolve("config.json").toFile()).path("process");
            Files.write(spec, OciSpecs.JSON.writeValueAsBytes(OciSpecs.execProcess(process, command, false)));
            List<String> args = new ArrayList<>(List.of("-c", containerId, "-n", rec.name(), "-r",
                    runtimeForConmon(), "-p", pidFile.toString(), "-e", "-l", "k8s-file:" + logFile,
                    "--socket-dir-path", attach.toString(), "--sync", "--log-global-size-max", "16777216",
                    "--exec-process-spec", spec.toString()));
            boolean limited = !timeout.isZero() && !timeout.isNegative();
            if (limited) {
                // berth enforces the timeout itself (below), while conmon is still there to reap the killed
                // process; conmon's own -T is only a backstop should berth go away meanwhile.
                args.add("-T");
                args.add(Long.toString(Math.max(1, (timeout.toMillis() + 999) / 1000) + 10));
            }
            if (options.runsc()) {
                args.add("--runtime-arg");
                args.add("--runsc=" + options.binary());
            }
            args.addAll(cli.conmonArgs());
            Duration wait = limited ? timeout.plus(CREATE_TIMEOUT) : Duration.ofDays(365);
            java.util.concurrent.atomic.AtomicBoolean timedOut = new java.util.concurrent.atomic.AtomicBoolean();
            Thread killer = limited ? Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(timeout);
                    timedOut.set(true);
                    // The exec may still be starting: wait a little for its pid file.
                    for (int i = 0; i < 200 && !Files.exists(pidFile); i++) {
                        Thread.sleep(10);
                    }
                    killInSandbox(containerId, pidFile);
                    killExecProcess(pidFile);
                } catch (InterruptedException e) {
                    // The command finished in time.
                }
            }) : null;
            Conmon.Reply reply;
            try {
                reply = Conmon.launch(options.conmon(), args, bundle, "exit_code", wait);
            } catch (Conmon.Failure f) {
                if (f.timedOut || timedOut.get()) {
                    killInSandbox(containerId, pidFile);
                    killExecProcess(pidFile);
                    throw new BackendException(Kind.DEADLINE_EXCEEDED, "failed to exec in container \""
                            + containerId + "\": command timed out after " + timeout.toSeconds() + "s");
                }
                throw new BackendException(Kind.INTERNAL, "failed to exec in container \"" + containerId + "\": "
                        + f.getMessage());
            } finally {
                if (killer != null) {
                    killer.interrupt();
                }
            }
            if (timedOut.get()) {
                throw new BackendException(Kind.DEADLINE_EXCEEDED, "failed to exec in container \""
                        + containerId + "\": command timed out after " + timeout.toSeconds() + "s");
            }
            byte[][] out = CriLog.split(Files.exists(logFile) ? Files.readAllBytes(logFile) : new byte[0]);
            return new ExecResult(out[0], out[1], (int) reply.value());
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to exec in container \"" + containerId + "\": "
                    + e.getMessage());
        } finally {
            Conmon.deleteQuietly(spec);
            Conmon.deleteQuietly(logFile);
            Conmon.deleteQuietly(pidFile);
            Conmon.deleteQuietly(pidFile.resolveSibling(pidFile.getFileName() + ".internal"));
        }
    }

    /**
     * gVisor: an exec'd process lives inside the sandbox, and killing the host's {@code runsc exec} leaves it
     * running. berth-runsc has runsc write its pid in the sandbox beside the pid file; it is killed by that pid.
     */
    private void killInSandbox(String containerId, Path pidFile) {
        if (!options.runsc()) {
            return;
        }
        long pid = readPid(pidFile.resolveSibling(pidFile.getFileName() + ".internal"));
        if (pid > 0) {
            cli.run(List.of("kill", "--pid=" + pid, containerId, "SIGKILL"));
        }
    }

    /** Kills an exec'd process and its children; false if its pid file is not there (yet). */
    private static boolean killExecProcess(Path pidFile) {
        try {
            if (!Files.exists(pidFile)) {
                return false;
            }
            long pid = Long.parseLong(Files.readString(pidFile).strip());
            ProcessHandle.of(pid).ifPresent(p -> {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
            });
            return true;
        } catch (IOException | NumberFormatException e) {
            return false;
        }
    }

    // ---- capabilities --------------------------------------------------------------------------------------

    @Override
    public void reopenLog(String containerId) {
        requireContainer(containerId);
        if (containerStatus(containerId).state() != ContainerStatus.State.RUNNING || !conmonAlive(containerId)) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "failed to reopen log of container \""
                    + containerId + "\": it is not running");
        }
        if (Files.exists(bundle(containerId).resolve(LogJoiner.FIFO))) {
            // conmon writes into the joiner's FIFO: the joiner owns the file (never ask conmon to reopen a FIFO).
            try {
                if (!LogJoiner.reopen(bundle(containerId))) {
                    throw new BackendException(Kind.INTERNAL, "failed to reopen log of container \"" + containerId
                            + "\": its " + LogJoiner.PROGRAM + " is not running");
                }
            } catch (IOException e) {
                throw new BackendException(Kind.INTERNAL, "failed to reopen log of container \"" + containerId
                        + "\": " + e.getMessage());
            }
            awaitLogFile(containerId);
            return;
        }
        // No joiner: conmon writes the file. Read-write open never blocks on a FIFO; conmon holds the reading end.
        try (FileChannel ctl = FileChannel.open(bundle(containerId).resolve("ctl"), StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            ctl.write(ByteBuffer.wrap("2 0 0\n".getBytes(StandardCharsets.US_ASCII)));
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to reopen log of container \"" + containerId
                    + "\": " + e.getMessage());
        }
        awaitLogFile(containerId);
    }

    /** The joiner or conmon reopens asynchronously; CRI expects the new file to exist when the call returns. */
    private void awaitLogFile(String containerId) {
        String log = requireContainer(containerId).logPath();
        if (log != null && !log.isEmpty()) {
            Processes.await(() -> Files.exists(Path.of(log)), Duration.ofSeconds(2), Duration.ofMillis(5));
        }
    }

    @Override
    public int exec(String containerId, List<String> command, Streams io) {
        requireContainer(containerId);
        if (command.isEmpty()) {
            throw BackendException.invalid("failed to exec in container \"" + containerId + "\": empty command");
        }
        if (containerStatus(containerId).state() != ContainerStatus.State.RUNNING) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "failed to exec in container \"" + containerId
                    + "\": it is not running");
        }
        Path bundle = bundle(containerId);
        Path spec = bundle.resolve("exec-" + System.nanoTime() + ".json");
        try {
            JsonNode process = OciSpecs.JSON.readTree(bundle.resolve("config.json").toFile()).path("process");
            Files.write(spec, OciSpecs.JSON.writeValueAsBytes(OciSpecs.execProcess(process, command, io.tty())));
            List<String> runtimeExec = cli.command(List.of("exec", "--process", spec.toString(), containerId));
            if (options.runsc() && io.tty()) {
                // runsc passes a host terminal through as plain stdio: berth-runsc has gVisor make the terminal.
                List<String> relay = new ArrayList<>(List.of(runtimeForConmon(), "--runsc=" + options.binary(),
                        "--console-relay"));
                relay.addAll(runtimeExec.subList(1, runtimeExec.size()));
                runtimeExec = relay;
            }
            return dev.berth.runc.Streams.exec(runtimeExec, io);
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to exec in container \"" + containerId + "\": "
                    + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackendException(Kind.INTERNAL, "failed to exec in container \"" + containerId
                    + "\": interrupted");
        } finally {
            Conmon.deleteQuietly(spec);
        }
    }

    @Override
    public void attach(String containerId, Streams io) {
        requireContainer(containerId);
        if (containerStatus(containerId).state() != ContainerStatus.State.RUNNING) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "failed to attach to container \"" + containerId
                    + "\": it is not running");
        }
        try {
            dev.berth.runc.Streams.attach(bundle(containerId), io, bundle(containerId).resolve("winsz"));
        } catch (IOException e) {
            throw new BackendException(Kind.UNAVAILABLE, "failed to attach to container \"" + containerId + "\": "
                    + e.getMessage());
        }
    }

    @Override
    public java.nio.channels.ByteChannel connect(String sandboxId, int port) {
        SandboxRecord rec = requireSandbox(sandboxId);
        Path netns = null;
        if (NamespaceMode.valueOf(rec.network()) != NamespaceMode.NODE) {
            if (!rec.netnsPath().isEmpty()) {
                netns = Path.of(rec.netnsPath());
            } else {
                SandboxStatus st = sandboxStatus(sandboxId);
                if (st.state() != SandboxStatus.State.READY) {
                    throw new BackendException(Kind.FAILED_PRECONDITION, "failed to port-forward to sandbox \""
                            + sandboxId + "\": it is not ready");
                }
                netns = Path.of("/proc", Long.toString(st.pid()), "ns", "net");
            }
        }
        return dev.berth.oci.NetworkNamespaces.portForward(sandboxId, netns, port);
    }

    /** CRIU through the runtime; see {@link Checkpoints}. */
    @Override
    public void checkpoint(String containerId, Path location) {
        requireContainer(containerId);
        String criu = Checkpoints.criuProblem();
        if (criu != null) {
            throw BackendException.unimplemented("failed to checkpoint container \"" + containerId
                    + "\": CRIU does not work on this host: " + criu);
        }
        if (containerStatus(containerId).state() != ContainerStatus.State.RUNNING) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "failed to checkpoint container \"" + containerId
                    + "\": it is not running");
        }
        Checkpoints.checkpoint(cli, bundle(containerId), containerId, location);
    }

    @Override
    public ContainerUsage containerStats(String containerId) {
        ContainerRecord rec = requireContainer(containerId);
        return new ContainerUsage(containerId, Stats.read(rec.cgroupsPath()));
    }

    @Override
    public SandboxUsage sandboxStats(String sandboxId) {
        SandboxRecord rec = requireSandbox(sandboxId);
        return new SandboxUsage(sandboxId, Stats.read(rec.podCgroup()), -1, -1);
    }

    /**
     * Each running container's cgroup ({@link Stats#metrics}) and the interfaces of the pod's network namespace:
     * the one core pinned, or the pause process's for a pod recorded without a pin. A pod on the host's network
     * has none of its own, and an unreadable namespace leaves the interfaces out rather than the pod.
     */
    @Override
    public PodMetrics podMetrics(String sandboxId) {
        SandboxRecord rec = requireSandbox(sandboxId);
        List<ContainerMetrics> ctrs = new ArrayList<>();
        for (ContainerRecord c : containersOf(sandboxId)) {
            ContainerMetrics m = Stats.metrics(c.id(), c.cgroupsPath());
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

    @Override
    public Report recover(List<String> sandboxIds, List<String> containerIds) {
        load();
        List<String> lost = new ArrayList<>();
        for (String id : sandboxIds) {
            if (!sandboxes.containsKey(id) || !Files.isDirectory(bundle(id))) {
                lost.add(id);
            }
        }
        for (String id : containerIds) {
            if (!containers.containsKey(id) || !Files.isDirectory(bundle(id))) {
                lost.add(id);
            }
        }
        if (!lost.isEmpty()) {
            log.log(Level.WARNING, "runtime handler {0}: could not recover {1}", handler, lost);
        }
        return new Report(lost);
    }

    @Override
    public void close() {
        watcher.close();
    }

    private void onExit(String id) {
        if (!containers.containsKey(id)) {
            return; // a pause container, or one being removed
        }
        // Under the container's lock, so that STOPPED never overtakes the STARTED of a quick process.
        Thread.ofVirtual().start(() -> {
            ReentrantLock lock = lock(id);
            lock.lock();
            try {
                LogJoiner.awaitDone(bundle(id), JOIN_WAIT);
                ContainerRecord rec = containers.get(id);
                if (rec != null) {
                    context.events().publish(new BackendEvent(BackendEvent.Type.STOPPED, id, rec.sandboxId(),
                            exit(id).map(Exit::at).orElse(null)));
                }
            } finally {
                lock.unlock();
            }
        });
    }

    // ---- processes -----------------------------------------------------------------------------------------

    /** The state of a runtime container (pause or workload), from conmon's exit file and the runtime's state. */
    private ContainerStatus processStatus(String id, String createdAt, String startedAt, String cgroupsPath) {
        return processStatus(id, createdAt, startedAt, cgroupsPath, 0);
    }

    /**
     * The state of a container or pause process. {@code startedPid} is its pid when berth started it: then, with no
     * exit file and its conmon still alive, it is running, and the runtime need not be asked. The kubelet asks
     * for status every second or so per container, and a {@code runc state} costs a fork and some 10 ms.
     */
    private ContainerStatus processStatus(String id, String createdAt, String startedAt, String cgroupsPath,
                                          long startedPid) {
        Instant created = StateStore.time(createdAt);
        Instant started = StateStore.time(startedAt);
        Map<String, String> info = Map.of("bundle", bundle(id).toString(), "runtime", options.binary().toString());
        Optional<Exit> exit = exit(id);
        if (exit.isEmpty() && startedPid > 0 && conmonAlive(id)) {
            return new ContainerStatus(id, ContainerStatus.State.RUNNING, created, started, null, 0, "", "",
                    startedPid, info);
        }
        if (exit.isEmpty()) {
            JsonNode state = cli.state(id);
            String s = state == null ? "" : state.path("status").asText();
            switch (s) {
                case "created" -> {
                    return new ContainerStatus(id, ContainerStatus.State.CREATED, created, null, null, 0, "", "",
                            state.path("pid").asLong(), info);
                }
                case "running", "paused", "pausing" -> {
                    return new ContainerStatus(id, ContainerStatus.State.RUNNING, created, started, null, 0, "", "",
                            state.path("pid").asLong(), info);
                }
                default -> {
                    // Stopped or gone: conmon writes the exit file right after it reaps the process.
                    exit = awaitExit(id, Duration.ofSeconds(state == null ? 1 : 5));
                }
            }
        }
        if (exit.isEmpty()) {
            return new ContainerStatus(id, ContainerStatus.State.EXITED, created, started, null, 255, "Error",
                    "the exit code is unknown: conmon is gone", 0, info);
        }
        // The container's last lines are in its log file once the joiner has gone (at once, normally).
        LogJoiner.awaitDone(bundle(id), JOIN_WAIT);
        Exit e = exit.get();
        boolean oom = Files.exists(bundle(id).resolve("oom"))
                || (e.code() != 0 && cgroupsPath != null && !cgroupsPath.isEmpty() && Cgroups.oomKilled(cgroupsPath));
        String reason = oom ? "OOMKilled" : e.code() == 0 ? "Completed" : "Error";
        return new ContainerStatus(id, ContainerStatus.State.EXITED, created, started, e.at(), e.code(), reason, "",
                0, info);
    }

    private record Exit(int code, Instant at) {}

    private Optional<Exit> exit(String id) {
        Path f = exits.resolve(id);
        try {
            String s = Files.readString(f).strip();
            if (s.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(new Exit(Integer.parseInt(s), Files.getLastModifiedTime(f).toInstant()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private Optional<Exit> awaitExit(String id, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Optional<Exit> e = exit(id);
            if (e.isPresent() || System.nanoTime() > deadline) {
                return e;
            }
            if (!conmonAlive(id) && exit(id).isEmpty()) {
                return Optional.empty();
            }
            sleep(20);
        }
    }

    /** The stop signal, then SIGKILL after {@code timeout}; returns once the process has exited. */
    private void stopProcess(String verb, String id, String stopSignal, Duration timeout) {
        ContainerStatus st = processStatus(id, null, null, null);
        if (st.state() == ContainerStatus.State.EXITED) {
            return;
        }
        if (st.state() == ContainerStatus.State.RUNNING && timeout.toMillis() > 0) {
            String sig = stopSignal == null || stopSignal.isEmpty() ? "SIGTERM" : stopSignal;
            cli.run(List.of("kill", id, sig));
            if (awaitExit(id, timeout).isPresent()) {
                return;
            }
        }
        ProcessRunner.Result r = cli.run(List.of("kill", id, "SIGKILL"));
        if (!r.ok() && neverStarted(verb, id)) {
            return;
        }
        if (awaitExit(id, KILL_WAIT).isEmpty()) {
            JsonNode state = cli.state(id);
            if (state != null && !state.path("status").asText().equals("stopped")) {
                throw new BackendException(Kind.INTERNAL, "failed to " + verb + " \"" + id + "\": "
                        + (r.ok() ? "it did not exit after SIGKILL" : r.errorText()));
            }
        }
    }

    /**
     * After a refused SIGKILL: whether the runtime still holds the container as created, never started, and it
     * was deleted. runc signals a created container, but runsc refuses ("cannot signal container ... in state
     * created"): waiting for an exit then would wait for ever, and the container could never be removed. A created
     * container has run no code of its own, so there is nothing to stop gracefully: it is deleted, and its conmon
     * (which may never see an exit) is left to {@link #destroy}.
     */
    private boolean neverStarted(String verb, String id) {
        JsonNode state = cli.state(id);
        if (state == null || !state.path("status").asText().equals("created")) {
            return false;
        }
        ProcessRunner.Result r = cli.run(List.of("delete", "--force", id));
        if (!r.ok() && cli.state(id) != null) {
            throw new BackendException(Kind.INTERNAL, "failed to " + verb + " \"" + id + "\": it was never started, and "
                    + "the runtime refused both to kill it and to delete it: " + r.errorText());
        }
        awaitExit(id, Duration.ofSeconds(5));
        return true;
    }

    /** Forcibly removes the runtime container and its conmon. Never throws. */
    private void destroy(String id) {
        cli.run(List.of("delete", "--force", id));
        long conmonPid = readPid(bundle(id).resolve("conmon.pid"));
        if (conmonPid > 0) {
            Optional<ProcessHandle> ph = ProcessHandle.of(conmonPid).filter(p -> isConmon(conmonPid));
            if (ph.isPresent()) {
                long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
                while (ph.get().isAlive() && isConmon(conmonPid) && System.nanoTime() < deadline) {
                    sleep(20);
                }
                if (ph.get().isAlive() && isConmon(conmonPid)) {
                    ph.get().destroyForcibly();
                }
            }
        }
        if (options.runsc()) {
            RunscShim.killStandIn(bundle(id), id); // normally gone with its container (within a second)
        }
        // Without conmon the joiner reads end-of-file and finishes by itself; one that does not is killed.
        if (!LogJoiner.awaitDone(bundle(id), JOIN_WAIT)) {
            LogJoiner.kill(bundle(id));
        }
    }

    /** Whether the conmon that supervises {@code id} runs: alive, not a zombie, and started for that id. */
    private boolean conmonAlive(String id) {
        long pid = readPid(bundle(id).resolve("conmon.pid"));
        if (pid <= 0 || !isConmon(pid)) {
            return false;
        }
        try {
            // A reused pid could be another container's conmon: its command line names the container.
            String cmdline = Files.readString(Path.of("/proc", Long.toString(pid), "cmdline")).replace('\0', ' ');
            return cmdline.contains(" -c " + id + " ");
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean isConmon(long pid) {
        return Processes.live(pid, "conmon");
    }

    private static long readPid(Path file) {
        try {
            return Long.parseLong(Files.readString(file).strip());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    /** Creates an empty bundle directory, replacing a leftover one; registers its undo first. */
    private void newBundle(String what, String id, Deque<Runnable> undo) {
        Path bundle = bundle(id);
        try {
            if (Files.exists(bundle)) {
                FileTrees.unmountAll(bundle);
                FileTrees.deleteTree(bundle);
            }
            Files.createDirectories(bundle);
            undo.push(() -> {
                try {
                    FileTrees.unmountAll(bundle);
                    FileTrees.deleteTree(bundle);
                } catch (IOException e) {
                    log.log(Level.WARNING, "cannot clean up bundle {0}: {1}", bundle, e.getMessage());
                }
            });
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to create " + what + " \"" + id + "\": "
                    + e.getMessage());
        }
    }

    /** Creates the bundle: directory, mounted rootfs, config.json; registers their undo first. */
    private void prepareBundle(String what, String id, List<dev.berth.spi.MountSpec> rootfs, ObjectNode config,
                               Deque<Runnable> undo) {
        newBundle(what, id, undo);
        fillBundle(what, id, rootfs, config);
    }

    /** Mounts the root file system into a new bundle and writes its config.json. */
    private void fillBundle(String what, String id, List<dev.berth.spi.MountSpec> rootfs, ObjectNode config) {
        Path bundle = bundle(id);
        try {
            if (rootfs.isEmpty()) {
                throw BackendException.invalid("failed to create " + what + " \"" + id + "\": no root file system");
            }
            Mounts.mountAll(rootfs, bundle.resolve("rootfs"));
            StateStore.write(bundle.resolve("config.json"), OciSpecs.JSON.writerWithDefaultPrettyPrinter()
                    .writeValueAsBytes(config));
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to create " + what + " \"" + id + "\": "
                    + e.getMessage());
        }
    }

    /** Runs conmon, which runs the runtime's create; returns the container's pid. */
    private long launch(String verb, String id, String name, String logPath, boolean tty, boolean stdin,
                        boolean leaveStdinOpen, Deque<Runnable> undo) {
        Path bundle = bundle(id);
        Conmon.deleteQuietly(exits.resolve(id));
        List<String> args = new ArrayList<>(List.of("--api-version", "1", "-b", bundle.toString(), "-c", id,
                "-u", id, "-n", name, "--exit-dir", exits.toString(), "-l", "k8s-file:" + logPath,
                "--log-level", "info", "--syslog", "-P", bundle.resolve("conmon.pid").toString(),
                "-p", bundle.resolve("ctr.pid").toString(), "--persist-dir", bundle.toString(),
                "-r", runtimeForConmon(), "--socket-dir-path", attach.toString(), "--log-size-max", "-1"));
        if (tty) {
            args.add("-t");
        }
        if (stdin) {
            args.add("-i");
        }
        if (leaveStdinOpen) {
            args.add("--leave-stdin-open"); // stdin_once unset: a detaching client does not close stdin
        }
        if (options.noPivot()) {
            args.add("--no-pivot");
        }
        if (options.runsc()) {
            args.add("--runtime-arg");
            args.add("--runsc=" + options.binary()); // berth-runsc's own, first: see runtimeForConmon
        }
        args.addAll(cli.conmonArgs());
        undo.push(() -> {
            destroy(id);
            Conmon.deleteQuietly(exits.resolve(id));
            Conmon.deleteQuietly(attach.resolve(id));
        });
        try {
            return Conmon.launch(options.conmon(), args, bundle, "data", CREATE_TIMEOUT).value();
        } catch (Conmon.Failure f) {
            throw new BackendException(f.timedOut ? Kind.DEADLINE_EXCEEDED : Kind.INTERNAL,
                    "failed to " + verb + " \"" + id + "\": " + f.getMessage());
        }
    }

    /**
     * The runtime conmon runs to create a container: the handler's, except for gVisor, where it is
     * {@code berth-runsc} in front of runsc. runsc writes the sandbox's pid as the pid of a container that joins a
     * pod's sandbox; conmon cannot wait for a process that is not its child and would report the container exited
     * at once. berth-runsc gives conmon a stand-in process that exits with the container's exit code (see its
     * source).
     */
    private String runtimeForConmon() {
        if (!options.runsc()) {
            return options.binary().toString();
        }
        Path shim = RunscShim.PATH.orElseThrow(() -> new BackendException(Kind.UNAVAILABLE, "runtime handler \""
                + handler + "\": " + RunscShim.PROGRAM + " is not installed (the runc plugin ships it)"));
        return shim.toString();
    }

    /** Notes the pod cgroup in the bundle, for {@link #removeLeftovers} should berth die before the record. */
    private void noteCgroup(String id, String podCgroup) {
        if (podCgroup.isEmpty()) {
            return;
        }
        try {
            Files.writeString(bundle(id).resolve(CGROUP), podCgroup);
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to create sandbox \"" + id + "\": " + e.getMessage());
        }
    }

    /**
     * Removes what a create left when berth died between making the bundle and writing the record (core then
     * has the id, and the kubelet removes it): the runtime container and its conmon if any, the bundle's mounts
     * (root file system, /dev/shm, namespace pins) and files, and the cgroup the bundle names. Nothing is done
     * when there is no bundle, so removing an unknown id stays a no-op.
     */
    private void removeLeftovers(String verb, String id) {
        if (!HEX_ID.matcher(id).matches() || !Files.isDirectory(bundle(id))) {
            return;
        }
        ReentrantLock lock = lock(id);
        lock.lock();
        try {
            if (sandboxes.containsKey(id) || containers.containsKey(id) || !Files.isDirectory(bundle(id))) {
                return; // a create finished meanwhile, or another removal did this
            }
            log.log(Level.WARNING, "{0} \"{1}\": removing what an unfinished create left behind", verb, id);
            String cgroup = "";
            try {
                Path note = bundle(id).resolve(CGROUP);
                Path config = bundle(id).resolve("config.json");
                if (Files.exists(note)) {
                    cgroup = Files.readString(note).strip();
                } else if (Files.exists(config) && !options.systemdCgroup()) {
                    cgroup = OciSpecs.JSON.readTree(config.toFile()).path("linux").path("cgroupsPath").asText("");
                }
            } catch (IOException e) {
                log.log(Level.WARNING, "cannot read the cgroup of {0}: {1}", id, e.getMessage());
            }
            destroy(id);
            PauseProcess.kill(bundle(id), bundle(id).resolve(PINS));
            cleanupBundle(verb, id);
            if (!cgroup.isEmpty()) {
                Cgroups.remove(cgroup);
            }
        } finally {
            lock.unlock();
            locks.remove(id);
        }
    }

    private void cleanupBundle(String verb, String id) {
        Path bundle = bundle(id);
        int stuck = Conmon.killStuckLaunchers(bundle);
        if (stuck > 0) {
            log.log(Level.WARNING, "{0} \"{1}\": killed {2} conmon launcher(s) left waiting by an unfinished call",
                    verb, id, stuck);
        }
        try {
            FileTrees.unmountAll(bundle);
            FileTrees.deleteTree(bundle);
            Files.deleteIfExists(exits.resolve(id));
            Files.deleteIfExists(attach.resolve(id));
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to " + verb + " \"" + id + "\": " + e.getMessage());
        }
    }

    private void requirePrograms(String verb, String id) {
        for (Path p : List.of(options.binary(), options.conmon())) {
            if (!Files.isExecutable(p)) {
                throw new BackendException(Kind.UNAVAILABLE, "failed to " + verb + " \"" + id + "\": " + p
                        + " is not installed or not executable");
            }
        }
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    private List<ContainerRecord> containersOf(String sandboxId) {
        return containers.values().stream().filter(c -> c.sandboxId().equals(sandboxId)).toList();
    }

    private SandboxRecord requireSandbox(String id) {
        SandboxRecord r = sandboxes.get(id);
        if (r == null) {
            throw BackendException.notFound("sandbox", id);
        }
        return r;
    }

    private ContainerRecord requireContainer(String id) {
        ContainerRecord r = containers.get(id);
        if (r == null) {
            throw BackendException.notFound("container", id);
        }
        return r;
    }

    private void persist(SandboxRecord r, String verb) {
        try {
            store.put(r);
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to " + verb + " \"" + r.id() + "\": " + e.getMessage());
        }
    }

    private void persist(ContainerRecord r, String verb) {
        try {
            store.put(r);
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to " + verb + " \"" + r.id() + "\": " + e.getMessage());
        }
    }

    private void rollback(Deque<Runnable> undo) {
        while (!undo.isEmpty()) {
            try {
                undo.pop().run();
            } catch (RuntimeException e) {
                log.log(Level.WARNING, "rollback step failed: {0}", e.getMessage());
            }
        }
    }

    private ReentrantLock lock(String id) {
        return locks.computeIfAbsent(id, k -> new ReentrantLock());
    }

    Path bundle(String id) {
        return bundles.resolve(id);
    }

    private static String str(Path p) {
        return p == null ? "" : p.toString();
    }

    private static Path path(String s) {
        return s == null || s.isEmpty() ? null : Path.of(s);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackendException(Kind.INTERNAL, "interrupted");
        }
    }

    private static int ownOomScoreAdj() {
        try {
            return Integer.parseInt(Files.readString(Path.of("/proc/self/oom_score_adj")).strip());
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    private static JsonNode readJson(Path file) {
        try {
            return OciSpecs.JSON.readTree(file.toFile());
        } catch (IOException e) {
            return null; // OciSpecs names the container and the file
        }
    }
}
