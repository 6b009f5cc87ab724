package dev.berth.hcs;

import static dev.berth.hcs.Failures.backend;

import dev.berth.hcs.handle.HcsException;
import dev.berth.hcs.handle.HcsProcess;
import dev.berth.hcs.schema.Documents;
import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.ExecResult;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;

/**
 * Exec: another process in a running container's compute system, as its init's user, working directory and
 * environment, with its output collected and terminated when it outlasts the timeout.
 */
final class HcsExec {
    private final HcsEnv env;
    private final HcsRegistry registry;

    HcsExec(HcsEnv env, HcsRegistry registry) {
        this.env = env;
        this.registry = registry;
    }

    ExecResult execSync(String containerId, List<String> command, Duration timeout) {
        Ctr c = registry.ctr(containerId);
        String what = "exec in container \"" + containerId + "\"";
        if (c.state != ContainerStatus.State.RUNNING || c.system == null) {
            throw new BackendException(BackendException.Kind.FAILED_PRECONDITION, what + ": it is not running");
        }
        Documents.ProcessInput init = c.rec.process();
        var params = Documents.process(new Documents.ProcessInput(command, init.user(), init.workingDirectory(),
                init.env(), false, false, true, 0, 0));
        HcsProcess p;
        try {
            p = c.system.createProcess(params, env.options().operationTimeout());
        } catch (HcsException e) {
            throw backend(what, e);
        }
        try (p) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            Thread o = drain(p.stdout(), out);
            Thread e = drain(p.stderr(), err);
            Integer code = p.awaitExit(timeout.isZero() ? null : timeout);
            if (code == null) {
                p.terminate();
                p.awaitExit(Duration.ofSeconds(10));
                join(o, e);
                throw new BackendException(BackendException.Kind.DEADLINE_EXCEEDED, what + ": " + command
                        + " did not finish within " + timeout.toMillis() + " ms and was terminated");
            }
            join(o, e);
            return new ExecResult(out.toByteArray(), err.toByteArray(), code);
        } catch (HcsException e) {
            throw backend(what, e);
        }
    }

    private static Thread drain(InputStream in, ByteArrayOutputStream to) {
        if (in == null) {
            return null;
        }
        return Thread.ofVirtual().name("hcs-exec-io").start(() -> {
            try (in) {
                in.transferTo(to);
            } catch (IOException ignored) {
                // the pipe broke: the process is gone
            }
        });
    }

    private static void join(Thread... threads) {
        for (Thread t : threads) {
            if (t != null) {
                try {
                    t.join(Duration.ofSeconds(10));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
