package dev.berth.spi;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Optional: runs OCI bundles a client prepared itself, outside any pod, for the containerd 0.2 API that core serves
 * on its own socket. The bundle's {@code config.json} and root file system are the client's: the backend neither
 * writes nor removes them. A container is created and started in one call, with its standard streams on files
 * or FIFOs the client named. The common rules of {@link RuntimeBackend} (threading, errors) apply; ids are core's,
 * distinct from every pod and CRI container id.
 *
 * <p>Experimental: the set of operations follows one legacy API and may change with the next one core serves.
 */
@Experimental(eta = "2027-09-30")
public interface BundleRunning {

    /**
     * Creates and starts the bundle's container, its process wired to {@code stdio}; returns the pid of its main
     * process (process id {@link #INIT}).
     *
     * @throws BackendException {@code ALREADY_EXISTS} for a known id; {@code INVALID_ARGUMENT} for a bundle
     *     without a readable {@code config.json}, or a stream path that cannot be opened; {@code UNIMPLEMENTED}
     *     for a console, if the backend cannot give one
     */
    long createBundle(String id, Path bundle, Stdio stdio);

    /**
     * Starts one more process in the running container; returns its pid.
     *
     * @throws BackendException {@code NOT_FOUND} for an unknown container; {@code ALREADY_EXISTS} for a process id
     *     already used; {@code FAILED_PRECONDITION} if the container is not running
     */
    long addProcess(String id, String processId, ProcessSpec process);

    /**
     * Sends {@code signal} to a process of the container: its main process for {@code pid} 0.
     *
     * @throws BackendException {@code NOT_FOUND} for an unknown container or a pid that is none of its live
     *     processes
     */
    void signal(String id, long pid, int signal);

    /** Freezes ({@code true}) or thaws the container's processes. Repeatable. */
    void pause(String id, boolean paused);

    /** The container, its processes and their exit codes. */
    BundleStatus bundleStatus(String id);

    /** Current cgroup usage of the container. */
    BundleStats bundleStats(String id);

    /**
     * Forgets the container: kills what still runs of it, deletes it in the runtime and the backend's own files;
     * the client's bundle stays. Idempotent.
     */
    void deleteBundle(String id);

    /**
     * Checkpoints the container into {@code directory} under {@code name}.
     *
     * @throws BackendException {@code FAILED_PRECONDITION} naming CRIU's own reason where the host cannot
     *     checkpoint
     */
    void checkpointBundle(String id, Path directory, CheckpointOptions options);

    /**
     * Takes over containers created before berth restarted; returns the ids it could not find. No other method
     * runs meanwhile.
     */
    List<String> recoverBundles(List<String> ids);

    /**
     * Where the backend reports what it notices by itself: exits (of the main process and of added processes),
     * OOM kills. Core sets it once, before any other call; the backend calls it from any thread.
     */
    void bundleEvents(Consumer<BundleEvent> sink);

    /** The process id of a container's main process. */
    String INIT = "init";

    /** Paths of the streams of a process, each empty for none. */
    record Stdio(String stdin, String stdout, String stderr, String console) {
        public Stdio {
            stdin = Checks.text(stdin);
            stdout = Checks.text(stdout);
            stderr = Checks.text(stderr);
            console = Checks.text(console);
        }
    }

    /** One more process: its command, environment, working directory (empty: the bundle's), user and streams. */
    record ProcessSpec(List<String> args, List<String> env, String cwd, long uid, long gid,
                       List<Long> additionalGids, boolean terminal, Stdio stdio) {
        public ProcessSpec {
            args = Checks.list(args);
            if (args.isEmpty()) {
                throw new IllegalArgumentException("process args are empty");
            }
            env = Checks.list(env);
            cwd = Checks.text(cwd);
            additionalGids = Checks.list(additionalGids);
            java.util.Objects.requireNonNull(stdio, "stdio is null");
        }
    }

    record CheckpointOptions(String name, boolean exit, boolean tcp, boolean unixSockets, boolean shell) {}

    /** A process of a container; {@code exitCode} is null while it runs. */
    record ProcessState(String processId, long pid, List<String> args, Integer exitCode) {
        public ProcessState {
            args = Checks.list(args);
        }
    }

    record BundleStatus(String id, Path bundle, State state, List<ProcessState> processes) {
        public enum State { RUNNING, PAUSED, STOPPED }

        public BundleStatus {
            processes = Checks.list(processes);
        }
    }

    /** cgroup usage; a value the backend cannot read is -1, a list or map it cannot read is empty. */
    record BundleStats(Instant at, long cpuTotalNanos, List<Long> perCpuNanos, long cpuKernelNanos,
                       long cpuUserNanos, long throttlePeriods, long throttledPeriods, long throttledNanos,
                       long memoryUsage, long memoryMaxUsage, long memoryFailCount, long memoryCache,
                       Map<String, Long> memoryStats, long pids) {
        public BundleStats {
            perCpuNanos = Checks.list(perCpuNanos);
            memoryStats = Checks.map(memoryStats);
        }
    }

    /** What a backend noticed. {@code status} is the exit code for {@link Type#EXIT}. */
    record BundleEvent(Type type, String id, String processId, long pid, int status, Instant at) {
        public enum Type { START, EXIT, OOM, PAUSE, RESUME }

        public BundleEvent {
            java.util.Objects.requireNonNull(type, "type is null");
            id = Checks.id(id, "container id");
            processId = Checks.text(processId);
            at = at == null ? Instant.now() : at;
        }
    }
}
