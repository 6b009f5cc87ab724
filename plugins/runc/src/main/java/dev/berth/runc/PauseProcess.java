package dev.berth.runc;

import dev.berth.oci.Libc;
import dev.berth.oci.ProcessRunner;
import dev.berth.oci.Processes;
import dev.berth.oci.SmallFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The init process of a pod's shared pid namespace when the pod has no pause container: {@code berth-pause}
 * ({@code src/main/c/berth-pause.c}), started without an OCI runtime, conmon or image. A pid namespace ends with
 * its first process, so a pod whose containers share one needs a process, but nothing more of a pause container:
 * its UTS and IPC namespaces are pinned ({@link PodNamespaces}) and the network namespace is core's.
 *
 * <p>The program joins the pod's cgroup and namespaces, and its child, pid 1 of the new namespace, runs chrooted
 * into an empty directory as uid 65535 with no capabilities, no_new_privs and a seccomp filter that allows only
 * waiting for signals and reaping. The namespace is bind-mounted onto {@code <pins>/pid}, where containers join it;
 * the pid is in the bundle's {@link #PID_FILE}. Like conmon it outlives berth.
 */
final class PauseProcess {
    static final String PROGRAM = "berth-pause";
    static final String PID_FILE = "pause.pid";
    /** The pin of the pod's pid namespace in the pins directory, beside uts and ipc. */
    static final String PIN = "pid";
    /** The empty directory in the bundle the process is chrooted into. */
    static final String ROOT = "pause-root";
    private static final String COMM = "pause";
    private static final int SIGKILL = 9;
    private static final Duration POLL = Duration.ofMillis(2);

    private PauseProcess() {}

    /**
     * Starts the pod's pause process and returns its pid. {@code pins} holds the pod's pinned {@code uts} and
     * {@code ipc} namespaces (those present are joined) and gets the pid namespace's pin; {@code netns} is the
     * pod's network namespace, null for the host's; the process joins {@code cgroup} (created where missing) in
     * every cgroup hierarchy, as a runtime puts a container there. On failure nothing is left running or mounted.
     */
    static long start(Path program, Path bundle, Path pins, Path netns, int oomScoreAdj, String cgroup)
            throws IOException {
        Path root = Files.createDirectories(bundle.resolve(ROOT));
        Files.createDirectories(pins); // a pod with the host's network and IPC pins nothing else
        List<String> cmd = new ArrayList<>(List.of(program.toString(), "--pid-pin", pins.resolve(PIN).toString(),
                "--pid-file", bundle.resolve(PID_FILE).toString(), "--root", root.toString(),
                "--oom-score-adj", Integer.toString(oomScoreAdj)));
        for (PodNamespaces.Kind k : PodNamespaces.Kind.values()) {
            if (PodNamespaces.pinned(pins, List.of(k))) {
                cmd.addAll(List.of("--" + k.file, pins.resolve(k.file).toString()));
            }
        }
        if (netns != null) {
            cmd.addAll(List.of("--net", netns.toString()));
        }
        if (!cgroup.isEmpty()) {
            for (Path dir : Cgroups.createEverywhere(cgroup)) {
                cmd.addAll(List.of("--cgroup", dir.toString()));
            }
        }
        ProcessRunner.Result r = ProcessRunner.run(cmd, null, Duration.ofSeconds(10));
        if (!r.ok()) {
            // It undoes its own work on failure; on a timeout it was killed part-way, so look for a started child.
            kill(bundle, pins);
            throw new IOException(r.timedOut() ? PROGRAM + " did not start within 10s" : r.errorText());
        }
        try {
            return Long.parseLong(r.stdout().strip());
        } catch (NumberFormatException e) {
            kill(bundle, pins);
            throw new IOException(PROGRAM + " printed no pid: \"" + r.stdout().strip() + "\"");
        }
    }

    /** The pid in the bundle's pid file, if any. */
    static OptionalLong pid(Path bundle) {
        long pid = SmallFiles.readLong(bundle.resolve(PID_FILE));
        return pid < 0 ? OptionalLong.empty() : OptionalLong.of(pid);
    }

    /**
     * Whether {@code pid} is still the pod's pause process: alive, not a zombie, and the init of the namespace
     * pinned at {@code <pins>/pid} (a pid alone could have been reused).
     */
    static boolean alive(long pid, Path pins) {
        if (!Processes.live(pid, COMM)) {
            return false;
        }
        try {
            Path own = Path.of("/proc", Long.toString(pid), "ns", "pid");
            Path pin = pins.resolve(PIN);
            return Files.getAttribute(own, "unix:ino").equals(Files.getAttribute(pin, "unix:ino"))
                    && Files.getAttribute(own, "unix:dev").equals(Files.getAttribute(pin, "unix:dev"));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * Kills the pod's pause process, and so everything left in its pid namespace, if the bundle's pid file names a
     * live one; waits up to a few seconds for it to go. Idempotent; never throws.
     */
    static void kill(Path bundle, Path pins) {
        OptionalLong pid = pid(bundle);
        if (pid.isEmpty() || !alive(pid.getAsLong(), pins)) {
            return;
        }
        try {
            Libc.kill(pid.getAsLong(), SIGKILL);
        } catch (IOException e) {
            return; // gone meanwhile
        }
        Processes.await(() -> !Processes.live(pid.getAsLong(), COMM), Duration.ofSeconds(5), POLL);
    }
}
