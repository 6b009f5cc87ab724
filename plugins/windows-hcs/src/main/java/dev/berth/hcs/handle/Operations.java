package dev.berth.hcs.handle;

import dev.berth.hcs.bind.HResults;
import dev.berth.hcs.bind.Hcs;
import java.time.Duration;

/**
 * Runs one HCS call with its operation: create the operation, make the call, wait for its result, close it. A
 * wait that times out cancels the operation and waits for it to settle before closing it: an operation is never
 * closed while HCS may still complete it (hcsshim's computecore wrapper notes a use-after-free in computecore.dll
 * when a call is abandoned).
 */
public final class Operations {
    private Operations() {}

    /** A call that takes the operation and returns the {@code HRESULT} of starting it. */
    @FunctionalInterface
    public interface Call {
        int start(long operation);
    }

    static int timeoutMs(Duration timeout) {
        if (timeout == null || timeout.isZero() || timeout.isNegative()) {
            return Hcs.INFINITE;
        }
        return (int) Math.min(Integer.MAX_VALUE - 1, timeout.toMillis());
    }

    /** Runs {@code call} named {@code name}, waiting at most {@code timeout} (zero: no limit); its result document. */
    public static String execute(Hcs hcs, String name, Duration timeout, Call call) {
        long op = create(hcs, name);
        try {
            int hr = call.start(op);
            if (HResults.failed(hr)) {
                // The call was refused: the operation never started, nothing is in flight.
                throw new HcsException(name, hr, null);
            }
            Hcs.Result r = hcs.waitForOperationResult(op, timeoutMs(timeout));
            if (r.hresult() == HResults.HCS_E_OPERATION_TIMEOUT) {
                r = cancelAndSettle(hcs, op, name);
            }
            if (HResults.failed(r.hresult())) {
                throw new HcsException(name, r.hresult(), r.document());
            }
            return r.document();
        } finally {
            hcs.closeOperation(op);
        }
    }

    /** The result of a create-process operation, with the process information (pid, pipes). */
    public static Hcs.ProcessResult executeWithProcessInfo(Hcs hcs, String name, Duration timeout, Call call) {
        long op = create(hcs, name);
        try {
            int hr = call.start(op);
            if (HResults.failed(hr)) {
                throw new HcsException(name, hr, null);
            }
            Hcs.ProcessResult r = hcs.waitForOperationResultAndProcessInfo(op, timeoutMs(timeout));
            if (r.hresult() == HResults.HCS_E_OPERATION_TIMEOUT) {
                cancelAndSettle(hcs, op, name);
                throw new HcsException(name, HResults.HCS_E_OPERATION_TIMEOUT, r.document());
            }
            if (HResults.failed(r.hresult())) {
                throw new HcsException(name, r.hresult(), r.document());
            }
            return r;
        } finally {
            hcs.closeOperation(op);
        }
    }

    private static long create(Hcs hcs, String name) {
        long op = hcs.createOperation();
        if (op == 0) {
            throw new HcsException(name + " (HcsCreateOperation)", HResults.E_OUTOFMEMORY, null);
        }
        return op;
    }

    /**
     * Cancels a timed-out operation and waits until HCS is done with it. If it completed after all, its result
     * counts; otherwise the call failed with {@code HCS_E_OPERATION_TIMEOUT}.
     */
    private static Hcs.Result cancelAndSettle(Hcs hcs, long op, String name) {
        hcs.cancelOperation(op);
        Hcs.Result settled = hcs.waitForOperationResult(op, Hcs.INFINITE);
        if (HResults.failed(settled.hresult())) {
            return new Hcs.Result(HResults.HCS_E_OPERATION_TIMEOUT, settled.document());
        }
        return settled;
    }
}
