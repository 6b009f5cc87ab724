package dev.berth.hcs;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import dev.berth.hcs.bind.Bindings;
import dev.berth.hcs.bind.HResults;
import dev.berth.hcs.bind.Hcn;
import dev.berth.hcs.bind.Hcs;
import dev.berth.hcs.handle.ComputeSystem;
import dev.berth.hcs.handle.HcsException;
import dev.berth.hcs.handle.HcsProcess;
import dev.berth.hcs.log.CriLogWriter;
import dev.berth.hcs.log.ExitFile;
import dev.berth.hcs.schema.Documents;
import dev.berth.hcs.schema.HcsJson;
import dev.berth.hcs.schema.Schema;
import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendEvent;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendFeatures;
import dev.berth.spi.BackendHealth;
import dev.berth.spi.ContainerMount;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.DnsConfig;
import dev.berth.spi.ExecResult;
import dev.berth.spi.LinuxResources;
import dev.berth.spi.Recoverable;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.SandboxStatus;
import dev.berth.spi.StatsProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;

/**
 * Windows containers through the Host Compute Service, process-isolated.
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
final class HcsBackend implements RuntimeBackend, Recoverable, StatsProvider {
    private static final Pattern GUID = Pattern.compile(
            "^\\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\\}?$");
    private static final ObjectMapper STATE = new ObjectMapper()
            .findAndRegisterModules()
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    /** The command a Windows pause image that only says {@code cmd.exe} gets instead (hcsshim's pod.go). */
    static final List<String> HOLD = List.of("cmd", "/c", "ping -t 127.0.0.1 > nul");

    private final String handler;
    private final HcsOptions options;
    private final BackendContext context;
    private final Bindings bindings;
    private final int hostProcessors;
    private final Clock clock = Clock.systemUTC();
    private final Map<String, Pod> pods = new ConcurrentHashMap<>();
    private final Map<String, Ctr> containers = new ConcurrentHashMap<>();
    private final BackendFeatures features;

    HcsBackend(String handler, HcsOptions options, BackendContext context, Bindings bindings, int hostProcessors) {
        this.handler = handler;
        this.options = options;
        this.context = context;
        this.bindings = bindings;
        this.hostProcessors = Math.max(1, hostProcessors);
        // Where HCS is missing, the backend runs nothing from images: core then pulls no image and prepares no
        // root file system for a pod that createSandbox refuses anyway. The answer holds for the backend's life.
        this.features = new BackendFeatures(false, false, BackendFeatures.CgroupDriver.CGROUPFS, bindings.available(),
                options.sandboxImage());
    }

    /** What the backend keeps about a pod, in memory and (the record) on disk. */
    record PodRecord(String id, String namespace, boolean ownsNamespace, String scratch, Instant createdAt,
                     String hostname, List<String> dnsSearches, List<String> holdArgs) {}

    /** A container's record; {@code process} is its init's input, kept so that a recovered container can exec. */
    record CtrRecord(String id, String sandboxId, String scratch, Instant createdAt, Instant startedAt, int pid,
                     String logPath, Documents.ProcessInput process) {
        CtrRecord started(Instant at, int initPid) {
            return new CtrRecord(id, sandboxId, scratch, createdAt, at, initPid, logPath, process);
        }
    }

    private static final class Pod {
        final ReentrantLock lock = new ReentrantLock();
        final PodRecord rec;
        volatile ComputeSystem system;
        volatile HcsProcess hold;
        volatile boolean ready;

        Pod(PodRecord rec) {
            this.rec = rec;
        }
    }

    private static final class Ctr {
        final ReentrantLock lock = new ReentrantLock();
        volatile CtrRecord rec;
        volatile ComputeSystem system;
        volatile HcsProcess init;
        volatile ContainerStatus.State state = ContainerStatus.State.CREATED;
        volatile Instant startedAt;
        volatile Instant finishedAt;
        volatile int exitCode;
        volatile String reason = "";
        volatile String message = "";
        volatile CriLogWriter log;
        final AtomicBoolean exitSeen = new AtomicBoolean();

        Ctr(CtrRecord rec) {
            this.rec = rec;
        }
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
        return bindings.available() ? new BackendFeatures.Pod(true, true) : new BackendFeatures.Pod(false, false);
    }

    @Override
    public BackendHealth health() {
        if (!bindings.available()) {
            return new BackendHealth(false, List.of(new BackendHealth.Check(false, "host compute service",
                    bindings.unavailable())));
        }
        // A system that cannot exist: the service answering "not found" shows it is there and talks to berth.
        Hcs.HandleResult r = bindings.hcs().openComputeSystem("berth-health-" + UUID.randomUUID(), Hcs.GENERIC_ALL);
        if (!HResults.failed(r.hresult())) {
            bindings.hcs().closeComputeSystem(r.handle());
        }
        boolean ok = !HResults.failed(r.hresult()) || HcsException.kindOf(r.hresult()) == BackendException.Kind.NOT_FOUND;
        String advice = ok ? "" : "the Host Compute Service did not answer (" + HResults.name(r.hresult())
                + "); is the vmcompute service running and berth elevated?";
        List<BackendHealth.Check> checks = new ArrayList<>();
        checks.add(new BackendHealth.Check(ok, "host compute service", advice));
        if (options.isolation().equals("hyperv")) {
            checks.add(new BackendHealth.Check(false, "hyper-v isolation",
                    "Hyper-V isolated pods are not implemented by this plugin yet; use isolation = \"process\""));
        }
        return BackendHealth.of(checks);
    }

    private void requireAvailable(String what) {
        if (!bindings.available()) {
            throw new BackendException(BackendException.Kind.UNAVAILABLE, what + ": handler \"" + handler
                    + "\" (windows-hcs) cannot run here: " + bindings.unavailable());
        }
    }

    private Hcs hcs() {
        return bindings.hcs();
    }

    // ---- sandboxes

    @Override
    public SandboxStatus createSandbox(SandboxSpec spec) {
        String what = "failed to create pod sandbox \"" + spec.id() + "\"";
        requireAvailable(what);
        if (spec.security().namespaces().userNamespace() != null) {
            throw BackendException.unimplemented(what + ": Windows containers have no user namespaces");
        }
        if (options.isolation().equals("hyperv")) {
            throw BackendException.unimplemented(what + ": Hyper-V isolation is not implemented by the windows-hcs "
                    + "plugin yet (the utility VM document is built, sharing the layers into it is not)");
        }
        if (pods.containsKey(spec.id())) {
            throw new BackendException(BackendException.Kind.ALREADY_EXISTS, "pod sandbox \"" + spec.id()
                    + "\" already exists");
        }
        WindowsLayers.Snapshot snap = WindowsLayers.parse(spec.rootfs(), what);
        String namespace = null;
        boolean owns = false;
        List<Runnable> undo = new ArrayList<>();
        try {
            if (!spec.hostNetwork()) {
                String given = spec.netnsPath() == null ? null : spec.netnsPath().getFileName().toString();
                if (given != null && GUID.matcher(given).matches()) {
                    namespace = given.replace("{", "").replace("}", "").toLowerCase(java.util.Locale.ROOT);
                } else {
                    namespace = createNamespace();
                    owns = true;
                    String ns = namespace;
                    undo.add(() -> deleteNamespace(ns));
                }
            }
            Schema.Storage storage = WindowsLayers.mount(bindings.layers(), snap);
            undo.add(() -> WindowsLayers.unmount(bindings.layers(), snap.scratch()));
            Schema.ComputeSystem doc = Documents.container(new Documents.ContainerInput(spec.hostname(), storage,
                    List.of(), spec.resources(), spec.annotations(), namespace, spec.dns(), hostProcessors, null));
            PodRecord rec = new PodRecord(spec.id(), namespace, owns, snap.scratch(), clock.instant(), spec.hostname(),
                    spec.dns().searches(), holdArgs(spec));
            Pod pod = new Pod(rec);
            pod.system = ComputeSystem.create(hcs(), spec.id(), doc, options.operationTimeout());
            ComputeSystem created = pod.system;
            undo.add(() -> {
                created.terminate();
                created.close();
            });
            pod.lock.lock();
            try {
                pod.hold = null;
                save("pods", spec.id(), rec);
                pods.put(spec.id(), pod);
            } finally {
                pod.lock.unlock();
            }
            return status(pod);
        } catch (RuntimeException e) {
            for (int i = undo.size() - 1; i >= 0; i--) {
                try {
                    undo.get(i).run();
                } catch (RuntimeException ignored) {
                    // best effort: the first failure is the one reported
                }
            }
            throw backend(what, e);
        }
    }

    /** The holder's command: the sandbox image's, with a cmd.exe-only image kept alive the way hcsshim does. */
    static List<String> holdArgs(SandboxSpec spec) {
        List<String> args = new ArrayList<>(spec.image().entrypoint());
        args.addAll(spec.image().cmd());
        if (args.isEmpty() || args.equals(List.of("cmd.exe")) || args.equals(List.of("cmd"))) {
            return HOLD;
        }
        return List.copyOf(args);
    }

    private String createNamespace() {
        String id = UUID.randomUUID().toString();
        Hcn.Result r = bindings.hcn().createNamespace(id, HcsJson.write(Documents.namespace(id)));
        if (HResults.failed(r.hresult())) {
            throw new HcsException("HcnCreateNamespace " + id, r.hresult(), r.errorRecord());
        }
        bindings.hcn().closeNamespace(r.handle());
        return id;
    }

    private void deleteNamespace(String id) {
        Hcn.Result r = bindings.hcn().deleteNamespace(id);
        if (HResults.failed(r.hresult()) && HcsException.kindOf(r.hresult()) != BackendException.Kind.NOT_FOUND) {
            throw new HcsException("HcnDeleteNamespace " + id, r.hresult(), r.errorRecord());
        }
    }

    @Override
    public void startSandbox(String sandboxId) {
        Pod pod = pod(sandboxId);
        String what = "failed to start pod sandbox \"" + sandboxId + "\"";
        pod.lock.lock();
        try {
            pod.system.start(options.operationTimeout());
            pod.hold = pod.system.createProcess(Documents.process(new Documents.ProcessInput(pod.rec.holdArgs(), "",
                    "", List.of(), false, false, false, 0, 0)), options.operationTimeout());
            pod.ready = true;
        } catch (RuntimeException e) {
            throw backend(what, e);
        } finally {
            pod.lock.unlock();
        }
    }

    @Override
    public void stopSandbox(String sandboxId, Duration timeout) {
        Pod pod = pods.get(sandboxId);
        if (pod == null) {
            return;
        }
        for (Ctr c : containers.values()) {
            if (c.rec.sandboxId().equals(sandboxId)) {
                stopContainer(c.rec.id(), timeout);
            }
        }
        pod.lock.lock();
        try {
            HcsProcess hold = pod.hold;
            if (hold != null) {
                hold.stop(timeout);
                hold.close();
                pod.hold = null;
            }
            if (pod.system != null) {
                pod.system.shutdownThenTerminate(options.shutdownTimeout());
            }
            pod.ready = false;
        } catch (HcsException e) {
            throw backend("failed to stop pod sandbox \"" + sandboxId + "\"", e);
        } finally {
            pod.lock.unlock();
        }
    }

    @Override
    public SandboxStatus sandboxStatus(String sandboxId) {
        return status(pod(sandboxId));
    }

    private SandboxStatus status(Pod pod) {
        HcsProcess hold = pod.hold;
        boolean ready = pod.ready && (pod.system == null || !pod.system.exited().isDone());
        Map<String, String> info = new java.util.TreeMap<>();
        info.put("isolation", "process");
        if (pod.rec.namespace() != null) {
            info.put("hnsNamespace", pod.rec.namespace());
        }
        return new SandboxStatus(pod.rec.id(), ready ? SandboxStatus.State.READY : SandboxStatus.State.NOTREADY,
                pod.rec.createdAt(), hold == null ? 0 : hold.pid(), info);
    }

    @Override
    public void removeSandbox(String sandboxId) {
        Pod pod = pods.get(sandboxId);
        if (pod == null) {
            deleteState("pods", sandboxId);
            return;
        }
        for (Ctr c : containers.values()) {
            if (c.rec.sandboxId().equals(sandboxId)) {
                removeContainer(c.rec.id());
            }
        }
        stopSandbox(sandboxId, Duration.ZERO);
        pod.lock.lock();
        try {
            if (pod.system != null) {
                pod.system.close();
            }
            HcsException layers = WindowsLayers.unmount(bindings.layers(), pod.rec.scratch());
            if (layers != null) {
                throw layers;
            }
            if (pod.rec.ownsNamespace() && pod.rec.namespace() != null) {
                deleteNamespace(pod.rec.namespace());
            }
            deleteState("pods", sandboxId);
            pods.remove(sandboxId);
        } catch (HcsException e) {
            throw backend("failed to remove pod sandbox \"" + sandboxId + "\"", e);
        } finally {
            pod.lock.unlock();
        }
    }

    private Pod pod(String id) {
        Pod p = pods.get(id);
        if (p == null) {
            throw BackendException.notFound("pod sandbox", id);
        }
        return p;
    }

    // ---- containers

    @Override
    public ContainerStatus createContainer(ContainerSpec spec) {
        String what = "failed to create container \"" + spec.id() + "\"";
        requireAvailable(what);
        Pod pod = pods.get(spec.sandboxId());
        if (pod == null) {
            throw BackendException.notFound("pod sandbox", spec.sandboxId());
        }
        if (!pod.ready) {
            throw new BackendException(BackendException.Kind.FAILED_PRECONDITION, what + ": pod sandbox \""
                    + spec.sandboxId() + "\" is not ready");
        }
        if (containers.containsKey(spec.id())) {
            throw new BackendException(BackendException.Kind.ALREADY_EXISTS, "container \"" + spec.id()
                    + "\" already exists");
        }
        for (ContainerMount m : spec.mounts()) {
            if (m.selinuxRelabel()) {
                throw BackendException.unimplemented(what + ": SELinux relabelling of " + m.containerPath()
                        + " does not exist on Windows");
            }
            if (m.propagation() != ContainerMount.Propagation.PRIVATE) {
                throw BackendException.unimplemented(what + ": mount propagation of " + m.containerPath()
                        + " does not exist on Windows");
            }
        }
        WindowsLayers.Snapshot snap = WindowsLayers.parse(spec.rootfs(), what);
        Schema.Storage storage;
        try {
            storage = WindowsLayers.mount(bindings.layers(), snap);
        } catch (RuntimeException e) {
            throw backend(what, e);
        }
        try {
            Schema.ComputeSystem doc = Documents.container(new Documents.ContainerInput(pod.rec.hostname(), storage,
                    spec.mounts(), spec.resources(), spec.annotations(), pod.rec.namespace(),
                    new DnsConfig(List.of(), pod.rec.dnsSearches(), List.of()), hostProcessors, null));
            ComputeSystem system = ComputeSystem.create(hcs(), spec.id(), doc, options.operationTimeout());
            CtrRecord rec = new CtrRecord(spec.id(), spec.sandboxId(), snap.scratch(), clock.instant(), null, 0,
                    spec.logPath(), processOf(spec));
            Ctr c = new Ctr(rec);
            c.system = system;
            try {
                save("containers", spec.id(), rec);
            } catch (RuntimeException e) {
                system.terminate();
                system.close();
                throw e;
            }
            containers.put(spec.id(), c);
            return status(c);
        } catch (RuntimeException e) {
            WindowsLayers.unmount(bindings.layers(), snap.scratch());
            throw backend(what, e);
        }
    }

    static Documents.ProcessInput processOf(ContainerSpec spec) {
        String user = spec.security().runAsUsername().isEmpty() ? spec.image().user()
                : spec.security().runAsUsername();
        String cwd = spec.workingDir().isEmpty() ? spec.image().workingDir() : spec.workingDir();
        List<String> env = new ArrayList<>(spec.image().env());
        env.addAll(spec.env());
        return new Documents.ProcessInput(spec.processArgs(), user, cwd, env, spec.tty(), spec.stdin(), true, 0, 0);
    }

    @Override
    public void startContainer(String containerId) {
        Ctr c = ctr(containerId);
        String what = "failed to start container \"" + containerId + "\"";
        c.lock.lock();
        try {
            if (c.state != ContainerStatus.State.CREATED) {
                throw new BackendException(BackendException.Kind.FAILED_PRECONDITION, what + ": it is "
                        + c.state.toString().toLowerCase(java.util.Locale.ROOT) + ", not created");
            }
            HcsProcess init;
            try {
                c.system.start(options.operationTimeout());
                if (c.rec.process().args().isEmpty()) {
                    throw BackendException.invalid(what + ": no command (the image has no entrypoint or cmd)");
                }
                init = c.system.createProcess(Documents.process(c.rec.process()), options.operationTimeout());
            } catch (RuntimeException e) {
                c.state = ContainerStatus.State.EXITED;
                c.finishedAt = clock.instant();
                c.exitCode = 128;
                c.reason = "StartError";
                c.message = e.getMessage();
                throw backend(what, e);
            }
            c.init = init;
            c.startedAt = clock.instant();
            c.state = ContainerStatus.State.RUNNING;
            c.rec = c.rec.started(c.startedAt, init.pid());
            save("containers", containerId, c.rec);
            startLog(c, init);
            watch(c, init);
        } finally {
            c.lock.unlock();
        }
    }

    /** Copies the init's output into the CRI log (or drains it when there is no log), on two virtual threads. */
    private void startLog(Ctr c, HcsProcess init) {
        CriLogWriter log = null;
        if (!c.rec.logPath().isEmpty()) {
            try {
                log = new CriLogWriter(Path.of(c.rec.logPath()), clock);
            } catch (IOException e) {
                context.logger().log(System.Logger.Level.WARNING, "container " + c.rec.id() + ": cannot open log "
                        + c.rec.logPath() + ": " + e.getMessage());
            }
        }
        c.log = log;
        CriLogWriter w = log;
        relay(init.stdout(), "stdout", w);
        relay(init.stderr(), "stderr", w);
    }

    private void relay(InputStream in, String name, CriLogWriter log) {
        if (in == null) {
            return;
        }
        Thread.ofVirtual().name("hcs-log-" + name).start(() -> {
            try (in) {
                if (log != null) {
                    log.copy(in, name);
                } else {
                    in.transferTo(java.io.OutputStream.nullOutputStream());
                }
            } catch (IOException e) {
                // the pipe broke: the process is gone
            }
        });
    }

    /**
     * Follows the init's exit. A ServiceDisconnect is not an exit: the container may well run on, so its state
     * becomes UNKNOWN until berth reconnects (a restart of berth opens it again).
     */
    private void watch(Ctr c, HcsProcess init) {
        init.exitCode().whenComplete((code, err) -> {
            if (err == null) {
                onExit(c, code);
            } else if (!c.exitSeen.get()) {
                c.state = ContainerStatus.State.UNKNOWN;
                c.message = "lost the Host Compute Service: " + (err.getCause() != null ? err.getCause() : err)
                        .getMessage();
            }
        });
    }

    private void onExit(Ctr c, int code) {
        if (!c.exitSeen.compareAndSet(false, true)) {
            return;
        }
        Instant at = clock.instant();
        c.exitCode = code;
        c.finishedAt = at;
        c.reason = code == 0 ? "Completed" : "Error";
        c.state = ContainerStatus.State.EXITED;
        try {
            ExitFile.write(stateFile("containers", c.rec.id() + ".exit"), new ExitFile.Exit(code, at));
        } catch (IOException e) {
            context.logger().log(System.Logger.Level.WARNING, "container " + c.rec.id()
                    + ": cannot write its exit file: " + e.getMessage());
        }
        context.events().publish(new BackendEvent(BackendEvent.Type.STOPPED, c.rec.id(), c.rec.sandboxId(), at));
    }

    @Override
    public void stopContainer(String containerId, Duration timeout) {
        Ctr c = containers.get(containerId);
        if (c == null) {
            return;
        }
        c.lock.lock();
        try {
            if (c.state == ContainerStatus.State.CREATED) {
                c.state = ContainerStatus.State.EXITED;
                c.finishedAt = clock.instant();
                c.reason = "Error";
                c.message = "stopped before it was started";
            }
            HcsProcess init = c.init;
            if (init != null && !c.exitSeen.get()) {
                Integer code = init.stop(timeout);
                if (code != null) {
                    onExit(c, code);
                }
            }
            if (c.system != null) {
                c.system.shutdownThenTerminate(options.shutdownTimeout());
            }
            if (!c.exitSeen.get() && init != null) {
                onExit(c, 137);
            }
        } catch (HcsException e) {
            throw backend("failed to stop container \"" + containerId + "\"", e);
        } finally {
            c.lock.unlock();
        }
    }

    @Override
    public ContainerStatus containerStatus(String containerId) {
        return status(ctr(containerId));
    }

    private ContainerStatus status(Ctr c) {
        HcsProcess init = c.init;
        return new ContainerStatus(c.rec.id(), c.state, c.rec.createdAt(), c.startedAt, c.finishedAt, c.exitCode,
                c.reason, c.message, init == null ? 0 : init.pid(), Map.of("isolation", "process"));
    }

    @Override
    public void removeContainer(String containerId) {
        Ctr c = containers.get(containerId);
        if (c == null) {
            deleteState("containers", containerId);
            return;
        }
        stopContainer(containerId, Duration.ZERO);
        c.lock.lock();
        try {
            if (c.init != null) {
                c.init.close();
            }
            if (c.system != null) {
                c.system.close();
            }
            if (c.log != null) {
                try {
                    c.log.close();
                } catch (IOException ignored) {
                    // nothing left to write
                }
            }
            HcsException layers = WindowsLayers.unmount(bindings.layers(), c.rec.scratch());
            if (layers != null) {
                throw layers;
            }
            deleteState("containers", containerId);
            containers.remove(containerId);
        } catch (HcsException e) {
            throw backend("failed to remove container \"" + containerId + "\"", e);
        } finally {
            c.lock.unlock();
        }
    }

    private Ctr ctr(String id) {
        Ctr c = containers.get(id);
        if (c == null) {
            throw BackendException.notFound("container", id);
        }
        return c;
    }

    @Override
    public void updateContainer(String containerId, LinuxResources resources) {
        ctr(containerId);
        throw BackendException.unimplemented("updating the resources of Windows container \"" + containerId
                + "\" is not implemented by the windows-hcs plugin");
    }

    @Override
    public ExecResult execSync(String containerId, List<String> command, Duration timeout) {
        Ctr c = ctr(containerId);
        String what = "exec in container \"" + containerId + "\"";
        if (c.state != ContainerStatus.State.RUNNING || c.system == null) {
            throw new BackendException(BackendException.Kind.FAILED_PRECONDITION, what + ": it is not running");
        }
        Documents.ProcessInput init = c.rec.process();
        var params = Documents.process(new Documents.ProcessInput(command, init.user(), init.workingDirectory(),
                init.env(), false, false, true, 0, 0));
        HcsProcess p;
        try {
            p = c.system.createProcess(params, options.operationTimeout());
        } catch (HcsException e) {
            throw backend(what, e);
        }
        try (p) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            Thread o = drain(p.stdout(), out);
            Thread e = drain(p.stderr(), err);
            Integer code = p.awaitExit(timeout.isZero() ? null : timeout);
            if (code == null) {
                p.terminate();
                p.awaitExit(Duration.ofSeconds(10));
                join(o, e);
                throw new BackendException(BackendException.Kind.DEADLINE_EXCEEDED, what + ": " + command
                        + " did not finish within " + timeout.toMillis() + " ms and was terminated");
            }
            join(o, e);
            return new ExecResult(out.toByteArray(), err.toByteArray(), code);
        } catch (HcsException e) {
            throw backend(what, e);
        }
    }

    private static Thread drain(InputStream in, ByteArrayOutputStream to) {
        if (in == null) {
            return null;
        }
        return Thread.ofVirtual().name("hcs-exec-io").start(() -> {
            try (in) {
                in.transferTo(to);
            } catch (IOException ignored) {
                // the pipe broke: the process is gone
            }
        });
    }

    private static void join(Thread... threads) {
        for (Thread t : threads) {
            if (t != null) {
                try {
                    t.join(Duration.ofSeconds(10));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    // ---- stats

    @Override
    public ContainerUsage containerStats(String containerId) {
        Ctr c = ctr(containerId);
        return new ContainerUsage(containerId, usage(c.state == ContainerStatus.State.RUNNING ? c.system : null));
    }

    @Override
    public SandboxUsage sandboxStats(String sandboxId) {
        Pod pod = pod(sandboxId);
        Usage total = usage(pod.ready ? pod.system : null);
        for (Ctr c : containers.values()) {
            if (c.rec.sandboxId().equals(sandboxId) && c.state == ContainerStatus.State.RUNNING) {
                total = add(total, usage(c.system));
            }
        }
        return new SandboxUsage(sandboxId, total, -1, -1);
    }

    /** The Statistics property of a running system: CPU in 100 ns units, memory as commit and working set. */
    Usage usage(ComputeSystem system) {
        Instant now = clock.instant();
        if (system == null) {
            return new Usage(now, -1, -1, -1, -1, -1, -1, -1);
        }
        Schema.Statistics s;
        try {
            s = system.properties(Schema.PropertyQuery.STATISTICS, options.operationTimeout()).statistics();
        } catch (HcsException e) {
            if (e.gone()) {
                return new Usage(now, -1, -1, -1, -1, -1, -1, -1);
            }
            throw backend("failed to read the statistics of \"" + system.id() + "\"", e);
        }
        if (s == null) {
            return new Usage(now, -1, -1, -1, -1, -1, -1, -1);
        }
        long cpu = s.processor() == null || s.processor().totalRuntime100ns() == null ? -1
                : s.processor().totalRuntime100ns() * 100;
        long ws = s.memory() == null || s.memory().memoryUsagePrivateWorkingSetBytes() == null ? -1
                : s.memory().memoryUsagePrivateWorkingSetBytes();
        long commit = s.memory() == null || s.memory().memoryUsageCommitBytes() == null ? -1
                : s.memory().memoryUsageCommitBytes();
        return new Usage(now, cpu, ws, commit, -1, -1, -1, -1);
    }

    private static Usage add(Usage a, Usage b) {
        return new Usage(a.at(), sum(a.cpuUsageCoreNanoSeconds(), b.cpuUsageCoreNanoSeconds()),
                sum(a.memoryWorkingSetBytes(), b.memoryWorkingSetBytes()), sum(a.memoryUsageBytes(), b.memoryUsageBytes()),
                -1, -1, -1, -1);
    }

    private static long sum(long a, long b) {
        return a < 0 ? b : b < 0 ? a : a + b;
    }

    // ---- recovery

    @Override
    public Report recover(List<String> sandboxIds, List<String> containerIds) {
        if (!bindings.available()) {
            List<String> lost = new ArrayList<>(sandboxIds);
            lost.addAll(containerIds);
            return new Report(lost);
        }
        List<String> lost = new ArrayList<>();
        for (String id : sandboxIds) {
            if (pods.containsKey(id)) {
                continue;
            }
            PodRecord rec = load("pods", id, PodRecord.class);
            if (rec == null) {
                lost.add(id);
                continue;
            }
            Pod pod = new Pod(rec);
            try {
                pod.system = ComputeSystem.open(hcs(), id);
                pod.ready = running(pod.system);
            } catch (HcsException e) {
                pod.ready = false;
            }
            pods.put(id, pod);
        }
        for (String id : containerIds) {
            if (containers.containsKey(id)) {
                continue;
            }
            CtrRecord rec = load("containers", id, CtrRecord.class);
            if (rec == null) {
                lost.add(id);
                continue;
            }
            Ctr c = new Ctr(rec);
            c.startedAt = rec.startedAt();
            try {
                c.system = ComputeSystem.open(hcs(), id);
            } catch (HcsException e) {
                c.system = null;
            }
            var exit = ExitFile.read(stateFile("containers", id + ".exit"));
            if (exit.isPresent()) {
                c.exitSeen.set(true);
                c.state = ContainerStatus.State.EXITED;
                c.exitCode = exit.get().code();
                c.finishedAt = exit.get().finishedAt();
                c.reason = c.exitCode == 0 ? "Completed" : "Error";
            } else if (rec.pid() != 0 && c.system != null) {
                try {
                    HcsProcess init = c.system.openProcess(rec.pid());
                    c.init = init;
                    c.state = ContainerStatus.State.RUNNING;
                    watch(c, init);
                } catch (HcsException e) {
                    onExit(c, -1);
                    c.message = "exited while berth was down; its exit code is unknown";
                }
            } else if (rec.pid() != 0) {
                onExit(c, -1);
                c.message = "its compute system is gone; exit code unknown";
            }
            containers.put(id, c);
        }
        return new Report(lost);
    }

    /**
     * Whether a system opened after a restart still runs: its State property (no property types asked for gives
     * the basic properties). A system that stopped while berth was down sends no SystemExited to a new handle.
     */
    private boolean running(ComputeSystem system) {
        try {
            Schema.Properties p = system.properties(new Schema.PropertyQuery(List.of()), options.operationTimeout());
            return p.state() == null || p.state().equals("Running");
        } catch (HcsException e) {
            return false;
        }
    }

    // ---- state files

    private Path stateFile(String kind, String name) {
        return context.stateDir().resolve(kind).resolve(name);
    }

    private void save(String kind, String id, Object rec) {
        try {
            Path f = stateFile(kind, id + ".json");
            Files.createDirectories(f.getParent());
            Path tmp = f.resolveSibling(id + ".json.tmp");
            STATE.writeValue(tmp.toFile(), rec);
            Files.move(tmp, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new BackendException(BackendException.Kind.UNAVAILABLE, "cannot write the state of \"" + id
                    + "\" under " + context.stateDir() + ": " + e.getMessage(), e);
        }
    }

    private <T> T load(String kind, String id, Class<T> type) {
        Path f = stateFile(kind, id + ".json");
        try {
            return Files.exists(f) ? STATE.readValue(f.toFile(), type) : null;
        } catch (IOException e) {
            context.logger().log(System.Logger.Level.WARNING, "cannot read " + f + ": " + e.getMessage());
            return null;
        }
    }

    private void deleteState(String kind, String id) {
        try {
            Files.deleteIfExists(stateFile(kind, id + ".json"));
            Files.deleteIfExists(stateFile(kind, id + ".exit"));
        } catch (IOException e) {
            context.logger().log(System.Logger.Level.WARNING, "cannot delete the state of " + id + ": "
                    + e.getMessage());
        }
    }

    private static BackendException backend(String what, RuntimeException e) {
        if (e instanceof BackendException b) {
            return b;
        }
        if (e instanceof HcsException h) {
            return h.toBackend(what);
        }
        if (e instanceof IllegalArgumentException) {
            return BackendException.invalid(what + ": " + e.getMessage());
        }
        return BackendException.internal(what + ": " + e, e);
    }

    @Override
    public void close() {
        for (Ctr c : containers.values()) {
            if (c.init != null) {
                c.init.close();
            }
            if (c.system != null) {
                c.system.close();
            }
        }
        for (Pod p : pods.values()) {
            if (p.hold != null) {
                p.hold.close();
            }
            if (p.system != null) {
                p.system.close();
            }
        }
    }
}
