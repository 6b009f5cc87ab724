package dev.berth.hcs.handle;

import dev.berth.hcs.bind.HResults;
import dev.berth.hcs.bind.Hcs;
import dev.berth.hcs.schema.HcsJson;
import dev.berth.hcs.schema.Schema;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An open handle to a compute system, with its event callback registered: {@link #exited()} completes when HCS
 * reports SystemExited (normally) or ServiceDisconnect (exceptionally, the service went away). Closing the handle
 * leaves the system running: berth's containers outlive berth.
 */
public final class ComputeSystem implements AutoCloseable {
    private final Hcs hcs;
    private final String id;
    private final long handle;
    private final CompletableFuture<Void> exited = new CompletableFuture<>();
    private final AtomicBoolean closed = new AtomicBoolean();

    private ComputeSystem(Hcs hcs, String id, long handle) {
        this.hcs = hcs;
        this.id = id;
        this.handle = handle;
    }

    /** {@code HcsCreateComputeSystem} with {@code configuration}, waiting for it to be created. */
    public static ComputeSystem create(Hcs hcs, String id, Schema.ComputeSystem configuration, Duration timeout) {
        String doc = HcsJson.write(configuration);
        long[] handle = new long[1];
        try {
            Operations.execute(hcs, "HcsCreateComputeSystem " + id, timeout, op -> {
                Hcs.HandleResult r = hcs.createComputeSystem(id, doc, op);
                handle[0] = r.handle();
                return r.hresult();
            });
        } catch (HcsException e) {
            if (handle[0] != 0) {
                hcs.closeComputeSystem(handle[0]);
            }
            throw e;
        }
        return registered(hcs, id, handle[0]);
    }

    /** {@code HcsOpenComputeSystem}: a system created earlier, e.g. before berth restarted. */
    public static ComputeSystem open(Hcs hcs, String id) {
        Hcs.HandleResult r = hcs.openComputeSystem(id, Hcs.GENERIC_ALL);
        if (HResults.failed(r.hresult())) {
            throw new HcsException("HcsOpenComputeSystem " + id, r.hresult(), null);
        }
        return registered(hcs, id, r.handle());
    }

    private static ComputeSystem registered(Hcs hcs, String id, long handle) {
        ComputeSystem s = new ComputeSystem(hcs, id, handle);
        int hr = hcs.setComputeSystemCallback(handle, s::onEvent);
        if (HResults.failed(hr)) {
            hcs.closeComputeSystem(handle);
            throw new HcsException("HcsSetComputeSystemCallback " + id, hr, null);
        }
        return s;
    }

    private void onEvent(Hcs.Event e) {
        if (e.type() == Hcs.EVENT_SYSTEM_EXITED) {
            exited.complete(null);
        } else if (e.type() == Hcs.EVENT_SERVICE_DISCONNECT) {
            exited.completeExceptionally(new HcsException("compute system " + id,
                    HResults.HCS_E_SERVICE_DISCONNECT, e.data()));
        }
    }

    public String id() {
        return id;
    }

    long handle() {
        return handle;
    }

    Hcs hcs() {
        return hcs;
    }

    /** Completes when the system exited; exceptionally when HCS disconnected. */
    public CompletableFuture<Void> exited() {
        return exited;
    }

    public void start(Duration timeout) {
        Operations.execute(hcs, "HcsStartComputeSystem " + id, timeout,
                op -> hcs.startComputeSystem(handle, op, null));
    }

    /**
     * Stops the system: {@code HcsShutDownComputeSystem} (a clean shutdown of the silo or guest), then, if it has
     * not exited within {@code grace}, {@code HcsTerminateComputeSystem}. A system already stopped counts as
     * stopped. Returns whether it had to be terminated.
     */
    public boolean shutdownThenTerminate(Duration grace) {
        if (exited.isDone()) {
            return false;
        }
        try {
            Operations.execute(hcs, "HcsShutDownComputeSystem " + id, grace,
                    op -> hcs.shutDownComputeSystem(handle, op, null));
            if (awaitExit(grace)) {
                return false;
            }
        } catch (HcsException e) {
            if (e.gone()) {
                exited.complete(null);
                return false;
            }
            if (e.hresult() != HResults.HCS_E_OPERATION_TIMEOUT) {
                throw e;
            }
        }
        terminate();
        return true;
    }

    /** {@code HcsTerminateComputeSystem}; a system already stopped or gone counts as terminated. */
    public void terminate() {
        try {
            Operations.execute(hcs, "HcsTerminateComputeSystem " + id, Duration.ZERO,
                    op -> hcs.terminateComputeSystem(handle, op, null));
        } catch (HcsException e) {
            if (!e.gone()) {
                throw e;
            }
        }
        exited.complete(null);
    }

    /** Waits for SystemExited; false on timeout. */
    public boolean awaitExit(Duration timeout) {
        try {
            exited.get(Math.max(0, timeout.toMillis()), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            return true; // disconnected: nothing more will come
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** {@code HcsGetComputeSystemProperties} for {@code query}. */
    public Schema.Properties properties(Schema.PropertyQuery query, Duration timeout) {
        String doc = Operations.execute(hcs, "HcsGetComputeSystemProperties " + id, timeout,
                op -> hcs.getComputeSystemProperties(handle, op, HcsJson.write(query)));
        return doc == null || doc.isBlank() ? new Schema.Properties(id, null, null, null, null)
                : HcsJson.read(doc, Schema.Properties.class);
    }

    /** Creates a process in the system, with its exit callback registered. */
    public HcsProcess createProcess(Schema.ProcessParameters parameters, Duration timeout) {
        return HcsProcess.create(this, parameters, timeout);
    }

    /** Opens a running process by pid (after a restart of berth). */
    public HcsProcess openProcess(int pid) {
        return HcsProcess.open(this, pid);
    }

    /** Unregisters the callback and closes the handle; the system keeps running. Idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            hcs.setComputeSystemCallback(handle, null);
            hcs.closeComputeSystem(handle);
        }
    }
}
