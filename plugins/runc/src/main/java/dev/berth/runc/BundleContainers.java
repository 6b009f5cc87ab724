package dev.berth.runc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.oci.DurableFiles;
import dev.berth.oci.FileTrees;
import dev.berth.oci.Libc;
import dev.berth.oci.ProcessRunner;
import dev.berth.oci.SmallFiles;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import dev.berth.spi.BundleRunning;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Bundles a client prepared, run outside any pod ({@link BundleRunning}, for the containerd 0.2 API). Each container
 * is the client's bundle run by the handler's runtime under its own conmon with the passthrough log driver, so that
 * its standard streams are the files or FIFOs the client named; each added process is a {@code conmon --exec} of
 * its own, likewise. berth's files for them are under {@code <state>/bc/<id>}: the record ({@code record.json},
 * written atomically) and per process a directory that conmon writes its pid, exit and OOM files into. A poller
 * reports exits and OOM kills from those files, so that exits while berth was down are reported after a restart.
 */
final class BundleContainers implements AutoCloseable {
    private static final Duration POLL = Duration.ofMillis(100);

    /** What berth keeps of a container: the client's bundle, the runtime's cgroup of it, and its processes. */
    record Record(String id, String bundle, Map<String, String> cgroups, List<Proc> processes) {
        Record {
            cgroups = cgroups == null ? Map.of() : Map.copyOf(cgroups);
            processes = processes == null ? List.of() : List.copyOf(processes);
        }

        Record with(Proc p) {
            List<Proc> ps = new ArrayList<>(processes);
            ps.add(p);
            return new Record(id, bundle, cgroups, ps);
        }
    }

    /** One process: berth's name for it, its host pid and its command. */
    record Proc(String processId, long pid, List<String> args) {}

    private final HandlerState state;
    private final Path dir;
    private final Map<String, Record> records = new ConcurrentHashMap<>();
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
    /** Exits already reported, by "id/processId". */
    private final Map<String, Integer> reported = new ConcurrentHashMap<>();
    private volatile Consumer<BundleRunning.BundleEvent> sink = e -> { };
    private volatile Thread poller;

    BundleContainers(HandlerState state) {
        this.state = state;
        this.dir = state.context.stateDir().resolve("bc");
    }

    void events(Consumer<BundleRunning.BundleEvent> sink) {
        this.sink = sink;
        startPoller();
    }

    private synchronized void startPoller() {
        if (poller == null) {
            poller = Thread.ofVirtual().name("berth-runc-bundle-exits").start(this::poll);
        }
    }

