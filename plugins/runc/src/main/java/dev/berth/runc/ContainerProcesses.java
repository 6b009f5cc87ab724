package dev.berth.runc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.oci.ProcessRunner;
import dev.berth.oci.Processes;
import dev.berth.oci.SmallFiles;
import dev.berth.runc.ContainerProcesses.Exit;
import dev.berth.runc.StateStore.ContainerRecord;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import dev.berth.spi.ContainerStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The processes conmon supervises, a pause container's or a workload's: their state (from conmon's exit file,
 * the pid berth started them with, and the runtime's {@code state}), stopping them with their stop signal and then
 * SIGKILL, and destroying the runtime container with its conmon and log joiner.
 */
final class ContainerProcesses {
    /** How long a stop waits for the exit after SIGKILL. */
    static final Duration KILL_WAIT = Duration.ofSeconds(60);
    /**
     * How long an exit waits for the log joiner to finish writing (it normally takes a millisecond or two; a loaded
     * node can leave it unscheduled for longer, and EXITED promises the whole log).
     */
    static final Duration JOIN_WAIT = Duration.ofSeconds(5);
    /** A wait for an exit looks again after this long when no exit file appeared meanwhile (no watcher, a race). */
    static final long EXIT_POLL_MS = 20;
    /** Reads the cgroups path back from a bundle's config.json ({@link #containerInfo}). */
    private static final ObjectMapper CONFIG_READER = new ObjectMapper();

    private final HandlerState state;
    private final RuncOptions options;
    private final RuntimeCli cli;
    /** Containers whose stop signal a stop has sent and is waiting out its grace period for. */
    private final java.util.Set<String> signalled = java.util.concurrent.ConcurrentHashMap.newKeySet();

    ContainerProcesses(HandlerState state) {
        this.state = state;
        this.options = state.options;
        this.cli = state.cli;
    }

    /** The state of a runtime container (pause or workload), from conmon's exit file and the runtime's state. */
    ContainerStatus processStatus(String id, String createdAt, String startedAt, String cgroupsPath) {
        return processStatus(id, createdAt, startedAt, cgroupsPath, 0);
    }

    /**
     * The state of a container or pause process. {@code startedPid} is its pid when berth started it: then, with no
     * exit file and its conmon still alive, it is running, and the runtime need not be asked. The kubelet asks
     * for status every second or so per container, and a {@code runc state} costs a fork and some 10 ms.
     */
    ContainerStatus processStatus(String id, String createdAt, String startedAt, String cgroupsPath,
                                          long startedPid) {
        Instant created = StateStore.time(createdAt);
        Instant started = StateStore.time(startedAt);
        Map<String, String> info = info(id);
        Optional<Exit> exit = exit(id);
        if (startedAndSupervised(id, startedPid, exit)) {
            return new ContainerStatus(id, ContainerStatus.State.RUNNING, created, started, null, 0, "", "",
                    startedPid, info);
        }
        if (exit.isEmpty()) {
            JsonNode runtimeState = cli.state(id);
            String s = runtimeState == null ? "" : runtimeState.path("status").asText();
            switch (s) {
                case "created" -> {
                    return new ContainerStatus(id, ContainerStatus.State.CREATED, created, null, null, 0, "", "",
                            runtimeState.path("pid").asLong(), info);
                }
                case "running", "paused", "pausing" -> {
                    return new ContainerStatus(id, ContainerStatus.State.RUNNING, created, started, null, 0, "", "",
                            runtimeState.path("pid").asLong(), info);
                }
                default -> {
                    // Stopped or gone: conmon writes the exit file right after it reaps the process.
                    exit = awaitExit(id, Duration.ofSeconds(runtimeState == null ? 1 : 5));
                }
            }
        }
        if (exit.isEmpty()) {
            return new ContainerStatus(id, ContainerStatus.State.EXITED, created, started, null, 255, "Error",
                    "the exit code is unknown: conmon is gone", 0, info);
        }
        // The container's last lines are in its log file once the joiner has gone (at once, normally).
        LogJoiner.awaitDone(state.bundle(id), JOIN_WAIT);
        Exit e = exit.get();
        boolean oom = Files.exists(state.bundle(id).resolve("oom"))
                || (e.code() != 0 && cgroupsPath != null && !cgroupsPath.isEmpty() && Cgroups.oomKilled(cgroupsPath));
        String reason = oom ? "OOMKilled" : e.code() == 0 ? "Completed" : "Error";
        return new ContainerStatus(id, ContainerStatus.State.EXITED, created, started, e.at(), e.code(), reason, "",
                0, info);
    }

    /**
     * Running for certain without asking the runtime: berth started it ({@code startedPid} above 0), it left no exit
     * file, and its conmon is alive.
     */
    private boolean startedAndSupervised(String id, long startedPid, Optional<Exit> exit) {
        return exit.isEmpty() && startedPid > 0 && conmonAlive(id);
    }

    /**
     * The status info of a runtime container (pause or workload), shown by verbose status and {@code berth explain}:
     * {@code runtime} (the OCI runtime binary), {@code bundle}, and {@code conmon_pid} (the conmon that supervises
     * it, while its pid file is there). Keys are listed in the plugin's README; they stay as they are.
     */
    Map<String, String> info(String id) {
        Map<String, String> info = new LinkedHashMap<>();
        info.put("runtime", options.binary().toString());
        info.put("bundle", state.bundle(id).toString());
        long conmon = SmallFiles.readLong(state.bundle(id).resolve("conmon.pid"));
        if (conmon > 0) {
            info.put("conmon_pid", Long.toString(conmon));
        }
        return info;
    }

    /**
     * A workload container's info: {@link #info(String)}, {@code runtime_pid} (its process as conmon reported it
     * at create, kept after it exited) and {@code cgroup} (its cgroup: a path under the cgroup root with the
     * cgroupfs driver, the {@code slice:prefix:name} the runtime was given with the systemd driver).
     */
    Map<String, String> containerInfo(String id, long runtimePid, String cgroupsPath) {
        Map<String, String> info = info(id);
        if (runtimePid > 0) {
            info.put("runtime_pid", Long.toString(runtimePid));
        }
        String cgroup = cgroupsPath == null || cgroupsPath.isEmpty() ? specCgroupsPath(id) : cgroupsPath;
        if (!cgroup.isEmpty()) {
            info.put("cgroup", cgroup);
        }
        return info;
    }

    /**
     * The cgroups path the runtime was given, for a record that does not keep it (the systemd driver's): made again
     * from the pod's cgroup parent as create made it, else (the pod's record gone) read from the bundle's
     * config.json; else empty. Every exec probe asks for the container's status, so the file is not read each time.
     */
    private String specCgroupsPath(String id) {
        ContainerRecord rec = state.containers.get(id);
        StateStore.SandboxRecord pod = rec == null ? null : state.sandboxes.get(rec.sandboxId());
        if (options.systemdCgroup() && pod != null) {
            return OciResources.cgroupsPath(true, pod.cgroupParent(), pod.id(), id);
        }
        Path config = state.bundle(id).resolve("config.json");
        try {
            return Files.isRegularFile(config)
                    ? CONFIG_READER.readTree(config.toFile()).path("linux").path("cgroupsPath").asText("") : "";
        } catch (IOException e) {
            return "";
        }
    }

    /** {@code st} with {@code info} as its info map. */
    static ContainerStatus withInfo(ContainerStatus st, Map<String, String> info) {
        return new ContainerStatus(st.id(), st.state(), st.createdAt(), st.startedAt(), st.finishedAt(),
                st.exitCode(), st.reason(), st.message(), st.pid(), info);
    }

    record Exit(int code, Instant at) {}

    Optional<Exit> exit(String id) {
        Path f = state.exits.resolve(id);
        try {
            if (!Files.exists(f)) { // the common case, a running container: no exception to build
                return Optional.empty();
            }
            String s = SmallFiles.read(f, 16).strip();
            if (s.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(new Exit(Integer.parseInt(s), Files.getLastModifiedTime(f).toInstant()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    private Optional<Exit> awaitExit(String id, Duration timeout) {
        return awaitExit(id, timeout, null);
    }

    /**
     * Waits for the exit; {@code poll}, while not null, runs on each round until it says it is done. The exit
     * watcher's signal ends a round as soon as an exit file appears; otherwise a round lasts {@link #EXIT_POLL_MS}.
     */
    private Optional<Exit> awaitExit(String id, Duration timeout, java.util.function.BooleanSupplier poll) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (poll != null && poll.getAsBoolean()) {
                poll = null;
            }
            long seen = state.exitSignals.generation();
            Optional<Exit> e = exit(id);
            if (e.isPresent() || System.nanoTime() > deadline) {
                return e;
            }
            if (!conmonAlive(id) && exit(id).isEmpty()) {
                return Optional.empty();
            }
            try {
                state.exitSignals.await(seen, EXIT_POLL_MS);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new BackendException(Kind.INTERNAL, "interrupted while waiting for container \"" + id
                        + "\" to exit");
            }
        }
    }

    /**
     * After a container's first process ended: when the container has no pid namespace of its own (it joined its
     * pod's or the node's), what that process started lives on, reparented, in the container's cgroup, holding its
     * output open. containerd's shim kills those on the first process's exit; so does this, so that an exited
     * container runs nothing. A container with its own pid namespace needs nothing: the kernel killed the rest
     * with its init. Never throws.
     */
    void killRemaining(String id) {
        ContainerRecord rec = state.containers.get(id);
        if (rec == null) {
            return; // a pod's pause container: nothing of its own starts processes
        }
        String cgroup = options.runsc() ? "" : state.cgroupOf(rec); // runsc's processes are in its sandbox
        if (!cgroup.isEmpty() && !Cgroups.holdsProcesses(cgroup) || !sharesPidNamespace(state.bundle(id))) {
            return;
        }
        ProcessRunner.Result r = cli.run(List.of("kill", "--all", id, "SIGKILL"));
        if (!r.ok()) {
            state.log.log(System.Logger.Level.DEBUG, "killing what container {0} left running: {1}", id,
                    r.errorText());
        }
    }

    /**
     * Whether the bundle's spec runs its container in a pid namespace that is not its own: none asked for (the
     * node's), or one joined by path (its pod's, or another container's). False when the spec cannot be read.
     */
    static boolean sharesPidNamespace(Path bundle) {
        JsonNode namespaces;
        try {
            namespaces = CONFIG_READER.readTree(bundle.resolve("config.json").toFile()).path("linux").path("namespaces");
        } catch (IOException | RuntimeException e) {
            return false;
        }
        if (!namespaces.isArray()) {
            return false;
        }
        for (JsonNode n : namespaces) {
            if ("pid".equals(n.path("type").asText())) {
                return !n.path("path").asText("").isEmpty();
            }
        }
        return true;
    }

    /** The stop signal, then SIGKILL after {@code timeout}; returns once the process has exited. */
    void stopProcess(String verb, String id, String stopSignal, Duration timeout, long startedPid) {
        Grace grace = timeout.toMillis() > 0 ? signalStop(id, stopSignal, startedPid) : null;
        if (grace != null && awaitGrace(id, timeout, grace)) {
            killRemaining(id);
            return;
        }
        kill(verb, id, startedPid);
    }

    /**
     * A stop signal on its way: what the wait of the stop that sent it needs, or, for a stop that found another's
     * signal already sent, nothing to resend.
     */
    record Grace(long pid, String signal, int number, boolean dropped, boolean sent) {
    }

    /**
     * The first half of a graceful stop, under the container's lock: the container's stop signal, unless a stop
     * waiting out its own grace period has sent it already (a later stop, typically with a shorter timeout, then
     * only waits: an application may take a second SIGTERM as "stop now"). Null when there is nothing to wait for:
     * the container has exited or is not running.
     */
    Grace signalStop(String id, String stopSignal, long startedPid) {
        state.createdHere.remove(id);
        ContainerStatus st = processStatus(id, null, null, null, startedPid);
        if (st.state() != ContainerStatus.State.RUNNING) {
            return null;
        }
        String sig = stopSignal == null || stopSignal.isEmpty() ? "SIGTERM" : stopSignal;
        int number = LateHandlers.number(sig);
        if (!signalled.add(id)) {
            return new Grace(st.pid(), sig, number, false, false);
        }
        try {
            boolean dropped = LateHandlers.dropped(st.pid(), number);
            cli.run(List.of("kill", id, sig));
            return new Grace(st.pid(), sig, number, dropped, true);
        } catch (RuntimeException e) {
            signalled.remove(id);
            throw e;
        }
    }

    /**
     * The second half, without the container's lock, so that a stop with a shorter timeout, or a remove, is not held
     * up by this one's grace period: waits until the container has exited or {@code timeout} has passed. True once
     * it has exited.
     */
    boolean awaitGrace(String id, Duration timeout, Grace grace) {
        try {
            return awaitExit(id, timeout, grace.sent() && grace.dropped() ? () -> {
                if (LateHandlers.catches(grace.pid(), grace.number())) {
                    cli.run(List.of("kill", id, grace.signal())); // the first came before its handler: dropped
                    return true;
                }
                return false;
            } : null).isPresent();
        } finally {
            if (grace.sent()) {
                signalled.remove(id);
            }
        }
    }

    /** The end of every stop, under the container's lock: SIGKILL unless it has exited, then what it left. */
    void kill(String verb, String id, long startedPid) {
        ContainerStatus st = processStatus(id, null, null, null, startedPid);
        if (st.state() == ContainerStatus.State.EXITED) {
            killRemaining(id);
            return;
        }
        ProcessRunner.Result r = cli.run(List.of("kill", id, "SIGKILL"));
        if (!r.ok() && neverStarted(verb, id)) {
            return;
        }
        if (awaitExit(id, KILL_WAIT).isEmpty()) {
            JsonNode runtimeState = cli.state(id);
            if (runtimeState != null && !runtimeState.path("status").asText().equals("stopped")) {
                throw new BackendException(Kind.INTERNAL, "failed to " + verb + " \"" + id + "\": "
                        + (r.ok() ? "it did not exit after SIGKILL" : r.errorText()));
            }
        }
        killRemaining(id);
    }

    /**
     * After a refused SIGKILL: whether the runtime still holds the container as created, never started, and it
     * was deleted. runc signals a created container, but runsc refuses ("cannot signal container ... in state
     * created"): waiting for an exit then would wait for ever, and the container could never be removed. A created
     * container has run no code of its own, so there is nothing to stop gracefully: it is deleted, and its conmon
     * (which may never see an exit) is left to {@link #destroy}.
     */
    private boolean neverStarted(String verb, String id) {
        JsonNode runtimeState = cli.state(id);
        if (runtimeState == null || !runtimeState.path("status").asText().equals("created")) {
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
    void destroy(String id) {
        cli.run(List.of("delete", "--force", id));
        long conmonPid = SmallFiles.readLong(state.bundle(id).resolve("conmon.pid"));
        if (conmonPid > 0) {
            Optional<ProcessHandle> ph = ProcessHandle.of(conmonPid).filter(p -> isConmon(conmonPid));
            if (ph.isPresent()) {
                // conmon leaves right after its container's exit file: look again soon, then less often.
                long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
                long pause = 1;
                while (ph.get().isAlive() && isConmon(conmonPid) && System.nanoTime() < deadline) {
                    HandlerState.sleep(pause);
                    pause = Math.min(20, pause * 2);
                }
                if (ph.get().isAlive() && isConmon(conmonPid)) {
                    ph.get().destroyForcibly();
                }
            }
        }
        if (options.runsc()) {
            RunscShim.killStandIn(state.bundle(id), id); // normally gone with its container (within a second)
        }
        // Without conmon the joiner reads end-of-file and finishes by itself; one that does not is killed.
        if (!LogJoiner.awaitDone(state.bundle(id), JOIN_WAIT)) {
            LogJoiner.kill(state.bundle(id));
        }
    }

    /** Whether the conmon that supervises {@code id} runs: alive, not a zombie, and started for that id. */
    boolean conmonAlive(String id) {
        long pid = SmallFiles.readLong(state.bundle(id).resolve("conmon.pid"));
        if (pid <= 0 || !isConmon(pid)) {
            return false;
        }
        try {
            // A reused pid could be another container's conmon: its command line names the container.
            String cmdline = SmallFiles.read(Path.of("/proc", Long.toString(pid), "cmdline"), 2048);
            return cmdline.contains("\0-c\0" + id + "\0");
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean isConmon(long pid) {
        return Processes.live(pid, "conmon");
    }

    /**
     * Refuses {@code what} (as in "failed to {@code what} container ...") with FAILED_PRECONDITION unless the container
     * runs; NOT_FOUND for a container this handler does not have. For ExecSync this is the only running check: core
     * asks for the status only when the exec fails (the SPI's contract).
     */
    void requireRunning(String containerId, String what) {
        ContainerRecord rec = state.requireContainer(containerId);
        if (startedAndSupervised(containerId, rec.startedPid(), exit(containerId))) {
            return; // every exec probe comes here: no status to build, no info to read
        }
        if (containerStatus(containerId).state() != ContainerStatus.State.RUNNING) {
            throw new BackendException(BackendException.Kind.FAILED_PRECONDITION, "failed to " + what
                    + " container \"" + containerId + "\": it is not running");
        }
    }

    ContainerStatus containerStatus(String containerId) {
        ContainerRecord rec = state.containers.get(containerId);
        if (rec == null) {
            throw BackendException.notFound("container", containerId);
        }
        ContainerStatus st = createdAndSupervised(rec)
                ? new ContainerStatus(containerId, ContainerStatus.State.CREATED, StateStore.time(rec.createdAt()), null,
                        null, 0, "", "", rec.pid(), Map.of())
                : processStatus(containerId, rec.createdAt(), rec.startedAt(), state.cgroupOf(rec),
                        rec.startedPid());
        return withInfo(st, containerInfo(containerId, rec.pid(), rec.cgroupsPath()));
    }

    /**
     * Created for certain without asking the runtime: this daemon created it and has not tried to start or stop
     * it ({@link HandlerState#createdHere}), it left no exit file, and its conmon is alive. Core settles every new
     * container's state right after CreateContainer, and a {@code runc state} there cost each pod start a fork and
     * a Go program's start.
     */
    private boolean createdAndSupervised(ContainerRecord rec) {
        return rec.startedAt() == null && rec.pid() > 0 && state.createdHere.contains(rec.id())
                && exit(rec.id()).isEmpty() && conmonAlive(rec.id());
    }
}
