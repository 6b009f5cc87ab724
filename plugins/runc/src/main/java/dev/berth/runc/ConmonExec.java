package dev.berth.runc;

import dev.berth.oci.RuntimeErrors;
import dev.berth.oci.SmallFiles;
import dev.berth.runc.StateStore.ContainerRecord;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import dev.berth.spi.ExecResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * What runs through conmon: a container's create (conmon runs the runtime's create and then supervises the
 * container) and, for gVisor, a synchronous exec ({@code conmon --exec --sync}), with berth's own deadline on the
 * latter (runc and crun run their synchronous execs themselves: {@link RuntimeExec}).
 */
final class ConmonExec {
    static final Duration CREATE_TIMEOUT = Duration.ofSeconds(120);

    private final HandlerState state;
    private final RuncOptions options;
    private final RuntimeCli cli;
    private final ContainerProcesses processes;

    ConmonExec(HandlerState state, ContainerProcesses processes) {
        this.state = state;
        this.options = state.options;
        this.cli = state.cli;
        this.processes = processes;
    }

    /** Runs conmon, which runs the runtime's create; returns the container's pid. */
    long launch(String verb, String id, String name, String logPath, boolean tty, boolean stdin,
                        boolean leaveStdinOpen, Deque<Runnable> undo) {
        Path bundle = state.bundle(id);
        Conmon.deleteQuietly(state.exits.resolve(id));
        List<String> args = new ArrayList<>(List.of("--api-version", "1", "-b", bundle.toString(), "-c", id,
                "-u", id, "-n", name, "--exit-dir", state.exits.toString(), "-l", "k8s-file:" + logPath,
                "--log-level", "info", "--syslog", "-P", bundle.resolve("conmon.pid").toString(),
                "-p", bundle.resolve("ctr.pid").toString(), "--persist-dir", bundle.toString(),
                "-r", runtimeForConmon(), "--socket-dir-path", state.attach.toString(), "--log-size-max", "-1"));
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
            processes.destroy(id);
            Conmon.deleteQuietly(state.exits.resolve(id));
            Conmon.deleteQuietly(state.attach.resolve(id));
        });
        try {
            return Conmon.launch(options.conmon(), args, bundle, "data", CREATE_TIMEOUT).value();
        } catch (Conmon.Failure f) {
            String message = RuntimeErrors.message(f.getMessage());
            throw new BackendException(f.timedOut ? Kind.DEADLINE_EXCEEDED : RuntimeErrors.kindOf(message),
                    "failed to " + verb + " \"" + id + "\": " + message);
        }
    }

    /**
     * The runtime conmon runs to create a container: the handler's, except for gVisor, where it is
     * {@code berth-runsc} in front of runsc. runsc writes the sandbox's pid as the pid of a container that joins a
     * pod's sandbox; conmon cannot wait for a process that is not its child and would report the container exited
     * at once. berth-runsc gives conmon a stand-in process that exits with the container's exit code (see its
     * source).
     */
    String runtimeForConmon() {
        if (!options.runsc()) {
            return options.binary().toString();
        }
        Path shim = RunscShim.PATH.orElseThrow(() -> new BackendException(Kind.UNAVAILABLE, "runtime handler \""
                + state.handler + "\": " + RunscShim.PROGRAM + " is not installed (the runc plugin ships it)"));
        return shim.toString();
    }

    ExecResult execSync(String containerId, List<String> command, Duration timeout) {
        ContainerRecord rec = state.requireContainer(containerId);
        processes.requireRunning(containerId, "exec in");
        Path bundle = state.bundle(containerId);
        String tag = "exec-" + System.nanoTime();
        Path spec = bundle.resolve(tag + ".json");
        Path logFile = bundle.resolve(tag + ".log");
        Path pidFile = bundle.resolve(tag + ".pid");
        try {
            Files.write(spec, state.execSpecs.spec(containerId, bundle, command, false));
            List<String> args = new ArrayList<>(List.of("-c", containerId, "-n", rec.name(), "-r",
                    runtimeForConmon(), "-p", pidFile.toString(), "-e", "-l", "k8s-file:" + logFile,
                    "--socket-dir-path", state.attach.toString(), "--sync", "--log-global-size-max", "16777216",
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
                throw new BackendException(RuntimeErrors.kindOf(f.getMessage()), "failed to exec in container \""
                        + containerId + "\": " + f.getMessage());
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
        long pid = SmallFiles.readLong(pidFile.resolveSibling(pidFile.getFileName() + ".internal"));
        if (pid > 0) {
            cli.run(List.of("kill", "--pid=" + pid, containerId, "SIGKILL"));
        }
    }

    /** Kills an exec'd process and its children; false if its pid file is not there (yet). */
    static boolean killExecProcess(Path pidFile) {
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
}
