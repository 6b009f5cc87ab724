package dev.berth.kata;

import static dev.berth.kata.ShimRegistry.QUICK;
import static dev.berth.kata.ShimRegistry.message;
import static dev.berth.kata.ShimRegistry.task;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import dev.berth.kata.oci.KataSpecs;
import dev.berth.kata.proto.task.CreateTaskRequest;
import dev.berth.kata.proto.task.StateResponse;
import dev.berth.kata.proto.task.UpdateTaskRequest;
import dev.berth.kata.proto.types.Status;
import dev.berth.kata.shim.CriLog;
import dev.berth.kata.shim.ShimLauncher;
import dev.berth.kata.shim.TaskClient;
import dev.berth.kata.ttrpc.TtrpcException;
import dev.berth.oci.BundleSpecs;
import dev.berth.oci.CreatedLogs;
import dev.berth.oci.FileTrees;
import dev.berth.oci.Libc;
import dev.berth.oci.LinuxBackend;
import dev.berth.oci.MountSources;
import dev.berth.oci.spec.OciJson;
import dev.berth.oci.spec.RuntimeSpec;
import dev.berth.oci.spec.SpecMapper;
import dev.berth.spi.BackendException.Kind;
import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.LinuxResources;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Containers: tasks in their pod's shim, each with a bundle, FIFOs for its streams and berth's copier of its output
 * into the CRI log.
 */
