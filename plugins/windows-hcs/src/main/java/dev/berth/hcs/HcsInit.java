package dev.berth.hcs;

import dev.berth.hcs.bind.RelayHandOver;
import dev.berth.hcs.handle.HcsProcess;
import dev.berth.hcs.log.ExitFile;
import dev.berth.hcs.log.LogRelayLauncher;
import dev.berth.hcs.log.RelayRecord;
import dev.berth.spi.BackendEvent;
import dev.berth.spi.ContainerStatus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A container's init process: its stdout and stderr handed to the container's log relay, a process of its own that
 * writes the CRI log file and outlives berth, and its exit (a ProcessExited
 * event with the exit code) turned into the container's state, an exit file next to its record and one STOPPED
 * event.
 */
final class HcsInit {
    private final HcsEnv env;
    private volatile LogRelayLauncher launcher;

    HcsInit(HcsEnv env, LogRelayLauncher launcher) {
        this.env = env;
        this.launcher = launcher;
    }

    /**
     * Starts the container's log relay and hands it the init's stdout and stderr ({@link RelayHandOver}): from
     * then on the relay, not berth, writes the CRI log (or drains the output when there is none), so the log goes
     * on while berth restarts. Its record is written next to the container's; on failure no relay runs and
     * nothing is recorded.
     */
    RelayRecord startRelay(Ctr c, HcsProcess init) throws IOException {
        String id = c.rec.id();
        Path record = env.state().file("containers", id + ".relay");
        Path control = controlSocket(id);
        RelayHandOver handOver = env.bindings().relays();
        List<String> command;
        try {
            if (handOver == null) {
                throw new IOException("these bindings cannot start a log relay");
            }
            Path logPath = c.rec.logPath().isEmpty() ? null : Path.of(c.rec.logPath());
            command = launcher().command(logPath, env.state().file("containers", id + ".exit"), control);
        } catch (IOException | RuntimeException e) {
            // nothing was handed over: the pipe ends are still berth's to close
            closeQuietly(init.stdout());
            closeQuietly(init.stderr());
            throw e;
        }
        ProcessHandle relay = handOver.start(command, record.resolveSibling(id + ".relay.log"), id, init.pid(),
                init.stdoutHandle(), init.stderrHandle());
        RelayRecord r = RelayRecord.of(relay, control);
        try {
            r.write(record);
        } catch (IOException e) {
            relay.destroyForcibly();
            throw e;
        }
        return r;
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception ignored) {
                // the pipe is gone already
            }
        }
    }

    private LogRelayLauncher launcher() {
        LogRelayLauncher l = launcher;
        if (l == null) {
            l = LogRelayLauncher.forThisPlugin();
            launcher = l;
        }
        return l;
    }

    /**
     * The relay's control socket: next to the container's record, unless that path is too long for a unix
     * domain socket (108 bytes on Linux and Windows), then in the temporary directory under a name that keeps
     * handlers apart.
     */
    Path controlSocket(String id) {
        String name = id.substring(0, Math.min(12, id.length())) + ".sock";
        Path beside = env.state().file("containers", name).toAbsolutePath();
        if (beside.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= 100) {
            return beside;
        }
        String home = Integer.toHexString(env.state().file("containers", "").toAbsolutePath().toString().hashCode());
        return Path.of(System.getProperty("java.io.tmpdir"), "berth-hcs-" + home + "-" + name).toAbsolutePath();
    }

    /**
     * Ends a removed container's relay: it ends by itself once the init has exited and its pipes are drained, so
     * it is given a few seconds, then killed. Its control socket goes with it (its record goes with the
     * container's state).
     */
    void endRelay(Ctr c) {
        RelayRecord r = c.relay;
        if (r == null) {
            return;
        }
        r.process().ifPresent(p -> {
            try {
                p.onExit().get(5, TimeUnit.SECONDS);
            } catch (TimeoutException | ExecutionException e) {
                env.context().logger().log(System.Logger.Level.WARNING, "container " + c.rec.id()
                        + ": its log relay (pid " + p.pid() + ") did not end with it; killing it");
                p.destroyForcibly();
                try {
                    p.onExit().get(5, TimeUnit.SECONDS);
                } catch (TimeoutException | ExecutionException | InterruptedException again) {
                    // logged above; the process is going
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        });
        try {
            Files.deleteIfExists(r.control());
        } catch (IOException e) {
            env.context().logger().log(System.Logger.Level.WARNING, "container " + c.rec.id()
                    + ": cannot delete its log relay's socket: " + e.getMessage());
        }
        c.relay = null;
    }

    /**
     * Follows the init's exit. A ServiceDisconnect is not an exit: the container may well run on, so its state
     * becomes UNKNOWN until berth reconnects (a restart of berth opens it again).
     */
    void watch(Ctr c, HcsProcess init) {
        init.exitCode().whenComplete((code, err) -> {
            if (err == null) {
                onExit(c, code);
            } else if (!c.exitSeen.get()) {
                c.message = "lost the Host Compute Service: " + (err.getCause() != null ? err.getCause() : err)
                        .getMessage();
                c.state = ContainerStatus.State.UNKNOWN;
            }
        });
    }

    void onExit(Ctr c, int code) {
        if (!c.exitSeen.compareAndSet(false, true)) {
            return;
        }
        Instant at = env.clock().instant();
        c.exitCode = code;
        c.finishedAt = at;
        c.reason = code == 0 ? "Completed" : "Error";
        // The exit file first: once a caller sees EXITED, a restart of berth must find the same exit code.
        try {
            ExitFile.write(env.state().file("containers", c.rec.id() + ".exit"), new ExitFile.Exit(code, at));
        } catch (IOException e) {
            env.context().logger().log(System.Logger.Level.WARNING, "container " + c.rec.id()
                    + ": cannot write its exit file: " + e.getMessage());
        }
        c.state = ContainerStatus.State.EXITED;
        c.exitRecorded.countDown();
        env.context().events().publish(new BackendEvent(BackendEvent.Type.STOPPED, c.rec.id(), c.rec.sandboxId(),
                at));
    }

    /**
     * Waits (up to 10 s) until an exit another thread is recording (the init's exit callback won the race with a
     * stop) is recorded: a StopContainer returns only once the container reads EXITED.
     */
    static void awaitRecorded(Ctr c) {
        if (!c.exitSeen.get() || c.state == ContainerStatus.State.EXITED) {
            return;
        }
        try {
            c.exitRecorded.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
