package dev.berth.kata;

import static dev.berth.kata.ShimRegistry.QUICK;
import static dev.berth.kata.ShimRegistry.message;
import static dev.berth.kata.ShimRegistry.task;

import com.google.protobuf.Any;
import dev.berth.kata.oci.KataSpecs;
import dev.berth.kata.proto.runtimeoptions.Options;
import dev.berth.kata.proto.task.CreateTaskRequest;
import dev.berth.kata.proto.task.StateResponse;
import dev.berth.kata.proto.types.Status;
import dev.berth.kata.shim.FifoReader;
import dev.berth.kata.shim.ShimLauncher;
import dev.berth.kata.shim.TaskClient;
import dev.berth.kata.ttrpc.TtrpcException;
import dev.berth.oci.FileTrees;
import dev.berth.oci.Libc;
import dev.berth.oci.LinuxBackend;
import dev.berth.oci.ProcessRunner;
import dev.berth.oci.Processes;
import dev.berth.oci.spec.OciJson;
import dev.berth.spi.BackendException.Kind;
import dev.berth.spi.BackendException;
import dev.berth.spi.NamespaceMode;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.SandboxStatus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Pods: one shim process per pod, started for the sandbox (pause) task and shut down with it, and reconnected
 * from the sandbox bundle after a berth restart. A pod whose shim is gone stays known, so that status reports it
 * and remove cleans up after it. {@code shimLost} hears at once when a pod's shim closes its connection (it
 * exited or was killed) other than in berth's own teardown.
 */