record ShimContainers(KataOptions options, System.Logger log, Path bundles, ShimLauncher launcher, ShimRegistry registry)
        implements LinuxBackend.Containers {

    @Override
    public ContainerStatus create(ContainerSpec spec) {
        String id = spec.id();
        Pod pod = registry.pod(spec.sandboxId());
        Path bundle = bundles.resolve(id);
        if (registry.containers.containsKey(id) || Files.exists(bundle)) {
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
        Container c = new Container(id, pod.id, bundle, props);
        boolean ok = false;
        boolean taskCreated = false;
        Runnable removeLog = CreatedLogs.removalIfNew(spec.logPath());
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
            RuntimeSpec config = KataSpecs.container(spec, podRef(pod, sb.getPid()), targetPid,
                    ShimPods.cgroupsPath(pod.props.getProperty("cgroupParent", ""), id), SPEC_HOST);
            MountSources.ensure(id, spec.mounts());
            Files.createDirectories(bundle.resolve("rootfs"));
            OciJson.write(bundle.resolve("config.json"), config);
            BundleProperties.store(bundle, props);
            // Output always goes through FIFOs and berth's copier, to the CRI log or, without one, nowhere: attach
            // taps the copier, and the runc shim hangs in Create when given stdin without stdout.
            Libc.mkfifo(bundle.resolve("stdout"), 0600);
            String stdout = bundle.resolve("stdout").toString();
            String stderr = "";
            if (!spec.tty()) {
                Libc.mkfifo(bundle.resolve("stderr"), 0600);
                stderr = bundle.resolve("stderr").toString();
            }
            c.criLog = openLog(c);
            String stdin = "";
            if (spec.stdin()) {
                Libc.mkfifo(bundle.resolve("stdin"), 0600);
                stdin = bundle.resolve("stdin").toString();
                c.stdin = openStdin(c);
            }
            CreateTaskRequest req = CreateTaskRequest.newBuilder().setId(id).setBundle(bundle.toString())
                    .addAllRootfs(ShimRegistry.mounts(spec.rootfs())).setTerminal(spec.tty()).setStdin(stdin)
                    .setStdout(stdout).setStderr(stderr).build();
            try {
                t.create(req, options.createTimeout());
                taskCreated = true;
            } catch (TtrpcException e) {
                if (e.is(TtrpcException.DEADLINE_EXCEEDED)) {
                    taskCreated = true; // it may still appear: delete it below
                }
                throw e;
            }
            registry.containers.put(id, c);
            pod.containerIds.add(id);
            ok = true;
            return new ContainerStatus(id, ContainerStatus.State.CREATED, created, null, null, 0, "", "", 0,
                    info(c, pod));
        } catch (TtrpcException e) {
            throw e.toBackendForRequest("create container", id);
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to create container \"" + id + "\": " + e.getMessage());
        } finally {
            pod.lock.unlock();
            if (!ok) {
                discard(pod, c, taskCreated);
                if (removeLog != null) {
                    removeLog.run();
                }
            }
        }
    }

    @Override
    public void start(String containerId) {
        Container c = registry.container(containerId);
        Pod pod = registry.pod(c.sandboxId);
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
            BundleProperties.store(c.bundle, c.props);
        } catch (TtrpcException e) {
            throw e.toBackendForRequest("start container", containerId);
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to start container \"" + containerId + "\": " + e.getMessage());
        } finally {
            pod.lock.unlock();
        }
    }

    @Override
    public void stop(String containerId, Duration timeout) {
        new ShimStops(options, registry).stop(containerId, timeout);
    }

    /** {@link ShimStops#killAndWait}, for the pod's own task. */
    void killAndWait(Pod pod, String id, Duration grace, int signal) {
        new ShimStops(options, registry).killAndWait(pod, id, grace, signal);
    }

    @Override
    public ContainerStatus status(String containerId) {
        Container c = registry.container(containerId);
        Pod pod = registry.pods.get(c.sandboxId);
        Instant created = Instant.parse(c.props.getProperty("createdAt"));
        Instant started = c.props.containsKey("startedAt") ? Instant.parse(c.props.getProperty("startedAt")) : null;
        StateResponse s;
        try {
            if (pod == null) {
                throw new TtrpcException(TtrpcException.UNAVAILABLE, "its sandbox is gone");
            }
            s = task(pod, "get status of container").state(containerId, "", QUICK);
        } catch (TtrpcException e) {
            if (!e.is(TtrpcException.UNAVAILABLE) && !e.is(TtrpcException.NOT_FOUND)) {
                throw e.toBackend("get status of container", containerId);
            }
            Container.Exit known = c.exit;
            if (known != null) {
                // It had exited before its shim went: that exit stays its status.
                return exited(c, created, started, known, info(c, pod));
            }
            // The shim died (or lost the task): the container is gone with it. Report it exited, once and stably.
            if (c.lostAt == null) {
                c.lostAt = Instant.now();
            }
            return new ContainerStatus(containerId, ContainerStatus.State.EXITED, created,
                    started == null ? c.lostAt : started, c.lostAt, 255, "Error",
                    "the pod's shim is gone: " + e.getMessage(), 0, info(c, pod));
        }
        Map<String, String> info = info(c, pod); // after the call, which notices a lost shim
        return switch (s.getStatus()) {
            case CREATED -> new ContainerStatus(containerId, ContainerStatus.State.CREATED, created, null, null,
                    0, "", "", s.getPid(), info);
            case RUNNING, PAUSED, PAUSING -> new ContainerStatus(containerId, ContainerStatus.State.RUNNING,
                    created, started == null ? created : started, null, 0, "", "", s.getPid(), info);
            case STOPPED -> {
                Container.Exit exit = c.exit;
                if (exit == null) {
                    exit = new Container.Exit(s.getExitStatus(), s.hasExitedAt()
                            ? Instant.ofEpochSecond(s.getExitedAt().getSeconds(), s.getExitedAt().getNanos())
                            : Instant.now());
                    c.exit = exit;
                }
                yield exited(c, created, started, exit, info);
            }
            default -> new ContainerStatus(containerId, ContainerStatus.State.UNKNOWN, created, started, null, 0,
                    "", "the shim reports an unknown state", 0, info);
        };
    }

    private static ContainerStatus exited(Container c, Instant created, Instant started, Container.Exit exit,
                                          Map<String, String> info) {
        String reason = c.oomKilled ? "OOMKilled" : exit.code() == 0 ? "Completed" : "Error";
        return new ContainerStatus(c.id, ContainerStatus.State.EXITED, created, started == null ? exit.at() : started,
                exit.at(), exit.code(), reason, "", 0, info);
    }

    /**
     * A container's status info, shown by verbose status and {@code berth explain} (keys in the plugin's README):
     * {@code bundle}, {@code sandbox_id}, and its pod's shim ({@code shim_pid}, {@code shim_address},
     * {@code shim_lost}), which runs the container.
     */
    private static Map<String, String> info(Container c, Pod pod) {
        Map<String, String> info = new LinkedHashMap<>();
        info.put("bundle", c.bundle.toString());
        info.put("sandbox_id", c.sandboxId);
        if (pod != null) {
            ShimPods.shimInfo(pod, info);
        }
        return info;
    }

    @Override
    public void remove(String containerId) {
        Container c = registry.containers.get(containerId);
        if (c == null) {
            return;
        }
        stop(containerId, Duration.ZERO);
        Pod pod = registry.pods.get(c.sandboxId);
        if (pod == null) {
            discard(null, c, false);
            return;
        }
        pod.lock.lock();
        try {
            discard(pod, c, true);
        } finally {
            pod.lock.unlock();
        }
    }

    /** Deletes the task (or runs the shim's delete action when the shim is gone), the log copier and the bundle. */
    private void discard(Pod pod, Container c, boolean deleteTask) {
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
        c.discard(); // no exit or OOM record lands in the bundle from here on
        try {
            FileTrees.unmountAll(c.bundle);
            FileTrees.deleteTree(c.bundle);
        } catch (IOException e) {
            problems.add(e.getMessage());
        }
        registry.containers.remove(c.id);
        if (pod != null) {
            pod.containerIds.remove(c.id);
        }
        if (!problems.isEmpty()) {
            log.log(System.Logger.Level.WARNING, "cleanup of container " + c.id + ": " + String.join("; ", problems));
        }
    }

    @Override
    public void update(String containerId, LinuxResources resources) {
        Container c = registry.container(containerId);
        Pod pod = registry.pod(c.sandboxId);
        var oci = SpecMapper.resources(resources);
        byte[] json = OciJson.writeBytes(oci);
        try {
            task(pod, "update container").update(UpdateTaskRequest.newBuilder().setId(containerId)
                    .setResources(Any.newBuilder().setTypeUrl(KataSpecs.RESOURCES_TYPE_URL)
                            .setValue(ByteString.copyFrom(json))).build(), options.stopTimeout());
        } catch (TtrpcException e) {
            throw e.toBackendForRequest("update container", containerId);
        }
        try {
            BundleSpecs.updateResources(c.bundle, oci);
        } catch (IOException e) {
            // the limits are in force; only the spec a verbose status shows is behind them
            log.log(System.Logger.Level.WARNING, "container " + containerId + ": resources updated, but its "
                    + "config.json still holds the old ones: " + e.getMessage());
        }
    }

    /** The CRI log is written by berth's copier from the shim's FIFOs, so reopening is a matter of that copier. */
    void reopenLog(String containerId) {
        Container c = registry.container(containerId);
        if (status(containerId).state() != ContainerStatus.State.RUNNING) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "cannot reopen the log of "
                    + "container \"" + containerId + "\": it is not running");
        }
        CriLog l = c.criLog;
        if (l == null) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "cannot reopen the log of "
                    + "container \"" + containerId + "\": it has no log copier");
        }
        try {
            l.reopen();
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "cannot reopen the log of container \""
                    + containerId + "\": " + e.getMessage());
        }
    }

    /**
     * Re-creates the containers of {@code containerIds} of recovered pods and reattaches the log copier and stdin
     * of those still running. Ids without a container bundle or pod are added to {@code lost}.
     */
    void recover(List<String> containerIds, List<String> lost) {
        for (String id : containerIds) {
            Path bundle = bundles.resolve(id);
            Properties props = BundleProperties.load(bundle);
            Pod pod = props == null ? null : registry.pods.get(props.getProperty("sandboxId", ""));
            if (pod == null || !"container".equals(props.getProperty("kind"))) {
                lost.add(id);
                continue;
            }
            Container c = new Container(id, pod.id, bundle, props);
            c.oomKilled = Boolean.parseBoolean(props.getProperty("oomKilled"));
            c.exit = Container.Exit.stored(props);
            registry.containers.put(id, c);
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
    }

    /** Closes every log copier; the containers keep running. */
    void close() {
        for (Container c : registry.containers.values()) {
            if (c.criLog != null) {
                c.criLog.close();
            }
        }
        registry.containers.clear();
    }

    /** Closes berth's end of the stdin FIFO for good: the process reads EOF (and a restart does not reopen it). */
    void closeStdin(Container c) {
        FileChannel in = c.stdin;
        c.stdin = null;
        if (in == null) {
            return;
        }
        try {
            in.close();
            c.props.setProperty("stdinClosed", "true");
            BundleProperties.store(c.bundle, c.props);
        } catch (IOException e) {
            log.log(System.Logger.Level.DEBUG, "closing stdin of " + c.id + ": " + e.getMessage());
        }
    }

    private static FileChannel openStdin(Container c) throws IOException {
        // Read and write: opening a FIFO so never blocks, and berth's read end stays unused.
        return FileChannel.open(c.bundle.resolve("stdin"), StandardOpenOption.READ, StandardOpenOption.WRITE);
    }

    private static CriLog openLog(Container c) throws IOException {
        boolean tty = Boolean.parseBoolean(c.props.getProperty("tty"));
        String logPath = c.props.getProperty("logPath", "");
        return CriLog.start(Path.of(logPath.isEmpty() ? "/dev/null" : logPath), c.bundle.resolve("stdout"),
                tty ? null : c.bundle.resolve("stderr"), c.id.substring(0, Math.min(12, c.id.length())));
    }

    /** What a container's spec needs of its pod, from the pod's properties and the pause process's pid. */
    private static SpecMapper.PodRef podRef(Pod pod, long pid) {
        Properties p = pod.props;
        return new SpecMapper.PodRef(pod.id, p.getProperty("name"), p.getProperty("namespace"), p.getProperty("uid"),
                pid, BundleProperties.path(p, "netns"), Boolean.parseBoolean(p.getProperty("hostNetwork")),
                Boolean.parseBoolean(p.getProperty("hostPid")), Boolean.parseBoolean(p.getProperty("hostIpc")),
                BundleProperties.path(p, "resolvConf"), BundleProperties.path(p, "hosts"),
                BundleProperties.path(p, "hostname"));
    }

    /**
     * The host facts for container specs: berth's bounding set caps what containers may get (a runtime on the host
     * cannot grant more; a VM's agent could, but the operator who limited berth did not ask for it), and Localhost
     * seccomp profiles are read from the node.
     */
    private static final SpecMapper.Host SPEC_HOST = new SpecMapper.Host(dev.berth.oci.Capabilities.boundingSet(),
            ref -> {
                try {
                    return OciJson.mapper().readValue(Path.of(ref).toFile(), Object.class);
                } catch (IOException | RuntimeException e) {
                    return null;
                }
            });
}
