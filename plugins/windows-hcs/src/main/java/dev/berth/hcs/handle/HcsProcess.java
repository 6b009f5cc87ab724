package dev.berth.hcs.handle;

import dev.berth.hcs.bind.HResults;
import dev.berth.hcs.bind.Hcs;
import dev.berth.hcs.schema.HcsJson;
import dev.berth.hcs.schema.Schema;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A process in a compute system, with its callback registered: {@link #exitCode()} completes with the exit code
 * from the ProcessExited event's {@code ProcessStatus}, or exceptionally on ServiceDisconnect. Its stdio streams
 * are the host ends of the pipes HCS created (null when not asked for).
 */
public final class HcsProcess implements AutoCloseable {
    private final Hcs hcs;
    private final String systemId;
    private final long handle;
    private final int pid;
    private final OutputStream stdin;
    private final long stdoutHandle;
    private final long stderrHandle;
    private InputStream stdout; // guarded by this; opened on first use, unless the pipe was handed over
    private InputStream stderr; // guarded by this
    private final CompletableFuture<Integer> exitCode = new CompletableFuture<>();
    private final AtomicBoolean closed = new AtomicBoolean();

    private HcsProcess(Hcs hcs, String systemId, long handle, Hcs.ProcessInformation info) {
        this.hcs = hcs;
        this.systemId = systemId;
        this.handle = handle;
        this.pid = info.processId();
        this.stdin = info.stdInput() == 0 ? null : hcs.writePipe(info.stdInput());
        this.stdoutHandle = info.stdOutput();
        this.stderrHandle = info.stdError();
    }

    static HcsProcess create(ComputeSystem system, Schema.ProcessParameters parameters, Duration timeout) {
        Hcs hcs = system.hcs();
        String doc = HcsJson.write(parameters);
        long[] handle = new long[1];
        Hcs.ProcessResult r;
        try {
            r = Operations.executeWithProcessInfo(hcs, "HcsCreateProcess in " + system.id(), timeout, op -> {
                Hcs.HandleResult h = hcs.createProcess(system.handle(), doc, op);
                handle[0] = h.handle();
                return h.hresult();
            });
        } catch (HcsException e) {
            if (handle[0] != 0) {
                hcs.closeProcess(handle[0]);
            }
            throw e;
        }
        return registered(hcs, system.id(), handle[0], r.info());
    }

    static HcsProcess open(ComputeSystem system, int pid) {
        Hcs hcs = system.hcs();
        Hcs.HandleResult h = hcs.openProcess(system.handle(), pid, Hcs.GENERIC_ALL);
        if (HResults.failed(h.hresult())) {
            throw new HcsException("HcsOpenProcess " + pid + " in " + system.id(), h.hresult(), null);
        }
        return registered(hcs, system.id(), h.handle(), new Hcs.ProcessInformation(pid, 0, 0, 0));
    }

    private static HcsProcess registered(Hcs hcs, String systemId, long handle, Hcs.ProcessInformation info) {
        HcsProcess p = new HcsProcess(hcs, systemId, handle, info);
        int hr = hcs.setProcessCallback(handle, p::onEvent);
        if (HResults.failed(hr)) {
            p.closeStreams();
            hcs.closeProcess(handle);
            throw new HcsException("HcsSetProcessCallback " + info.processId(), hr, null);
        }
        return p;
    }

    private void onEvent(Hcs.Event e) {
        if (e.type() == Hcs.EVENT_PROCESS_EXITED) {
            int code = -1;
            if (e.data() != null && !e.data().isBlank()) {
                try {
                    Schema.ProcessStatus s = HcsJson.read(e.data(), Schema.ProcessStatus.class);
                    code = s.exitCode() == null ? 0 : (int) (long) s.exitCode();
                } catch (IllegalArgumentException bad) {
                    code = -1;
                }
            }
            exitCode.complete(code);
        } else if (e.type() == Hcs.EVENT_SERVICE_DISCONNECT) {
            exitCode.completeExceptionally(new HcsException("process " + pid + " in " + systemId,
                    HResults.HCS_E_SERVICE_DISCONNECT, e.data()));
        }
    }

    public int pid() {
        return pid;
    }

    public OutputStream stdin() {
        return stdin;
    }

    /** The host end of the stdout pipe as a stream read in this process (null when not asked for). */
    public synchronized InputStream stdout() {
        if (stdout == null && stdoutHandle != 0) {
            stdout = hcs.readPipe(stdoutHandle);
        }
        return stdout;
    }

    public synchronized InputStream stderr() {
        if (stderr == null && stderrHandle != 0) {
            stderr = hcs.readPipe(stderrHandle);
        }
        return stderr;
    }

    /**
     * The handle values of the host ends of stdout and stderr (0: none), for a process that takes them over (the
     * container's log relay). Whoever takes them must not use {@link #stdout()} or {@link #stderr()}.
     */
    public long stdoutHandle() {
        return stdoutHandle;
    }

    public long stderrHandle() {
        return stderrHandle;
    }

    /** Completes with the exit code; exceptionally when HCS disconnected. */
    public CompletableFuture<Integer> exitCode() {
        return exitCode;
    }

    /** Waits for the exit; the code, or null on timeout. Zero waits not at all; null waits forever. */
    public Integer awaitExit(Duration timeout) {
        try {
            return timeout == null ? exitCode.get() : exitCode.get(Math.max(0, timeout.toMillis()),
                    TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return null;
        } catch (ExecutionException e) {
            throw e.getCause() instanceof HcsException h ? h : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /**
     * {@code HcsSignalProcess} with {@code signal}; false when this Windows build cannot signal (before RS5), so
     * the caller terminates instead. A process that already exited counts as signalled.
     */
    public boolean signal(Schema.SignalOptions signal) {
        try {
            Operations.execute(hcs, "HcsSignalProcess " + pid, Duration.ofSeconds(30),
                    op -> hcs.signalProcess(handle, op, HcsJson.write(signal)));
            return true;
        } catch (HcsException e) {
            if (e.hresult() == HResults.HRESULT_NOT_SUPPORTED || e.hresult() == HResults.E_NOTIMPL) {
                return false;
            }
            if (e.gone()) {
                return true;
            }
            throw e;
        }
    }

    /** {@code HcsTerminateProcess}; a process already gone counts as terminated. */
    public void terminate() {
        try {
            Operations.execute(hcs, "HcsTerminateProcess " + pid, Duration.ofSeconds(30),
                    op -> hcs.terminateProcess(handle, op, null));
        } catch (HcsException e) {
            if (!e.gone()) {
                throw e;
            }
        }
    }

    /**
     * Stops the process as {@code docker stop} does on Windows: CtrlShutdown, then {@code HcsTerminateProcess} if
     * it has not exited within {@code grace} (zero: terminate at once). Returns the exit code, or null if HCS never
     * reported one within a further 10 s.
     */
    public Integer stop(Duration grace) {
        if (!exitCode.isDone() && !grace.isZero() && signal(Schema.SignalOptions.CTRL_SHUTDOWN)) {
            Integer code = awaitExit(grace);
            if (code != null) {
                return code;
            }
        }
        if (!exitCode.isDone()) {
            terminate();
        }
        return awaitExit(Duration.ofSeconds(10));
    }

    private void closeStreams() {
        for (AutoCloseable c : new AutoCloseable[] {stdin, stdout(), stderr()}) {
            if (c != null) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // the pipe is gone already
                }
            }
        }
    }

    /** Unregisters the callback and closes the handle (not the stdio streams, which their readers close). */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            hcs.setProcessCallback(handle, null);
            hcs.closeProcess(handle);
        }
    }
}