record ShimPods(KataOptions options, System.Logger log, Path bundles, ShimLauncher launcher, ShimRegistry registry,
                ShimContainers containers, java.util.function.BiConsumer<Pod, String> shimLost)
        implements LinuxBackend.Sandboxes {

    @Override
    public SandboxStatus create(SandboxSpec spec) {
        String id = spec.id();
        Path bundle = bundles.resolve(id);
        if (registry.pods.containsKey(id) || Files.exists(bundle)) {
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
        props.setProperty("hostPid", Boolean.toString(ns.pid() == NamespaceMode.NODE));
        props.setProperty("hostIpc", Boolean.toString(ns.ipc() == NamespaceMode.NODE));
        BundleProperties.putPath(props, "netns", spec.netnsPath());
        BundleProperties.putPath(props, "resolvConf", spec.resolvConf());
        BundleProperties.putPath(props, "hosts", spec.hostsFile());
        BundleProperties.putPath(props, "hostname", spec.hostnameFile());
        props.setProperty("cgroupParent", spec.cgroupParent());
        Pod pod = new Pod(id, bundle, props);
        boolean ok = false;
        try {
            Files.createDirectories(bundle.resolve("rootfs"));
            OciJson.write(bundle.resolve("config.json"), KataSpecs.sandbox(spec, cgroupsPath(spec.cgroupParent(), id)));
            BundleProperties.store(bundle, props);
            Libc.mkfifo(bundle.resolve("log"), 0600);
            pod.shimLog = drainShimLog(pod);
            Path socket = launcher.start(id, bundle, options.createTimeout());
            pod.address = socket;
            pod.task = TaskClient.connect(socket, ShimLauncher.NAMESPACE, reason -> shimLost.accept(pod, reason));
            pod.shimPid = pod.task.connect(id, QUICK).getShimPid();
            CreateTaskRequest.Builder req = CreateTaskRequest.newBuilder().setId(id).setBundle(bundle.toString())
                    .addAllRootfs(ShimRegistry.mounts(spec.rootfs()));
            if (!options.configPath().isEmpty()) {
                req.setOptions(Any.newBuilder().setTypeUrl("runtimeoptions.v1.Options")
                        .setValue(Options.newBuilder().setConfigPath(options.configPath()).build().toByteString()));
            }
            long pid = pod.task.create(req.build(), options.createTimeout()).getPid();
            props.setProperty("pid", Long.toString(pid));
            props.setProperty("shimPid", Long.toString(pod.shimPid));
            BundleProperties.store(bundle, props);
            registry.pods.put(id, pod);
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
                destroy(pod, true);
            }
        }
    }

    @Override
    public void start(String sandboxId) {
        Pod pod = registry.pod(sandboxId);
        pod.lock.lock();
        try {
            long pid = task(pod, "start sandbox").start(sandboxId, "", options.startTimeout()).getPid();
            pod.props.setProperty("pid", Long.toString(pid));
            BundleProperties.store(pod.bundle, pod.props);
        } catch (TtrpcException e) {
            throw e.toBackend("start sandbox", sandboxId);
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to start sandbox \"" + sandboxId + "\": " + e.getMessage());
        } finally {
            pod.lock.unlock();
        }
    }

    @Override
    public void stop(String sandboxId, Duration timeout) {
        Pod pod = registry.pods.get(sandboxId);
        if (pod == null) {
            return;
        }
        for (String c : List.copyOf(pod.containerIds)) {
            containers.stop(c, timeout);
        }
        pod.lock.lock();
        try {
            // The pause process has nothing to save: SIGKILL at once.
            containers.killAndWait(pod, sandboxId, Duration.ZERO, Signals.SIGKILL);
        } finally {
            pod.lock.unlock();
        }
    }

    @Override
    public SandboxStatus status(String sandboxId) {
        Pod pod = registry.pod(sandboxId);
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
    public void remove(String sandboxId) {
        Pod pod = registry.pods.get(sandboxId);
        if (pod == null) {
            return;
        }
        stop(sandboxId, Duration.ZERO);
        for (String c : List.copyOf(pod.containerIds)) {
            containers.remove(c);
        }
        pod.lock.lock();
        try {
            destroy(pod, false);
            registry.pods.remove(sandboxId);
        } finally {
            pod.lock.unlock();
        }
    }

    /**
     * Deletes the sandbox task, shuts the shim down and removes the bundle. With a live shim this is Delete +
     * Shutdown; with a dead or stuck one, the shim's own {@code delete} action (which also kills what the
     * shim left running) and a SIGKILL of the shim process.
     */
    private void destroy(Pod pod, boolean quiet) {
        pod.closing = true; // Kata's shim exits inside Shutdown: that is no lost shim
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
            killShim(shimPid, "-id " + pod.id);
        }
        if (Files.exists(pod.bundle.resolve("config.json")) && (!clean || FileTrees.isMounted(pod.bundle))) {
            try {
                ProcessRunner.Result r = launcher.delete(pod.id, pod.bundle, options.stopTimeout());
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
            FileTrees.unmountAll(pod.bundle);
            FileTrees.deleteTree(pod.bundle);
        } catch (IOException e) {
            problems.add(e.getMessage());
        }
        if (!problems.isEmpty() && !quiet) {
            throw new BackendException(Kind.INTERNAL, "failed to remove sandbox \"" + pod.id + "\": "
                    + String.join("; ", problems));
        }
    }

    /** SIGKILLs {@code pid} if it is alive and its command line contains {@code expect} (guards pid reuse). */
    private static void killShim(long pid, String expect) {
        if (!Processes.live(pid)) {
            return;
        }
        try {
            String cmdline = Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
            if (!cmdline.contains(expect)) {
                return;
            }
        } catch (IOException e) {
            return;
        }
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        Processes.awaitExit(pid, Duration.ofSeconds(10));
    }

    /**
     * A shim that was killed leaves its socket file behind (a clean Shutdown removes it). Remove it once nobody
     * answers on it, so that no stale sockets pile up in the shims' socket directory.
     */
    private static void removeStaleSocket(Path bundle) {
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

    /**
     * Re-creates the pods of {@code sandboxIds} from their bundles and reconnects to their shims; a pod whose
     * shim does not answer is kept as lost. Ids without a sandbox bundle are added to {@code lost}.
     */
    void recover(List<String> sandboxIds, List<String> lost) {
        for (String id : sandboxIds) {
            Path bundle = bundles.resolve(id);
            Properties props = BundleProperties.load(bundle);
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
                pod.address = ShimLauncher.socketFromBundle(bundle);
                pod.task = TaskClient.connect(pod.address, ShimLauncher.NAMESPACE,
                        reason -> shimLost.accept(pod, reason));
                pod.shimPid = pod.task.connect(id, QUICK).getShimPid();
            } catch (IOException | TtrpcException e) {
                // Keep the pod so that status reports it and remove cleans it up.
                pod.lost = "cannot reconnect to its shim: " + message(e);
                if (pod.task != null) {
                    pod.task.close();
                }
            }
            registry.pods.put(id, pod);
        }
    }

    /** Closes every shim connection and log reader; the shims keep running. */
    void close() {
        for (Pod pod : registry.pods.values()) {
            if (pod.task != null) {
                pod.task.close();
            }
            if (pod.shimLog != null) {
                pod.shimLog.stop();
            }
        }
        registry.pods.clear();
    }

    /**
     * Connects to {@code port} on the loopback of the pod's network namespace on the host, as containerd's CRI
     * does for every runtime. With a shim that runs containers on the host (the runc shim) that is the pod's own
     * loopback. A Kata VM's processes are not there: its guest has its own loopback, so a service bound to
     * 127.0.0.1 inside the VM cannot be reached this way (Kata's agent offers no port-forward).
     */
    java.nio.channels.ByteChannel connect(String sandboxId, int port) {
        Properties p = registry.pod(sandboxId).props;
        Path netns = null;
        if (!Boolean.parseBoolean(p.getProperty("hostNetwork"))) {
            netns = BundleProperties.path(p, "netns");
            if (netns == null) {
                throw new BackendException(Kind.FAILED_PRECONDITION, "failed to port-forward to sandbox \""
                        + sandboxId + "\": it has no network namespace");
            }
        }
        return dev.berth.oci.NetworkNamespaces.portForward(sandboxId, netns, port);
    }

    /**
     * A sandbox's status info, shown by verbose status and {@code berth explain} (keys in the plugin's README):
     * {@code handler}, {@code shim} (the shim binary), {@code bundle}, then the pod's shim as for its containers
     * ({@link #shimInfo}).
     */
    private Map<String, String> info(Pod pod) {
        Map<String, String> info = new LinkedHashMap<>();
        info.put("handler", options.handler());
        info.put("shim", options.shim());
        info.put("bundle", pod.bundle.toString());
        shimInfo(pod, info);
        return info;
    }

    /**
     * The pod's shim, in the info of the pod and of each of its containers: {@code shim_pid} (its process, as it
     * answered Connect), {@code shim_address} (its ttrpc socket), and {@code shim_lost} (why berth lost it) once
     * it is gone.
     */
    static void shimInfo(Pod pod, Map<String, String> info) {
        long pid = pod.shimPid > 0 ? pod.shimPid : Long.parseLong(pod.props.getProperty("shimPid", "0"));
        if (pid > 0) {
            info.put("shim_pid", Long.toString(pid));
        }
        if (pod.address != null) {
            info.put("shim_address", "unix://" + pod.address);
        }
        if (pod.lost != null) {
            info.put("shim_lost", pod.lost);
        }
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

    static String cgroupsPath(String parent, String id) {
        // Without a parent, a flat name: runc removes the leaf on delete and leaves no empty parents behind.
        return parent.isEmpty() ? "/berth-kata-" + id : parent.replaceAll("/+$", "") + "/" + id;
    }
}
