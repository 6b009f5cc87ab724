package dev.berth.hcs;

import dev.berth.hcs.handle.HcsProcess;
import dev.berth.hcs.log.CriLogWriter;
import dev.berth.hcs.log.ExitFile;
import dev.berth.spi.BackendEvent;
import dev.berth.spi.ContainerStatus;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Instant;

/**
 * A container's init process: its stdout and stderr copied into the CRI log file, and its exit (a ProcessExited
 * event with the exit code) turned into the container's state, an exit file next to its record and one STOPPED
 * event.
 */
final class HcsInit {
    private final HcsEnv env;

    HcsInit(HcsEnv env) {
        this.env = env;
    }

    /** Copies the init's output into the CRI log (or drains it when there is no log), on two virtual threads. */
    void startLog(Ctr c, HcsProcess init) {
        CriLogWriter log = null;
        if (!c.rec.logPath().isEmpty()) {
            try {
                log = new CriLogWriter(Path.of(c.rec.logPath()), env.clock());
            } catch (IOException e) {
                env.context().logger().log(System.Logger.Level.WARNING, "container " + c.rec.id()
                        + ": cannot open log " + c.rec.logPath() + ": " + e.getMessage());
            }
        }
        c.log = log;
        CriLogWriter w = log;
        relay(init.stdout(), "stdout", w);
        relay(init.stderr(), "stderr", w);
    }

    private void relay(InputStream in, String name, CriLogWriter log) {
        if (in == null) {
            return;
        }
        Thread.ofVirtual().name("hcs-log-" + name).start(() -> {
            try (in) {
                if (log != null) {
                    log.copy(in, name);
                } else {
                    in.transferTo(java.io.OutputStream.nullOutputStream());
                }
            } catch (IOException e) {
                // the pipe broke: the process is gone
            }
        });
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
                c.state = ContainerStatus.State.UNKNOWN;
                c.message = "lost the Host Compute Service: " + (err.getCause() != null ? err.getCause() : err)
                        .getMessage();
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
        c.state = ContainerStatus.State.EXITED;
        try {
            ExitFile.write(env.state().file("containers", c.rec.id() + ".exit"), new ExitFile.Exit(code, at));
        } catch (IOException e) {
            env.context().logger().log(System.Logger.Level.WARNING, "container " + c.rec.id()
                    + ": cannot write its exit file: " + e.getMessage());
        }
        env.context().events().publish(new BackendEvent(BackendEvent.Type.STOPPED, c.rec.id(), c.rec.sandboxId(),
                at));
    }
}
