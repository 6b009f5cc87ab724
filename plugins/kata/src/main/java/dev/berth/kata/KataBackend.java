package dev.berth.kata;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.berth.kata.oci.Json;
import dev.berth.kata.oci.OciSpecs;
import dev.berth.kata.proto.events.Envelope;
import dev.berth.kata.proto.events.TaskExit;
import dev.berth.kata.proto.events.TaskOOM;
import dev.berth.kata.proto.runtimeoptions.Options;
import dev.berth.kata.proto.task.CreateTaskRequest;
import dev.berth.kata.proto.task.ExecProcessRequest;
import dev.berth.kata.proto.task.StateResponse;
import dev.berth.kata.proto.task.UpdateTaskRequest;
import dev.berth.kata.proto.task.WaitResponse;
import dev.berth.kata.proto.types.Mount;
import dev.berth.kata.proto.types.Status;
import dev.berth.kata.shim.CriLog;
import dev.berth.kata.shim.EventsServer;
import dev.berth.kata.shim.FifoReader;
import dev.berth.kata.shim.Host;
import dev.berth.kata.shim.ShimLauncher;
import dev.berth.kata.shim.TaskClient;
import dev.berth.kata.ttrpc.TtrpcException;
import dev.berth.oci.Processes;
import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendEvent;
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
import dev.berth.spi.MountSpec;
import dev.berth.spi.PortForwarding;
import dev.berth.spi.Recoverable;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.SandboxStatus;
import dev.berth.spi.PodMetricsSource;
import dev.berth.spi.StatsProvider;
import dev.berth.spi.StreamingIo;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A kata handler: each pod is one shim v2 process (for Kata, one VM) that runs the pod's sandbox (pause)
 * container and all its containers, driven over one ttrpc connection.
 *
 * <h2>On-disk state</h2>
 * Every task has a bundle {@code <stateDir>/bundles/<id>} (shims require the directory name to be the id):
 * {@code config.json}, {@code rootfs/} (the shim mounts the {@link MountSpec}s there), {@code berth.properties}
 * (what berth needs after a restart), FIFOs {@code stdout}/{@code stderr}; the sandbox bundle also has the
 * shim's {@code log} FIFO and the {@code address} file the shim writes. Nothing else is needed to recover: the
 * shim keeps the truth about tasks, read back with {@code State}.
 *
 * <h2>Locks</h2>
 * One lock per pod serialises lifecycle changes of that pod and its containers (create, stop, remove);
 * status, stats and exec calls run concurrently over the shared connection.
 */