    long create(String id, Path bundle, BundleRunning.Stdio stdio) {
        if (!stdio.console().isEmpty()) {
            throw BackendException.unimplemented("failed to create container \"" + id + "\": a console is not "
                    + "supported by runtime handler \"" + state.handler + "\" (conmon's passthrough of the given "
                    + "streams has no terminal); give stdin, stdout and stderr paths");
        }
        Path config = bundle.resolve("config.json");
        if (!Files.isRegularFile(config)) {
            throw BackendException.invalid("bundle " + bundle + " has no config.json");
        }
        ReentrantLock lock = locks.computeIfAbsent(id, k -> new ReentrantLock());
        lock.lock();
        try {
            if (records.containsKey(id) || state.containers.containsKey(id) || state.sandboxes.containsKey(id)) {
                throw new BackendException(Kind.ALREADY_EXISTS, "container \"" + id + "\" already exists");
            }
            state.requirePrograms("create container", id);
            Path own = dir.resolve(id);
            Path init = own.resolve(BundleRunning.INIT);
            FileTrees.deleteTree(own);
            Files.createDirectories(init);
            List<String> args = new ArrayList<>(List.of("--api-version", "1", "-b", bundle.toString(), "-c", id,
                    "-u", id, "-n", id, "--exit-dir", init.toString(), "-l", "passthrough:", "--log-level", "info",
                    "--syslog", "-P", init.resolve("conmon.pid").toString(), "-p", init.resolve("pid").toString(),
                    "--persist-dir", init.toString(), "-r", state.options.binary().toString(),
                    "--socket-dir-path", state.attach.toString()));
            args.addAll(state.cli.conmonArgs());
            long pid;
            try {
                pid = Conmon.launch(state.options.conmon(), args, init, "data", ConmonExec.CREATE_TIMEOUT,
                        stdio(stdio)).value();
            } catch (Conmon.Failure f) {
                state.cli.run(List.of("delete", "--force", id));
                FileTrees.deleteTree(own);
                throw new BackendException(f.timedOut ? Kind.DEADLINE_EXCEEDED : Kind.INVALID_ARGUMENT,
                        "failed to create container \"" + id + "\" from bundle " + bundle + ": " + f.getMessage());
            }
            Record rec = new Record(id, bundle.toString(), Cgroups.ofProcess(pid),
                    List.of(new Proc(BundleRunning.INIT, pid, initArgs(config))));
            persist(rec);
            records.put(id, rec);
            ProcessRunner.Result r = state.cli.run(List.of("start", id));
            if (!r.ok()) {
                delete(id);
                throw new BackendException(Kind.INTERNAL, "failed to start container \"" + id + "\": "
                        + r.errorText());
            }
            startPoller();
            return pid;
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to create container \"" + id + "\": " + e.getMessage());
        } finally {
            lock.unlock();
            if (!records.containsKey(id)) {
                locks.remove(id, lock);
            }
        }
    }

    long addProcess(String id, String processId, BundleRunning.ProcessSpec spec) {
        if (spec.terminal() || !spec.stdio().console().isEmpty()) {
            throw BackendException.unimplemented("failed to add process \"" + processId + "\" to container \"" + id
                    + "\": a terminal is not supported by runtime handler \"" + state.handler + "\"");
        }
        ReentrantLock lock = lockOf(id);
        lock.lock();
        try {
            Record rec = require(id);
            if (rec.processes().stream().anyMatch(p -> p.processId().equals(processId))) {
                throw new BackendException(Kind.ALREADY_EXISTS, "container \"" + id + "\" already has a process \""
                        + processId + "\"");
            }
            if (exitCode(id, BundleRunning.INIT) != null) {
                throw new BackendException(Kind.FAILED_PRECONDITION, "failed to add process to container \"" + id
                        + "\": it has exited");
            }
            Path own = dir.resolve(id).resolve("p-" + processId);
            FileTrees.deleteTree(own);
            Files.createDirectories(own);
            ObjectNode process = (ObjectNode) OciSpecs.JSON.readTree(Path.of(rec.bundle(), "config.json").toFile())
                    .path("process").deepCopy();
            process.put("terminal", false);
            ArrayNode argv = process.putArray("args");
            spec.args().forEach(argv::add);
            if (!spec.env().isEmpty()) {
                ArrayNode env = process.putArray("env");
                spec.env().forEach(env::add);
            }
            if (!spec.cwd().isEmpty()) {
                process.put("cwd", spec.cwd());
            }
            ObjectNode user = process.putObject("user");
            user.put("uid", spec.uid());
            user.put("gid", spec.gid());
            if (!spec.additionalGids().isEmpty()) {
                ArrayNode gids = user.putArray("additionalGids");
                spec.additionalGids().forEach(gids::add);
            }
            Path processJson = own.resolve("process.json");
            Files.write(processJson, OciSpecs.JSON.writeValueAsBytes(process));
            List<String> args = new ArrayList<>(List.of("--api-version", "1", "-c", id, "-u", id + "-" + processId,
                    "-n", id, "-r", state.options.binary().toString(), "-b", rec.bundle(),
                    "-p", own.resolve("pid").toString(), "-P", own.resolve("conmon.pid").toString(), "-e",
                    "--exec-process-spec", processJson.toString(), "-l", "passthrough:",
                    "--exit-dir", own.toString(), "--persist-dir", own.toString(), "--syslog",
                    "--socket-dir-path", state.attach.toString()));
            args.addAll(state.cli.conmonArgs());
            long pid;
            try {
                pid = Conmon.launch(state.options.conmon(), args, own, "data", ConmonExec.CREATE_TIMEOUT,
                        stdio(spec.stdio())).value();
            } catch (Conmon.Failure f) {
                FileTrees.deleteTree(own);
                throw new BackendException(f.timedOut ? Kind.DEADLINE_EXCEEDED : Kind.INVALID_ARGUMENT,
                        "failed to add process \"" + processId + "\" to container \"" + id + "\": " + f.getMessage());
            }
            Record now = rec.with(new Proc(processId, pid, spec.args()));
            persist(now);
            records.put(id, now);
            return pid;
        } catch (IOException e) {
            throw new BackendException(Kind.INTERNAL, "failed to add process to container \"" + id + "\": "
                    + e.getMessage());
        } finally {
            lock.unlock();
        }
    }

    void signal(String id, long pid, int signal) {
        Record rec = require(id);
        Proc target = null;
        for (Proc p : rec.processes()) {
            if ((pid == 0 && p.processId().equals(BundleRunning.INIT)) || p.pid() == pid) {
                target = p;
            }
        }
        if (target == null || exitCode(id, target.processId()) != null) {
            throw BackendException.notFound("process with pid " + pid + " of container", id);
        }
        if (signal <= 0 || signal > 64) {
            throw BackendException.invalid("signal " + signal + " is not a signal number (1 to 64)");
        }
        try {
            Libc.kill(target.pid(), signal);
        } catch (IOException e) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "failed to signal process " + target.pid()
                    + " of container \"" + id + "\": " + e.getMessage());
        }
    }

    void pause(String id, boolean paused) {
        require(id);
        if (exitCode(id, BundleRunning.INIT) != null) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "failed to " + (paused ? "pause" : "resume")
                    + " container \"" + id + "\": it has exited");
        }
        JsonNode st = state.cli.state(id);
        boolean isPaused = st != null && "paused".equals(st.path("status").asText());
        if (isPaused == paused) {
            return;
        }
        ProcessRunner.Result r = state.cli.run(List.of(paused ? "pause" : "resume", id));
        if (!r.ok()) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "failed to " + (paused ? "pause" : "resume")
                    + " container \"" + id + "\": " + r.errorText());
        }
    }

    BundleRunning.BundleStatus status(String id) {
        Record rec = require(id);
        BundleRunning.BundleStatus.State st;
        if (exitCode(id, BundleRunning.INIT) != null) {
            st = BundleRunning.BundleStatus.State.STOPPED;
        } else {
            JsonNode s = state.cli.state(id);
            String status = s == null ? "stopped" : s.path("status").asText();
            st = switch (status) {
                case "paused", "pausing" -> BundleRunning.BundleStatus.State.PAUSED;
                case "stopped" -> BundleRunning.BundleStatus.State.STOPPED;
                default -> BundleRunning.BundleStatus.State.RUNNING;
            };
        }
        List<BundleRunning.ProcessState> ps = rec.processes().stream().map(p -> new BundleRunning.ProcessState(
                p.processId(), p.pid(), p.args(), exitCode(id, p.processId()))).toList();
        return new BundleRunning.BundleStatus(id, Path.of(rec.bundle()), st, ps);
    }

    BundleRunning.BundleStats stats(String id) {
        Record rec = require(id);
        return BundleCgroupStats.read(rec.cgroups());
    }

    void delete(String id) {
        ReentrantLock lock = locks.get(id);
        if (lock == null) {
            return;
        }
        lock.lock();
        try {
            Record rec = records.get(id);
            if (rec == null) {
                return;
            }
            state.cli.run(List.of("delete", "--force", id));
            for (Proc p : rec.processes()) {
                // conmon exits on its own once its process is gone; one whose process was killed with the
                // container has nothing left to supervise.
                long conmon = SmallFiles.readLong(procDir(id, p.processId()).resolve("conmon.pid"));
                if (conmon > 0 && p.processId().equals(BundleRunning.INIT)) {
                    waitGone(conmon);
                }
            }
            try {
                FileTrees.deleteTree(dir.resolve(id));
            } catch (IOException e) {
                throw new BackendException(Kind.INTERNAL, "failed to delete container \"" + id + "\": "
                        + e.getMessage());
            }
            Conmon.deleteQuietly(state.attach.resolve(id));
            records.remove(id);
            reported.keySet().removeIf(k -> k.startsWith(id + "/"));
        } finally {
            lock.unlock();
            locks.remove(id, lock);
        }
    }

    void checkpoint(String id, Path directory, BundleRunning.CheckpointOptions options) {
        require(id);
        String criu = Checkpoints.criuProblem();
        if (criu != null) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "failed to checkpoint container \"" + id
                    + "\": CRIU does not work on this host: " + criu);
        }
        if (exitCode(id, BundleRunning.INIT) != null) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "failed to checkpoint container \"" + id
                    + "\": it has exited");
        }
        Checkpoints.bundle(state.cli, id, directory.resolve(options.name()), options);
    }

    List<String> recover(List<String> ids) {
        List<String> lost = new ArrayList<>();
        for (String id : ids) {
            Path file = dir.resolve(id).resolve("record.json");
            try {
                DurableFiles.removeStaleTemps(file.getParent());
                Record rec = OciSpecs.JSON.readValue(file.toFile(), Record.class);
                records.put(id, rec);
                locks.computeIfAbsent(id, k -> new ReentrantLock());
            } catch (IOException e) {
                state.log.log(System.Logger.Level.WARNING, "bundle container {0} cannot be recovered: {1}", id,
                        e.getMessage());
                lost.add(id);
            }
        }
        startPoller();
        return lost;
    }

    @Override
    public void close() {
        Thread t = poller;
        if (t != null) {
            t.interrupt();
        }
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    private void poll() {
        while (!Thread.currentThread().isInterrupted()) {
            for (Record rec : records.values()) {
                for (Proc p : rec.processes()) {
                    String key = rec.id() + "/" + p.processId();
                    if (reported.containsKey(key)) {
                        continue;
                    }
                    Integer code = exitCode(rec.id(), p.processId());
                    if (code == null) {
                        continue;
                    }
                    reported.put(key, code);
                    Path own = procDir(rec.id(), p.processId());
                    try {
                        if (Files.exists(own.resolve("oom"))) {
                            sink.accept(new BundleRunning.BundleEvent(BundleRunning.BundleEvent.Type.OOM, rec.id(),
                                    p.processId(), p.pid(), 0, null));
                        }
                        sink.accept(new BundleRunning.BundleEvent(BundleRunning.BundleEvent.Type.EXIT, rec.id(),
                                p.processId(), p.pid(), code, modified(own.resolve("exit"))));
                        if (!p.processId().equals(BundleRunning.INIT)) {
                            forget(rec.id(), p.processId());
                        }
                    } catch (RuntimeException e) {
                        state.log.log(System.Logger.Level.WARNING, "bundle event of {0}: {1}", key, e.toString());
                    }
                }
            }
            try {
                Thread.sleep(POLL);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /**
     * Drops a reported added process from the record and its files, so that a restarted berth does not report its
     * exit again. The main process stays until the container is deleted.
     */
    private void forget(String id, String processId) {
        ReentrantLock lock = locks.get(id);
        if (lock == null) {
            return;
        }
        lock.lock();
        try {
            Record rec = records.get(id);
            if (rec == null) {
                return;
            }
            Record now = new Record(id, rec.bundle(), rec.cgroups(), rec.processes().stream()
                    .filter(p -> !p.processId().equals(processId)).toList());
            persist(now);
            records.put(id, now);
            FileTrees.deleteTree(procDir(id, processId));
            reported.remove(id + "/" + processId);
        } catch (IOException e) {
            state.log.log(System.Logger.Level.WARNING, "cannot drop process {0} of {1}: {2}", processId, id,
                    e.getMessage());
        } finally {
            lock.unlock();
        }
    }

    private static Instant modified(Path f) {
        try {
            return Files.getLastModifiedTime(f).toInstant();
        } catch (IOException e) {
            return Instant.now();
        }
    }

    /** The exit code conmon wrote for a process, or null while it runs. */
    private Integer exitCode(String id, String processId) {
        Path exit = procDir(id, processId).resolve("exit");
        try {
            String s = Files.readString(exit).strip();
            return s.isEmpty() ? null : Integer.parseInt(s);
        } catch (IOException | NumberFormatException e) {
            return null;
        }
    }

    private Path procDir(String id, String processId) {
        return dir.resolve(id).resolve(processId.equals(BundleRunning.INIT) ? BundleRunning.INIT : "p-" + processId);
    }

    private Record require(String id) {
        Record rec = records.get(id);
        if (rec == null) {
            throw BackendException.notFound("container", id);
        }
        return rec;
    }

    private ReentrantLock lockOf(String id) {
        ReentrantLock l = locks.get(id);
        if (l == null) {
            throw BackendException.notFound("container", id);
        }
        return l;
    }

    private void persist(Record rec) throws IOException {
        DurableFiles.write(dir.resolve(rec.id()).resolve("record.json"), OciSpecs.JSON.writeValueAsBytes(rec));
    }

    private static List<String> stdio(BundleRunning.Stdio s) {
        return List.of(orNull(s.stdin()), orNull(s.stdout()), orNull(s.stderr()));
    }

    private static String orNull(String path) {
        return path.isEmpty() ? "/dev/null" : path;
    }

    private static List<String> initArgs(Path config) {
        try {
            List<String> out = new ArrayList<>();
            OciSpecs.JSON.readTree(config.toFile()).path("process").path("args").forEach(a -> out.add(a.asText()));
            return out;
        } catch (IOException e) {
            return List.of();
        }
    }

    private static void waitGone(long pid) {
        for (int i = 0; i < 100 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false); i++) {
            HandlerState.sleep(20);
        }
    }
}
