package dev.berth.runc;

import dev.berth.oci.RuntimeErrors;
import dev.berth.oci.Processes;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import dev.berth.spi.ExecResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A synchronous exec (ExecSync, which the kubelet's exec probes send) without conmon: the handler's long-lived
 * {@code berth-execsync} ({@link ExecHelper}; src/main/c) forks a supervisor per exec, a child subreaper, that runs
 * the OCI runtime's detached exec ({@code runc exec --detach} or crun's) with pipes the helper reads as its stdio,
 * which the command inherits, then waits for the command and exits with its status (128 + the signal for a command
 * killed by one). The helper forwards the output and the status. conmon ({@link ConmonExec}, still used for gVisor,
 * and where the program is missing) adds a launcher shell and its own start to every probe for supervision a command
 * that ends within the call does not need, and a process started from the JVM costs a process of the JDK's own
 * besides. The runtime's foreground exec would do without a helper, but runc's copies the output through pipes of its
 * own until their end, so a probe that leaves a child holding its output would hold the call until that child exits.
 *
 * <ul>
 *   <li>The runtime writes the command's pid to a file once it has started it. An exec that exits non-zero without
 *       that file failed before the command ran (no such program, the container gone): its stderr is the runtime's
 *       own error, and the call fails with it.</li>
 *   <li>On the deadline berth kills the command and its children by that pid; the supervisor then exits.</li>
 *   <li>Output beyond {@link #OUTPUT_LIMIT} bytes in all is read and dropped, as conmon's log limit did.</li>
 *   <li>A command that leaves a child holding its output open is answered with what was read within {@link #DRAIN}
 *       of its exit; the child's later output is read and dropped until it closes it.</li>
 * </ul>
 */
final class RuntimeExec implements AutoCloseable {
    /** stdout and stderr together, at most: what a probe's answer carries. */
    static final int OUTPUT_LIMIT = 16 << 20;
    /** How long after the command's exit its output may still arrive (a child holding the pipes). */
    static final Duration DRAIN = Duration.ofSeconds(1);
    static final String PROGRAM = "berth-execsync";
    /** The plugin's own copy; without it, ExecSync goes through conmon. */
    static final Optional<Path> PATH = Programs.bundled(PROGRAM);
    /** How long a timed-out exec's runtime may take to write the pid file of a command it is still starting. */
    private static final Duration PID_FILE_WAIT = Duration.ofSeconds(2);
    private static final Duration REAP = Duration.ofSeconds(10);

    private final HandlerState state;
    private final ContainerProcesses processes;
    private final ExecHelper helper;

    RuntimeExec(HandlerState state, ContainerProcesses processes) {
        this.state = state;
        this.processes = processes;
        this.helper = PATH.map(p -> new ExecHelper(p, state.log)).orElse(null);
    }

    ExecResult execSync(String containerId, List<String> command, Duration timeout) {
        processes.requireRunning(containerId, "exec in");
        Path bundle = state.bundle(containerId);
        String tag = "exec-" + System.nanoTime();
        Path spec = bundle.resolve(tag + ".json");
        Path pidFile = bundle.resolve(tag + ".pid");
        ExecHelper.Call call = null;
        boolean answered = false;
        try {
            Files.write(spec, state.execSpecs.spec(containerId, bundle, command, false));
            List<String> cmd = new ArrayList<>(List.of(pidFile.toString()));
            cmd.addAll(state.cli.command(List.of("exec", "--detach", "--pid-file", pidFile.toString(), "--process",
                    spec.toString(), containerId)));
            call = helper.run(cmd, OUTPUT_LIMIT, DRAIN);
            boolean limited = !timeout.isZero() && !timeout.isNegative();
            Integer code = call.await(limited ? timeout : null);
            if (code == null) {
                killCommand(pidFile);
                answered = call.await(REAP) != null;
                throw new BackendException(Kind.DEADLINE_EXCEEDED, "failed to exec in container \"" + containerId
                        + "\": command timed out after " + timeout.toSeconds() + "s");
            }
            answered = true;
            if (code != 0 && !Files.exists(pidFile)) {
                String message = runtimeError(call.stderr(), call.stdout(), code);
                throw new BackendException(RuntimeErrors.kindOf(message), "failed to exec in container \""
                        + containerId + "\": " + message);
            }
            return new ExecResult(call.stdout(), call.stderr(), code);
        } catch (IOException e) {
            answered = true;
            throw new BackendException(Kind.INTERNAL, "failed to exec in container \"" + containerId + "\": "
                    + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            killCommand(pidFile);
            throw new BackendException(Kind.INTERNAL, "failed to exec in container \"" + containerId
                    + "\": interrupted");
        } finally {
            if (call != null && !answered) {
                helper.kill(call);
            }
            Conmon.deleteQuietly(spec);
            Conmon.deleteQuietly(pidFile);
        }
    }

    /** Stops the helper; execs it was running lose their answers, their commands run to their end. */
    @Override
    public void close() {
        if (helper != null) {
            helper.close();
        }
    }

    /**
     * The runtime's own error, for a runtime that failed before the command ran: runc's {@code msg="..."}, else
     * crun's (or anything else's) text as it is.
     */
    static String runtimeError(byte[] stderr, byte[] stdout, int code) {
        String message = RuntimeErrors.message(new String(stderr.length > 0 ? stderr : stdout, StandardCharsets.UTF_8));
        return message != null ? message : "the runtime exited with status " + code + " before starting the command";
    }

    /** Kills the command the runtime started, and its children, by the pid the runtime wrote once it had started it. */
    private static void killCommand(Path pidFile) {
        Processes.await(() -> Files.exists(pidFile), PID_FILE_WAIT, Duration.ofMillis(10));
        ConmonExec.killExecProcess(pidFile);
    }
}