final class KataBackend implements RuntimeBackend, Recoverable, StatsProvider, PodMetricsSource, EventSource,
        StreamingIo,
        LogReopening, PortForwarding {
    private static final Duration QUICK = Duration.ofSeconds(10);
    private static final Duration FOREVER = Duration.ofDays(3650);
    private static final int MAX_EXEC_OUTPUT = 16 << 20;

    private final KataOptions options;
    private final BackendContext context;
    private final System.Logger log;
    private final Path bundles;
    private final Path execs;
    private final ShimLauncher launcher;
    private final Map<String, Pod> pods = new ConcurrentHashMap<>();
    private final Map<String, Ctr> containers = new ConcurrentHashMap<>();
    private final EventsServer events;

    /** A pod: its shim connection and what containers need to join it. */
    static final class Pod {
        final String id;
        final Path bundle;
        final Properties props;
        final ReentrantLock lock = new ReentrantLock();
        final Set<String> containerIds = ConcurrentHashMap.newKeySet();
        volatile TaskClient task;
        volatile long shimPid;
        volatile String lost;
        volatile FifoReader shimLog;

        Pod(String id, Path bundle, Properties props) {
            this.id = id;
            this.bundle = bundle;
            this.props = props;
        }

        long pid() {
            return Long.parseLong(props.getProperty("pid", "0"));
        }
    }

    /** A container of a pod. */
    static final class Ctr {
        final String id;
        final String sandboxId;
        final Path bundle;
        final Properties props;
        volatile CriLog criLog;
        /** berth's write end of the container's stdin FIFO, held open so the process sees no EOF until it should. */
        volatile java.nio.channels.FileChannel stdin;
        volatile boolean oomKilled;
        volatile Instant lostAt;

        Ctr(String id, String sandboxId, Path bundle, Properties props) {
            this.id = id;
            this.sandboxId = sandboxId;
            this.bundle = bundle;
            this.props = props;
        }
    }

    KataBackend(KataOptions options, BackendContext context) {
        this.options = options;
        this.context = context;
        this.log = context.logger();
        this.bundles = context.stateDir().resolve("bundles");
        this.execs = context.stateDir().resolve("execs");
        Path eventsSocket = context.stateDir().resolve("events.ttrpc");
        this.launcher = new ShimLauncher(options.shim(), context.stateDir().resolve("berth-shim.sock").toString(),
                eventsSocket, options.shimDebug());
        try {
            Files.createDirectories(bundles);
            Files.createDirectories(execs);
            this.events = EventsServer.start(eventsSocket, this::onEvent);
        } catch (IOException e) {
            throw new BackendException(Kind.UNAVAILABLE, "failed to start the events server of kata handler \""
                    + options.handler() + "\": " + e.getMessage());
        }
    }

    // ---------------------------------------------------------------- features and health

    @Override
    public BackendFeatures features() {
        // Kata mounts volumes into the guest over virtio-fs without recursive read-only support, and berth
        // does not pass user namespaces to the shim.
        return new BackendFeatures(false, false, BackendFeatures.CgroupDriver.CGROUPFS, true, options.sandboxImage());
    }

    @Override
    public BackendHealth health() {
        List<BackendHealth.Check> checks = new ArrayList<>();
        Path shim = resolve(options.shim());
        checks.add(new BackendHealth.Check(shim != null, "shim binary " + options.shim(), shim != null ? ""
                : options.isKataShim()
                        ? "install Kata Containers (it ships containerd-shim-kata-v2) or set the handler's shim option"
                        : "install " + options.shim() + " or fix the handler's shim option"));
        boolean mkfifo = resolve("mkfifo") != null;
        checks.add(new BackendHealth.Check(mkfifo, "mkfifo (coreutils)", mkfifo ? "" : "install coreutils"));
        if (!options.configPath().isEmpty()) {
            boolean ok = Files.isReadable(Path.of(options.configPath()));
            checks.add(new BackendHealth.Check(ok, "shim config " + options.configPath(),
                    ok ? "" : "create the file or fix the handler's config_path option"));
        }
        if (options.isKataShim()) {
            Path kvm = Path.of("/dev/kvm");
            boolean kvmOk = Files.isReadable(kvm) && Files.isWritable(kvm);
            checks.add(new BackendHealth.Check(kvmOk, "/dev/kvm", kvmOk ? ""
                    : "Kata needs hardware virtualisation: enable VT-x/AMD-V (or nested virtualisation) and load kvm_intel or kvm_amd"));
            boolean vsock = Files.exists(Path.of("/dev/vhost-vsock"));
            checks.add(new BackendHealth.Check(vsock, "/dev/vhost-vsock", vsock ? ""
                    : "Kata talks to its guest agent over vsock: load the vhost_vsock module (modprobe vhost_vsock)"));
        }
        return BackendHealth.of(checks);
    }

    private static Path resolve(String program) {
        if (program.contains("/")) {
            Path p = Path.of(program);
            return Files.isExecutable(p) ? p : null;
        }
        String path = System.getenv().getOrDefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        for (String dir : path.split(":")) {
            if (!dir.isEmpty()) {
                Path p = Path.of(dir, program);
                if (Files.isExecutable(p)) {
                    return p;
                }
            }
        }
        return null;
    }

    // ---------------------------------------------------------------- sandboxes

    @Override
    public SandboxStatus createSandbox(SandboxSpec spec) {
        String id = spec.id();
        Path bundle = bundles.resolve(id);
        if (pods.containsKey(id) || Files.exists(bundle)) {
            throw new BackendException(Kind.ALREADY_EXISTS, "failed to create sandbox \"" + id + "\": it exists");
        }
        Instant created = Instant.now();
        Properties props = new Properties();
        props.setProperty("kind", "sandbox");
        props.setProperty("createdAt", created.toString());
        props.setProperty("name", spec.metadata().name());
        props.setProperty("namespace", spec.metadata().namespace());
        props.setProperty("uid", spec.metadata().uid());
        props.setProperty("hostNetwork", Boolean.toString(spec.hostNetwork()));
        var ns = spec.security().namespaces();
        props.setProperty("hostPid", Boolean.toString(ns.pid() == dev.berth.spi.NamespaceMode.NODE));
        props.setProperty("hostIpc", Boolean.toString(ns.ipc() == dev.berth.spi.NamespaceMode.NODE));
        putPath(props, "netns", spec.netnsPath());
        putPath(props, "resolvConf", spec.resolvConf());
        putPath(props, "hosts", spec.hostsFile());
        putPath(props, "hostname", spec.hostnameFile());
        props.setProperty("cgroupParent", spec.cgroupParent());
        Pod pod = new Pod(id, bundle, props);
        boolean ok = false;
        try {
            Files.createDirectories(bundle.resolve("rootfs"));
            writeJson(bundle.resolve("config.json"), OciSpecs.sandbox(spec, cgroupsPath(spec.cgroupParent(), id)));
            store(bundle, props);
            Host.mkfifo(bundle.resolve("log"));
            pod.shimLog = drainShimLog(pod);
            Path socket = launcher.start(id, bundle, options.createTimeout());
            pod.task = TaskClient.connect(socket, ShimLauncher.NAMESPACE);
            pod.shimPid = pod.task.connect(id, QUICK).getShimPid();
            CreateTaskRequest.Builder req = CreateTaskRequest.newBuilder().setId(id).setBundle(bundle.toString())
                    .addAllRootfs(mounts(spec.rootfs()));
            if (!options.configPath().isEmpty()) {
                req.setOptions(Any.newBuilder().setTypeUrl("runtimeoptions.v1.Options")
                        .setValue(Options.newBuilder().setConfigPath(options.configPath()).build().toByteString()));
            }
            long pid = pod.task.create(req.build(), options.createTimeout()).getPid();
            props.setProperty("pid", Long.toString(pid));
            props.setProperty("shimPid", Long.toString(pod.shimPid));
            store(bundle, props);
            pods.put(id, pod);
            ok = true;
            return new SandboxStatus(id, SandboxStatus.State.NOTREADY, created, pid, info(pod));
        } catch (TtrpcException e) {
            throw e.toBackend("create sandbox", id);
        } catch (IOException | RuntimeException e) {
            if (e instanceof BackendException be) {
                throw be;
            }
            throw new BackendException(Kind.UNAVAILABLE, "failed to create sandbox \"" + id + "\": " + message(e));
        } finally {
            if (!ok) {
                destroyPod(pod, true);
            }
        }
    }

    @Override
    public void startSandbox(String sandboxId) {
        Pod pod = pod(sandboxId);
        pod.lock.lock();
        try {
            long pid = task(pod, "start sandbox").start(sandboxId, "", options.startTimeout()).getPid();
            pod.props.setProperty("pid", Long.toString(pid));
            store(pod.bundle, pod.props);
        } catch (TtrpcException e) {
            throw e.toBackend("start sandbox", sandboxId);
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to start sandbox \"" + sandboxId + "\": " + e.getMessage());
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
        for (String c : List.copyOf(pod.containerIds)) {
            stopContainer(c, timeout);
        }
        pod.lock.lock();
        try {
            // The pause process has nothing to save: SIGKILL at once.
            killAndWait(pod, sandboxId, Duration.ZERO, Signals.SIGKILL);
        } finally {
            pod.lock.unlock();
        }
    }

    @Override
    public SandboxStatus sandboxStatus(String sandboxId) {
        Pod pod = pod(sandboxId);
        Instant created = Instant.parse(pod.props.getProperty("createdAt"));
        SandboxStatus.State state = SandboxStatus.State.NOTREADY;
        long pid = 0;
        String error = null;
        try {
            StateResponse s = task(pod, "get status of sandbox").state(sandboxId, "", QUICK);
            if (s.getStatus() == Status.RUNNING) {
                state = SandboxStatus.State.READY;
                pid = s.getPid();
            }
        } catch (TtrpcException e) {
            error = e.getMessage();
        }
        Map<String, String> info = info(pod); // after the call, which notices a lost shim
        if (error != null) {
            info.put("error", error);
        }
        return new SandboxStatus(sandboxId, state, created, pid, info);
    }

    @Override
    public void removeSandbox(String sandboxId) {
        Pod pod = pods.get(sandboxId);
        if (pod == null) {
            return;
        }
        stopSandbox(sandboxId, Duration.ZERO);
        for (String c : List.copyOf(pod.containerIds)) {
            removeContainer(c);
        }
        pod.lock.lock();
        try {
            destroyPod(pod, false);
            pods.remove(sandboxId);
        } finally {
            pod.lock.unlock();
        }
    }

    /**
     * Deletes the sandbox task, shuts the shim down and removes the bundle. With a live shim this is Delete +
     * Shutdown; with a dead or stuck one, the shim's own {@code delete} action (which also kills what the
     * shim left running) and a SIGKILL of the shim process.
     */
    private void destroyPod(Pod pod, boolean quiet) {
        List<String> problems = new ArrayList<>();
        TaskClient t = pod.task;
        boolean clean = false;
        if (t != null && t.isOpen() && pod.lost == null) {
            try {
                t.delete(pod.id, "", options.stopTimeout());
            } catch (TtrpcException e) {
                if (!e.is(TtrpcException.NOT_FOUND)) {
                    problems.add("delete: " + e.getMessage());
                }
            }
            try {
                t.shutdown(pod.id, options.stopTimeout());
                clean = true;
            } catch (TtrpcException e) {
                // Kata's shim exits inside Shutdown, so the connection closes instead of answering.
                clean = e.is(TtrpcException.UNAVAILABLE);
                if (!clean) {
                    problems.add("shutdown: " + e.getMessage());
                }
            }
        }
        if (t != null) {
            t.close();
        }
        long shimPid = pod.shimPid > 0 ? pod.shimPid : Long.parseLong(pod.props.getProperty("shimPid", "0"));
        if (shimPid > 0 && !Processes.awaitExit(shimPid, clean ? Duration.ofSeconds(10) : Duration.ZERO)) {
            Host.kill(shimPid, "-id " + pod.id);
        }
        if (Files.exists(pod.bundle.resolve("config.json")) && (!clean || !Host.mountsUnder(pod.bundle).isEmpty())) {
            try {
                Host.Run r = launcher.delete(pod.id, pod.bundle, options.stopTimeout());
                if (r.exitCode() != 0 && !clean) {
                    log.log(System.Logger.Level.DEBUG, "shim delete of " + pod.id + ": " + r.errorText());
                }
            } catch (IOException e) {
                problems.add("shim delete: " + e.getMessage());
            }
        }
        removeStaleSocket(pod.bundle);
        FifoReader drain = pod.shimLog;
        if (drain != null) {
            drain.stop();
        }
        try {
            Host.unmountAll(pod.bundle);
            Host.deleteTree(pod.bundle);
        } catch (IOException e) {
            problems.add(e.getMessage());
        }
        if (!problems.isEmpty() && !quiet) {
            throw new BackendException(Kind.INTERNAL, "failed to remove sandbox \"" + pod.id + "\": "
                    + String.join("; ", problems));
        }
    }

    /**
     * A shim that was killed leaves its socket file behind (a clean Shutdown removes it). Remove it once nobody
     * answers on it, so that no stale sockets pile up in the shims' socket directory.
     */
    private void removeStaleSocket(Path bundle) {
        Path socket;
        try {
            socket = ShimLauncher.socketFromBundle(bundle);
        } catch (IOException e) {
            return;
        }
        if (!Files.exists(socket)) {
            return;
        }
        try (var ch = java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(socket))) {
            return; // still served: not ours to remove
        } catch (IOException e) {
            try {
                Files.deleteIfExists(socket);
            } catch (IOException ignored) {
                // best effort
            }
        }
    }

    // ---------------------------------------------------------------- containers

    @Override
    public ContainerStatus createContainer(ContainerSpec spec) {
        String id = spec.id();
        Pod pod = pod(spec.sandboxId());
        Path bundle = bundles.resolve(id);
        if (containers.containsKey(id) || Files.exists(bundle)) {
            throw new BackendException(Kind.ALREADY_EXISTS, "failed to create container \"" + id + "\": it exists");
        }
        pod.lock.lock();
        Instant created = Instant.now();
        Properties props = new Properties();
        props.setProperty("kind", "container");
        props.setProperty("sandboxId", pod.id);
        props.setProperty("createdAt", created.toString());
        props.setProperty("logPath", spec.logPath());
        props.setProperty("tty", Boolean.toString(spec.tty()));
        props.setProperty("stdin", Boolean.toString(spec.stdin()));
        props.setProperty("stdinOnce", Boolean.toString(spec.stdinOnce()));
        props.setProperty("stopSignal", Integer.toString(Signals.parse(spec.image().stopSignal())));
        Ctr c = new Ctr(id, pod.id, bundle, props);
        boolean ok = false;
        boolean taskCreated = false;
        try {
            TaskClient t = task(pod, "create container");
            StateResponse sb = t.state(pod.id, "", QUICK);
            if (sb.getStatus() != Status.RUNNING) {
                throw new BackendException(Kind.FAILED_PRECONDITION, "failed to create container \"" + id
                        + "\": sandbox \"" + pod.id + "\" is not ready");
            }
            long targetPid = 0;
            String target = spec.security().namespaces().targetId();
            if (!target.isEmpty()) {
                targetPid = t.state(target, "", QUICK).getPid();
            }
            Map<String, Object> config;
            try {
                config = OciSpecs.container(spec, podRef(pod, sb.getPid()), targetPid,
                        cgroupsPath(pod.props.getProperty("cgroupParent", ""), id), SPEC_HOST);
            } catch (IllegalArgumentException e) {
                throw BackendException.invalid("failed to create container \"" + id + "\": " + e.getMessage());
            }
            Files.createDirectories(bundle.resolve("rootfs"));
            writeJson(bundle.resolve("config.json"), config);
            store(bundle, props);
            // Output always goes through FIFOs and berth's copier, to the CRI log or, without one, nowhere: attach
            // taps the copier, and the runc shim hangs in Create when given stdin without stdout.
            Host.mkfifo(bundle.resolve("stdout"));
            String stdout = bundle.resolve("stdout").toString();
            String stderr = "";
            if (!spec.tty()) {
                Host.mkfifo(bundle.resolve("stderr"));
                stderr = bundle.resolve("stderr").toString();
            }
            c.criLog = openLog(c);
            String stdin = "";
            if (spec.stdin()) {
                Host.mkfifo(bundle.resolve("stdin"));
                stdin = bundle.resolve("stdin").toString();
                c.stdin = openStdin(c);
            }
            CreateTaskRequest req = CreateTaskRequest.newBuilder().setId(id).setBundle(bundle.toString())
                    .addAllRootfs(mounts(spec.rootfs())).setTerminal(spec.tty()).setStdin(stdin).setStdout(stdout)
                    .setStderr(stderr).build();
            try {
                t.create(req, options.createTimeout());
                taskCreated = true;
            } catch (TtrpcException e) {
                if (e.is(TtrpcException.DEADLINE_EXCEEDED)) {
                    taskCreated = true; // it may still appear: delete it below
                }
                throw e;
            }
            containers.put(id, c);
            pod.containerIds.add(id);
            ok = true;
            return new ContainerStatus(id, ContainerStatus.State.CREATED, created, null, null, 0, "", "", 0,
                    Map.of("bundle", bundle.toString()));
        } catch (TtrpcException e) {
            throw e.toBackend("create container", id);
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to create container \"" + id + "\": " + e.getMessage());
        } finally {
            pod.lock.unlock();
            if (!ok) {
                discardContainer(pod, c, taskCreated);
            }
        }
    }

    @Override
    public void startContainer(String containerId) {
        Ctr c = ctr(containerId);
        Pod pod = pod(c.sandboxId);
        pod.lock.lock();
        try {
            TaskClient t = task(pod, "start container");
            Status s = t.state(containerId, "", QUICK).getStatus();
            if (s != Status.CREATED) {
                throw new BackendException(Kind.FAILED_PRECONDITION, "failed to start container \"" + containerId
                        + "\": it is " + s + ", not CREATED");
            }
            // Taken before Start: a process that exits at once must not look finished before it started.
            Instant startedAt = Instant.now();
            t.start(containerId, "", options.startTimeout());
            c.props.setProperty("startedAt", startedAt.toString());
            store(c.bundle, c.props);
        } catch (TtrpcException e) {
            throw e.toBackend("start container", containerId);
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to start container \"" + containerId + "\": " + e.getMessage());
        } finally {
            pod.lock.unlock();
        }
    }

    @Override
    public void stopContainer(String containerId, Duration timeout) {
        Ctr c = containers.get(containerId);
        if (c == null) {
            return;
        }
        Pod pod = pods.get(c.sandboxId);
        if (pod == null) {
            return;
        }
        pod.lock.lock();
        try {
            killAndWait(pod, containerId, timeout, Integer.parseInt(c.props.getProperty("stopSignal", "15")));
        } finally {
            pod.lock.unlock();
        }
    }

    /**
     * Sends {@code signal} (unless the grace period is zero), waits the grace period, then SIGKILLs and waits
     * up to the stop timeout. A task that is gone, already stopped or whose shim died counts as stopped.
     */
    private void killAndWait(Pod pod, String id, Duration grace, int signal) {
        TaskClient t = pod.task;
        if (t == null || !t.isOpen() || pod.lost != null) {
            return;
        }
        try {
            Status s = t.state(id, "", QUICK).getStatus();
            if (s == Status.STOPPED) {
                return;
            }
            if (!grace.isZero() && signal != Signals.SIGKILL) {
                t.kill(id, "", signal, false, options.stopTimeout());
                try {
                    t.await(id, "", grace);
                    return;
                } catch (TtrpcException e) {
                    if (!e.is(TtrpcException.DEADLINE_EXCEEDED)) {
                        throw e;
                    }
                }
            }
            t.kill(id, "", Signals.SIGKILL, false, options.stopTimeout());
            t.await(id, "", options.stopTimeout());
        } catch (TtrpcException e) {
            if (e.is(TtrpcException.NOT_FOUND) || e.is(TtrpcException.UNAVAILABLE)) {
                return; // already gone, or the shim died (reported by status)
            }
            throw e.toBackend("stop container", id);
        }
    }

    @Override
    public ContainerStatus containerStatus(String containerId) {
        Ctr c = ctr(containerId);
        Pod pod = pods.get(c.sandboxId);
        Instant created = Instant.parse(c.props.getProperty("createdAt"));
        Instant started = c.props.containsKey("startedAt") ? Instant.parse(c.props.getProperty("startedAt")) : null;
        Map<String, String> info = Map.of("bundle", c.bundle.toString(), "sandboxId", c.sandboxId);
        try {
            if (pod == null) {
                throw new TtrpcException(TtrpcException.UNAVAILABLE, "its sandbox is gone");
            }
            StateResponse s = task(pod, "get status of container").state(containerId, "", QUICK);
            return switch (s.getStatus()) {
                case CREATED -> new ContainerStatus(containerId, ContainerStatus.State.CREATED, created, null, null,
                        0, "", "", s.getPid(), info);
                case RUNNING, PAUSED, PAUSING -> new ContainerStatus(containerId, ContainerStatus.State.RUNNING,
                        created, started == null ? created : started, null, 0, "", "", s.getPid(), info);
                case STOPPED -> {
                    int code = s.getExitStatus();
                    Instant finished = s.hasExitedAt()
                            ? Instant.ofEpochSecond(s.getExitedAt().getSeconds(), s.getExitedAt().getNanos())
                            : Instant.now();
                    String reason = c.oomKilled ? "OOMKilled" : code == 0 ? "Completed" : "Error";
                    yield new ContainerStatus(containerId, ContainerStatus.State.EXITED, created,
                            started == null ? finished : started, finished, code, reason, "", 0, info);
                }
                default -> new ContainerStatus(containerId, ContainerStatus.State.UNKNOWN, created, started, null, 0,
                        "", "the shim reports an unknown state", 0, info);
            };
        } catch (TtrpcException e) {
            if (!e.is(TtrpcException.UNAVAILABLE) && !e.is(TtrpcException.NOT_FOUND)) {
                throw e.toBackend("get status of container", containerId);
            }
            // The shim died (or lost the task): the container is gone with it. Report it exited, once and stably.
            if (c.lostAt == null) {
                c.lostAt = Instant.now();
            }
            return new ContainerStatus(containerId, ContainerStatus.State.EXITED, created,
                    started == null ? c.lostAt : started, c.lostAt, 255, "Error",
                    "the pod's shim is gone: " + e.getMessage(), 0, info);
        }
    }

    @Override
    public void removeContainer(String containerId) {
        Ctr c = containers.get(containerId);
        if (c == null) {
            return;
        }
        stopContainer(containerId, Duration.ZERO);
        Pod pod = pods.get(c.sandboxId);
        if (pod == null) {
            discardContainer(null, c, false);
            return;
        }
        pod.lock.lock();
        try {
            discardContainer(pod, c, true);
        } finally {
            pod.lock.unlock();
        }
    }

    /** Deletes the task (or runs the shim's delete action when the shim is gone), the log copier and the bundle. */
    private void discardContainer(Pod pod, Ctr c, boolean deleteTask) {
        List<String> problems = new ArrayList<>();
        boolean deleted = false;
        if (deleteTask && pod != null && pod.task != null && pod.task.isOpen() && pod.lost == null) {
            try {
                pod.task.delete(c.id, "", options.stopTimeout());
                deleted = true;
            } catch (TtrpcException e) {
                deleted = e.is(TtrpcException.NOT_FOUND);
                if (!deleted && !e.is(TtrpcException.UNAVAILABLE)) {
                    problems.add(e.getMessage());
                }
            }
        }
        if (!deleted && deleteTask && Files.exists(c.bundle.resolve("config.json"))) {
            try {
                launcher.delete(c.id, c.bundle, options.stopTimeout());
            } catch (IOException e) {
                problems.add("shim delete: " + e.getMessage());
            }
        }
        closeStdin(c);
        CriLog l = c.criLog;
        if (l != null) {
            l.awaitEnd(Duration.ofSeconds(2));
            l.close();
        }
        try {
            Host.unmountAll(c.bundle);
            Host.deleteTree(c.bundle);
        } catch (IOException e) {
            problems.add(e.getMessage());
        }
        containers.remove(c.id);
        if (pod != null) {
            pod.containerIds.remove(c.id);
        }
        if (!problems.isEmpty()) {
            log.log(System.Logger.Level.WARNING, "cleanup of container " + c.id + ": " + String.join("; ", problems));
        }
    }

    @Override
    public void updateContainer(String containerId, LinuxResources resources) {
        Ctr c = ctr(containerId);
        Pod pod = pod(c.sandboxId);
        byte[] json = Json.write(OciSpecs.resources(resources)).getBytes(StandardCharsets.UTF_8);
        try {
            task(pod, "update container").update(UpdateTaskRequest.newBuilder().setId(containerId)
                    .setResources(Any.newBuilder().setTypeUrl(OciSpecs.RESOURCES_TYPE_URL)
                            .setValue(ByteString.copyFrom(json))).build(), options.stopTimeout());
        } catch (TtrpcException e) {
            throw e.toBackend("update container", containerId);
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public ExecResult execSync(String containerId, List<String> command, Duration timeout) {
        if (command.isEmpty()) {
            throw BackendException.invalid("failed to exec in container \"" + containerId + "\": empty command");
        }
        Ctr c = ctr(containerId);
        Pod pod = pod(c.sandboxId);
        String execId = "exec-" + HexFormat.of().formatHex(randomBytes(8));
        Path dir = execs.resolve(execId);
        Capture out = null;
        Capture err = null;
        TaskClient t = null;
        boolean added = false;
        try {
            t = task(pod, "exec in container");
            if (t.state(containerId, "", QUICK).getStatus() != Status.RUNNING) {
                throw new BackendException(Kind.FAILED_PRECONDITION, "failed to exec in container \""
                        + containerId + "\": it is not running");
            }
            Map<String, Object> config = (Map<String, Object>) Json.parse(
                    Files.readString(c.bundle.resolve("config.json"), StandardCharsets.UTF_8));
            Map<String, Object> process = OciSpecs.execProcess((Map<String, Object>) config.get("process"), command);
            Files.createDirectories(dir);
            Host.mkfifo(dir.resolve("stdout"));
            Host.mkfifo(dir.resolve("stderr"));
            out = new Capture(dir.resolve("stdout"), execId + "-out");
            err = new Capture(dir.resolve("stderr"), execId + "-err");
            t.exec(ExecProcessRequest.newBuilder().setId(containerId).setExecId(execId)
                    .setStdout(dir.resolve("stdout").toString()).setStderr(dir.resolve("stderr").toString())
                    .setSpec(Any.newBuilder().setTypeUrl(OciSpecs.PROCESS_TYPE_URL)
                            .setValue(ByteString.copyFromUtf8(Json.write(process)))).build(), options.execTimeout());
            added = true;
            t.start(containerId, execId, options.execTimeout());
            WaitResponse w;
            try {
                w = t.await(containerId, execId, timeout.isZero() ? FOREVER : timeout);
            } catch (TtrpcException e) {
                if (!e.is(TtrpcException.DEADLINE_EXCEEDED)) {
                    throw e;
                }
                try {
                    t.kill(containerId, execId, Signals.SIGKILL, false, options.stopTimeout());
                    t.await(containerId, execId, options.stopTimeout());
                } catch (TtrpcException ignored) {
                    // it may have finished meanwhile; Delete below cleans up either way
                }
                throw new BackendException(Kind.DEADLINE_EXCEEDED, "failed to exec in container \"" + containerId
                        + "\": command timed out after " + timeout.toMillis() + " ms");
            }
            out.awaitEnd(Duration.ofSeconds(10));
            err.awaitEnd(Duration.ofSeconds(10));
            return new ExecResult(out.bytes(), err.bytes(), w.getExitStatus());
        } catch (TtrpcException e) {
            throw e.toBackend("exec in container", containerId);
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to exec in container \"" + containerId + "\": "
                    + e.getMessage());
        } finally {
            if (added) {
                try {
                    t.delete(containerId, execId, options.stopTimeout());
                } catch (TtrpcException ignored) {
                    // the exec is gone with its container or shim
                }
            }
            if (out != null) {
                out.reader.stop();
            }
            if (err != null) {
                err.reader.stop();
            }
            try {
                Host.deleteTree(dir);
            } catch (IOException ignored) {
                // a stray FIFO in the exec dir is harmless
            }
        }
    }

    /** Collects an exec stream, up to a cap. */
    private static final class Capture {
        final ByteArrayOutputStream buf = new ByteArrayOutputStream();
        final ReentrantLock lock = new ReentrantLock();
        final FifoReader reader;

        Capture(Path fifo, String name) {
            reader = FifoReader.start(fifo, name, chunk -> {
                lock.lock();
                try {
                    int room = MAX_EXEC_OUTPUT - buf.size();
                    buf.write(chunk, 0, Math.min(room, chunk.length));
                } finally {
                    lock.unlock();
                }
            }, () -> { });
        }

        void awaitEnd(Duration d) {
            reader.awaitEnd(d);
        }

        byte[] bytes() {
            lock.lock();
            try {
                return buf.toByteArray();
            } finally {
                lock.unlock();
            }
        }
    }

    // ---------------------------------------------------------------- streaming

    /**
     * An interactive exec: FIFOs for the client's streams, CloseIO when the client's stdin ends, ResizePty for
     * terminal size changes, and the exit code from Wait. The exec is always Deleted.
     */
    @Override
    @SuppressWarnings("unchecked")
    public int exec(String containerId, List<String> command, Streams io) {
        if (command.isEmpty()) {
            throw BackendException.invalid("failed to exec in container \"" + containerId + "\": empty command");
        }
        Ctr c = ctr(containerId);
        Pod pod = pod(c.sandboxId);
        String execId = "exec-" + HexFormat.of().formatHex(randomBytes(8));
        Path dir = execs.resolve(execId);
        List<FifoReader> readers = new ArrayList<>();
        Thread stdinPump = null;
        Thread resizer = null;
        TaskClient t = null;
        boolean added = false;
        try {
            t = task(pod, "exec in container");
            if (t.state(containerId, "", QUICK).getStatus() != Status.RUNNING) {
                throw new BackendException(Kind.FAILED_PRECONDITION, "failed to exec in container \""
                        + containerId + "\": it is not running");
            }
            Map<String, Object> config = (Map<String, Object>) Json.parse(
                    Files.readString(c.bundle.resolve("config.json"), StandardCharsets.UTF_8));
            Map<String, Object> process = new LinkedHashMap<>(
                    OciSpecs.execProcess((Map<String, Object>) config.get("process"), command));
            process.put("terminal", io.tty());
            if (io.tty()) {
                // The client's first size, if it sent one, is the console's size from the start: a ResizePty after
                // Start can come too late for a command that asks at once (stty size).
                TerminalSize initial = io.resize().poll(50, java.util.concurrent.TimeUnit.MILLISECONDS);
                if (initial != null) {
                    process.put("consoleSize", Map.of("height", initial.height(), "width", initial.width()));
                }
            }
            Files.createDirectories(dir);
            ExecProcessRequest.Builder req = ExecProcessRequest.newBuilder().setId(containerId).setExecId(execId)
                    .setTerminal(io.tty());
            Host.mkfifo(dir.resolve("stdout"));
            req.setStdout(dir.resolve("stdout").toString());
            readers.add(FifoReader.start(dir.resolve("stdout"), execId + "-out", chunk -> send(io.stdout(), chunk), () -> { }));
            if (!io.tty()) {
                Host.mkfifo(dir.resolve("stderr"));
                req.setStderr(dir.resolve("stderr").toString());
                readers.add(FifoReader.start(dir.resolve("stderr"), execId + "-err",
                        chunk -> send(io.stderr(), chunk), () -> { }));
            }
            if (io.stdin() != null) {
                Host.mkfifo(dir.resolve("stdin"));
                req.setStdin(dir.resolve("stdin").toString());
            }
            req.setSpec(Any.newBuilder().setTypeUrl(OciSpecs.PROCESS_TYPE_URL)
                    .setValue(ByteString.copyFromUtf8(Json.write(process))));
            t.exec(req.build(), options.execTimeout());
            added = true;
            if (io.stdin() != null) {
                TaskClient conn = t;
                stdinPump = Thread.ofPlatform().daemon().name(execId + "-in").start(
                        () -> pumpStdin(io.stdin(), dir.resolve("stdin"), conn, containerId, execId));
            }
            t.start(containerId, execId, options.execTimeout());
            if (io.tty()) {
                TaskClient conn = t;
                resizer = Thread.ofVirtual().name(execId + "-resize").start(() -> {
                    try {
                        while (true) {
                            TerminalSize size = io.resize().take();
                            conn.resizePty(containerId, execId, size.width(), size.height(), QUICK);
                        }
                    } catch (InterruptedException | TtrpcException e) {
                        // session over
                    }
                });
            }
            int code = t.await(containerId, execId, FOREVER).getExitStatus();
            for (FifoReader r : readers) {
                r.awaitEnd(Duration.ofSeconds(10));
            }
            return code;
        } catch (TtrpcException e) {
            throw e.toBackend("exec in container", containerId);
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to exec in container \"" + containerId + "\": "
                    + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackendException(Kind.UNAVAILABLE, "failed to exec in container \"" + containerId
                    + "\": interrupted");
        } finally {
            if (resizer != null) {
                resizer.interrupt();
            }
            if (added) {
                try {
                    t.delete(containerId, execId, options.stopTimeout());
                } catch (TtrpcException ignored) {
                    // gone with its container
                }
            }
            readers.forEach(FifoReader::stop);
            if (stdinPump != null) {
                // a pump still waiting for the shim to open stdin: complete its open so it can finish
                try (var ignored = java.nio.channels.FileChannel.open(dir.resolve("stdin"), StandardOpenOption.READ,
                        StandardOpenOption.WRITE)) {
                    stdinPump.interrupt();
                } catch (IOException ignored) {
                    // already gone
                }
            }
            try {
                Host.deleteTree(dir);
            } catch (IOException ignored) {
                // harmless leftovers in the exec dir
            }
        }
    }

    private static void send(java.io.OutputStream out, byte[] chunk) {
        if (out == null) {
            return;
        }
        try {
            out.write(chunk);
            out.flush();
        } catch (IOException e) {
            // the client went away; the process keeps running until it ends
        }
    }

    /** Copies a client's input into a stdin FIFO until the input ends. */
    private static void copy(java.io.InputStream in, java.nio.channels.WritableByteChannel out) throws IOException {
        byte[] buf = new byte[8192];
        for (int n; (n = in.read(buf)) >= 0; ) {
            var b = java.nio.ByteBuffer.wrap(buf, 0, n);
            while (b.hasRemaining()) {
                out.write(b);
            }
        }
    }

    /** Copies the client's stdin into the exec's stdin FIFO, then tells the shim with CloseIO. */
    private void pumpStdin(java.io.InputStream in, Path fifo, TaskClient t, String containerId, String execId) {
        try (var out = java.nio.channels.FileChannel.open(fifo, StandardOpenOption.WRITE)) {
            copy(in, out);
        } catch (IOException e) {
            return; // the exec ended first
        }
        try {
            t.closeStdin(containerId, execId, QUICK);
        } catch (TtrpcException e) {
            log.log(System.Logger.Level.DEBUG, "CloseIO of " + execId + ": " + e.getMessage());
        }
    }

    /**
     * Streams the container's output (from the CRI log copier) to the client until the container exits or the
     * client goes away, and the client's input into the container's stdin FIFO when it has one. With
     * {@code stdin_once} the end of the first session's input is the end of the container's stdin (CloseIO).
     */
    @Override
    public void attach(String containerId, Streams io) {
        Ctr c = ctr(containerId);
        Pod pod = pod(c.sandboxId);
        CriLog l = c.criLog;
        if (l == null) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "failed to attach to container \"" + containerId
                    + "\": it has no log stream to attach to");
        }
        java.util.concurrent.atomic.AtomicBoolean gone = new java.util.concurrent.atomic.AtomicBoolean();
        CriLog.Tap tap = (stderr, chunk) -> {
            java.io.OutputStream out = stderr && io.stderr() != null ? io.stderr() : io.stdout();
            try {
                out.write(chunk);
                out.flush();
            } catch (IOException e) {
                gone.set(true);
            }
        };
        l.addTap(tap);
        java.nio.channels.FileChannel in = c.stdin;
        if (io.stdin() != null && in != null) {
            boolean once = Boolean.parseBoolean(c.props.getProperty("stdinOnce"));
            Thread.ofVirtual().name("kata-attach-stdin-" + containerId.substring(0, 12)).start(() -> {
                try {
                    copy(io.stdin(), in);
                } catch (IOException e) {
                    // the client or the container went away
                }
                if (once) {
                    closeStdin(c); // stdin_once: the first attach session's end is the process's EOF
                    try {
                        task(pod, "close stdin of container").closeStdin(containerId, "", QUICK);
                    } catch (TtrpcException e) {
                        log.log(System.Logger.Level.DEBUG, "CloseIO of " + containerId + ": " + e.getMessage());
                    }
                }
            });
        }
        try {
            while (!gone.get()) {
                try {
                    task(pod, "attach to container").await(containerId, "", Duration.ofSeconds(1));
                    l.awaitEnd(Duration.ofSeconds(2));
                    return;
                } catch (TtrpcException e) {
                    if (!e.is(TtrpcException.DEADLINE_EXCEEDED)) {
                        if (e.is(TtrpcException.NOT_FOUND) || e.is(TtrpcException.UNAVAILABLE)) {
                            return;
                        }
                        throw e.toBackend("attach to container", containerId);
                    }
                }
            }
        } finally {
            l.removeTap(tap);
        }
    }

    // ---------------------------------------------------------------- stats

    @Override
    public ContainerUsage containerStats(String containerId) {
        Ctr c = ctr(containerId);
        return new ContainerUsage(containerId, usage(pod(c.sandboxId), containerId, "container"));
    }

    @Override
    public SandboxUsage sandboxStats(String sandboxId) {
        Pod pod = pod(sandboxId);
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
        Pod pod = pod(sandboxId);
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
        Properties p = pod.props;
        if (interfaces.isEmpty() && !Boolean.parseBoolean(p.getProperty("hostNetwork"))) {
            Path netns = path(p, "netns");
            if (netns == null && pod.pid() > 0) {
                netns = Path.of("/proc", Long.toString(pod.pid()), "ns", "net");
            }
            if (netns != null) {
                try {
                    interfaces = dev.berth.oci.NetworkNamespaces.interfaces(netns);
                } catch (java.io.IOException e) {
                    // the namespace is going away with the pod: its containers' readings still stand
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new BackendException(Kind.UNAVAILABLE, "failed to read the metrics of sandbox \""
                            + sandboxId + "\": interrupted");
                }
            }
        }
        return new PodMetrics(sandboxId, ctrs, interfaces);
    }

    private Usage usage(Pod pod, String id, String what) {
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

    // ---------------------------------------------------------------- events

    private void onEvent(Envelope env) {
        if (!ShimLauncher.NAMESPACE.equals(env.getNamespace())) {
            return;
        }
        try {
            switch (env.getTopic()) {
                case "/tasks/exit" -> {
                    TaskExit e = TaskExit.parseFrom(env.getEvent().getValue());
                    Ctr c = containers.get(e.getContainerId());
                    if (c != null && (e.getId().isEmpty() || e.getId().equals(e.getContainerId()))) {
                        Instant at = Instant.ofEpochSecond(e.getExitedAt().getSeconds(), e.getExitedAt().getNanos());
                        context.events().publish(new BackendEvent(BackendEvent.Type.STOPPED, c.id, c.sandboxId, at));
                    }
                }
                case "/tasks/oom" -> {
                    Ctr c = containers.get(TaskOOM.parseFrom(env.getEvent().getValue()).getContainerId());
                    if (c != null) {
                        c.oomKilled = true;
                        c.props.setProperty("oomKilled", "true"); // survives a berth restart
                        try {
                            store(c.bundle, c.props);
                        } catch (IOException e) {
                            log.log(System.Logger.Level.DEBUG, "cannot record OOM of " + c.id + ": " + e.getMessage());
                        }
                    }
                }
                default -> { }
            }
        } catch (InvalidProtocolBufferException e) {
            log.log(System.Logger.Level.WARNING, "malformed " + env.getTopic() + " event: " + e.getMessage());
        }
    }

    // ---------------------------------------------------------------- recovery

    @Override
    public Report recover(List<String> sandboxIds, List<String> containerIds) {
        List<String> lost = new ArrayList<>();
        for (String id : sandboxIds) {
            Path bundle = bundles.resolve(id);
            Properties props = load(bundle);
            if (props == null || !"sandbox".equals(props.getProperty("kind"))) {
                lost.add(id);
                continue;
            }
            Pod pod = new Pod(id, bundle, props);
            pod.shimPid = Long.parseLong(props.getProperty("shimPid", "0"));
            try {
                pod.shimLog = drainShimLog(pod);
            } catch (IOException e) {
                log.log(System.Logger.Level.DEBUG, "shim log of " + id + ": " + e.getMessage());
            }
            try {
                pod.task = TaskClient.connect(ShimLauncher.socketFromBundle(bundle), ShimLauncher.NAMESPACE);
                pod.shimPid = pod.task.connect(id, QUICK).getShimPid();
            } catch (IOException | TtrpcException e) {
                // Keep the pod so that status reports it and remove cleans it up.
                pod.lost = "cannot reconnect to its shim: " + message(e);
                if (pod.task != null) {
                    pod.task.close();
                }
            }
            pods.put(id, pod);
        }
        for (String id : containerIds) {
            Path bundle = bundles.resolve(id);
            Properties props = load(bundle);
            Pod pod = props == null ? null : pods.get(props.getProperty("sandboxId", ""));
            if (pod == null || !"container".equals(props.getProperty("kind"))) {
                lost.add(id);
                continue;
            }
            Ctr c = new Ctr(id, pod.id, bundle, props);
            c.oomKilled = Boolean.parseBoolean(props.getProperty("oomKilled"));
            containers.put(id, c);
            pod.containerIds.add(id);
            if (pod.lost == null) {
                try {
                    // Only a running process still has the FIFOs open for writing.
                    if (pod.task.state(id, "", QUICK).getStatus() == Status.RUNNING) {
                        c.criLog = openLog(c);
                        if (Boolean.parseBoolean(props.getProperty("stdin"))
                                && !Boolean.parseBoolean(props.getProperty("stdinClosed"))) {
                            c.stdin = openStdin(c);
                        }
                    }
                } catch (TtrpcException | IOException e) {
                    log.log(System.Logger.Level.DEBUG, "log of " + id + " not reattached: " + message(e));
                }
            }
        }
        return new Report(lost);
    }

    @Override
    public void close() {
        events.close();
        for (Pod pod : pods.values()) {
            if (pod.task != null) {
                pod.task.close();
            }
            if (pod.shimLog != null) {
                pod.shimLog.stop();
            }
        }
        for (Ctr c : containers.values()) {
            if (c.criLog != null) {
                c.criLog.close();
            }
        }
        pods.clear();
        containers.clear();
    }

    // ---------------------------------------------------------------- helpers

    private Pod pod(String id) {
        Pod p = pods.get(id);
        if (p == null) {
            throw BackendException.notFound("sandbox", id);
        }
        return p;
    }

    /**
     * Connects to {@code port} on the loopback of the pod's network namespace on the host, as containerd's CRI
     * does for every runtime. With a shim that runs containers on the host (the runc shim) that is the pod's own
     * loopback. A Kata VM's processes are not there: its guest has its own loopback, so a service bound to
     * 127.0.0.1 inside the VM cannot be reached this way (Kata's agent offers no port-forward).
     */
    @Override
    public java.nio.channels.ByteChannel connect(String sandboxId, int port) {
        Properties p = pod(sandboxId).props;
        Path netns = null;
        if (!Boolean.parseBoolean(p.getProperty("hostNetwork"))) {
            netns = path(p, "netns");
            if (netns == null) {
                throw new BackendException(Kind.FAILED_PRECONDITION, "failed to port-forward to sandbox \""
                        + sandboxId + "\": it has no network namespace");
            }
        }
        return dev.berth.oci.NetworkNamespaces.portForward(sandboxId, netns, port);
    }

    /** The CRI log is written by berth's copier from the shim's FIFOs, so reopening is a matter of that copier. */
    @Override
    public void reopenLog(String containerId) {
        Ctr c = ctr(containerId);
        if (containerStatus(containerId).state() != ContainerStatus.State.RUNNING) {
            throw new BackendException(BackendException.Kind.FAILED_PRECONDITION, "cannot reopen the log of "
                    + "container \"" + containerId + "\": it is not running");
        }
        CriLog l = c.criLog;
        if (l == null) {
            throw new BackendException(BackendException.Kind.FAILED_PRECONDITION, "cannot reopen the log of "
                    + "container \"" + containerId + "\": it has no log copier");
        }
        try {
            l.reopen();
        } catch (java.io.IOException e) {
            throw new BackendException(BackendException.Kind.INTERNAL, "cannot reopen the log of container \""
                    + containerId + "\": " + e.getMessage());
        }
    }

    /**
     * The host facts for container specs: berth's bounding set caps what containers may get (a runtime on the host
     * cannot grant more; a VM's agent could, but the operator who limited berth did not ask for it), and Localhost
     * seccomp profiles are read from the node.
     */
    private static final OciSpecs.Host SPEC_HOST = new OciSpecs.Host(dev.berth.oci.Capabilities.boundingSet(),
            ref -> {
                try {
                    return dev.berth.kata.oci.Json.parse(Files.readString(Path.of(ref)));
                } catch (IOException | RuntimeException e) {
                    return null;
                }
            });

    private Ctr ctr(String id) {
        Ctr c = containers.get(id);
        if (c == null) {
            throw BackendException.notFound("container", id);
        }
        return c;
    }

    /** The pod's live connection; UNAVAILABLE (as a TtrpcException) when its shim is gone. */
    private static TaskClient task(Pod pod, String action) throws TtrpcException {
        TaskClient t = pod.task;
        if (pod.lost != null) {
            throw new TtrpcException(TtrpcException.UNAVAILABLE, pod.lost);
        }
        if (t == null || !t.isOpen()) {
            pod.lost = "the shim exited or closed its connection";
            throw new TtrpcException(TtrpcException.UNAVAILABLE, pod.lost);
        }
        return t;
    }

    private Map<String, String> info(Pod pod) {
        Map<String, String> info = new LinkedHashMap<>();
        info.put("handler", options.handler());
        info.put("shim", options.shim());
        info.put("bundle", pod.bundle.toString());
        info.put("shimPid", Long.toString(pod.shimPid));
        if (pod.lost != null) {
            info.put("shimLost", pod.lost);
        }
        return info;
    }

    private static OciSpecs.PodRef podRef(Pod pod, long pid) {
        Properties p = pod.props;
        return new OciSpecs.PodRef(pod.id, p.getProperty("name"), p.getProperty("namespace"), p.getProperty("uid"),
                pid, path(p, "netns"), Boolean.parseBoolean(p.getProperty("hostNetwork")),
                Boolean.parseBoolean(p.getProperty("hostPid")), Boolean.parseBoolean(p.getProperty("hostIpc")),
                path(p, "resolvConf"), path(p, "hosts"), path(p, "hostname"));
    }

    private static String cgroupsPath(String parent, String id) {
        // Without a parent, a flat name: runc removes the leaf on delete and leaves no empty parents behind.
        return parent.isEmpty() ? "/berth-kata-" + id : parent.replaceAll("/+$", "") + "/" + id;
    }

    private static List<Mount> mounts(List<MountSpec> rootfs) {
        return rootfs.stream().map(m -> Mount.newBuilder().setType(m.type()).setSource(m.source())
                .setTarget(m.target()).addAllOptions(m.options()).build()).toList();
    }

    private static java.nio.channels.FileChannel openStdin(Ctr c) throws IOException {
        // Read and write: opening a FIFO so never blocks, and berth's read end stays unused.
        return java.nio.channels.FileChannel.open(c.bundle.resolve("stdin"), java.nio.file.StandardOpenOption.READ,
                java.nio.file.StandardOpenOption.WRITE);
    }

    /** Closes berth's end of the stdin FIFO for good: the process reads EOF (and a restart does not reopen it). */
    private void closeStdin(Ctr c) {
        java.nio.channels.FileChannel in = c.stdin;
        c.stdin = null;
        if (in == null) {
            return;
        }
        try {
            in.close();
            c.props.setProperty("stdinClosed", "true");
            store(c.bundle, c.props);
        } catch (IOException e) {
            log.log(System.Logger.Level.DEBUG, "closing stdin of " + c.id + ": " + e.getMessage());
        }
    }

    private CriLog openLog(Ctr c) throws IOException {
        boolean tty = Boolean.parseBoolean(c.props.getProperty("tty"));
        String logPath = c.props.getProperty("logPath", "");
        return CriLog.start(Path.of(logPath.isEmpty() ? "/dev/null" : logPath), c.bundle.resolve("stdout"),
                tty ? null : c.bundle.resolve("stderr"), c.id.substring(0, Math.min(12, c.id.length())));
    }

    /** Reads the shim's {@code log} FIFO into berth's log, so the shim never blocks on it. */
    private FifoReader drainShimLog(Pod pod) throws IOException {
        Path fifo = pod.bundle.resolve("log");
        if (!Files.exists(fifo)) {
            throw new IOException("no log FIFO in " + pod.bundle);
        }
        String tag = "shim " + pod.id.substring(0, Math.min(12, pod.id.length())) + ": ";
        return FifoReader.start(fifo, "shim-log-" + tag.strip(), chunk -> {
            for (String line : new String(chunk, StandardCharsets.UTF_8).split("\n")) {
                if (!line.isBlank()) {
                    log.log(System.Logger.Level.DEBUG, tag + line);
                }
            }
        }, () -> { });
    }

    private static void putPath(Properties p, String key, Path v) {
        if (v != null) {
            p.setProperty(key, v.toString());
        }
    }

    private static Path path(Properties p, String key) {
        String v = p.getProperty(key);
        return v == null || v.isEmpty() ? null : Path.of(v);
    }

    private static void writeJson(Path file, Map<String, Object> value) throws IOException {
        Files.writeString(file, Json.write(value), StandardCharsets.UTF_8);
    }

    private static void store(Path bundle, Properties props) throws IOException {
        Path tmp = bundle.resolve("berth.properties.tmp");
        try (var out = Files.newOutputStream(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING)) {
            props.store(out, "berth kata backend state");
        }
        Files.move(tmp, bundle.resolve("berth.properties"), StandardCopyOption.ATOMIC_MOVE);
    }

    private static Properties load(Path bundle) {
        Path f = bundle.resolve("berth.properties");
        if (!Files.isRegularFile(f)) {
            return null;
        }
        Properties p = new Properties();
        try (var in = Files.newInputStream(f)) {
            p.load(in);
            return p;
        } catch (IOException e) {
            return null;
        }
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        ThreadLocalRandom.current().nextBytes(b);
        return b;
    }

    private static String message(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }
}
