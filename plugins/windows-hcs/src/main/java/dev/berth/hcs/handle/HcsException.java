package dev.berth.hcs.handle;

import static dev.berth.hcs.bind.HResults.*;

import dev.berth.hcs.bind.HResults;
import dev.berth.spi.BackendException;
import java.util.Map;

/**
 * A failed HCS, HNS or layer call: the call, its {@code HRESULT}, the symbolic name and HCS's result document
 * (often an error record with more detail). {@link #kind()} maps the {@code HRESULT} to the SPI's error kinds,
 * in the one table below.
 */
public final class HcsException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** HRESULT to kind; anything not listed is INTERNAL. */
    static final Map<Integer, BackendException.Kind> KINDS = Map.ofEntries(
            Map.entry(HCS_E_SYSTEM_NOT_FOUND, BackendException.Kind.NOT_FOUND),
            Map.entry(HCS_E_SYSTEM_NOT_FOUND_LEGACY, BackendException.Kind.NOT_FOUND),
            Map.entry(HRESULT_NOT_FOUND, BackendException.Kind.NOT_FOUND),
            Map.entry(HRESULT_FILE_NOT_FOUND, BackendException.Kind.NOT_FOUND),
            Map.entry(HCS_E_SYSTEM_ALREADY_EXISTS, BackendException.Kind.ALREADY_EXISTS),
            Map.entry(HRESULT_ALREADY_EXISTS, BackendException.Kind.ALREADY_EXISTS),
            Map.entry(E_INVALIDARG, BackendException.Kind.INVALID_ARGUMENT),
            Map.entry(HCS_E_INVALID_JSON, BackendException.Kind.INVALID_ARGUMENT),
            Map.entry(HCS_E_INVALID_LAYER, BackendException.Kind.INVALID_ARGUMENT),
            Map.entry(HCS_E_SYSTEM_ALREADY_STOPPED, BackendException.Kind.FAILED_PRECONDITION),
            Map.entry(HCS_E_SYSTEM_ALREADY_STOPPED_LEGACY, BackendException.Kind.FAILED_PRECONDITION),
            Map.entry(HCS_E_PROCESS_ALREADY_STOPPED, BackendException.Kind.FAILED_PRECONDITION),
            Map.entry(HCS_E_TERMINATED, BackendException.Kind.FAILED_PRECONDITION),
            Map.entry(HCS_E_SYSTEM_NOT_CONFIGURED_FOR_OPERATION, BackendException.Kind.FAILED_PRECONDITION),
            Map.entry(HCS_E_SERVICE_DISCONNECT, BackendException.Kind.UNAVAILABLE),
            Map.entry(HCS_E_SERVICE_NOT_AVAILABLE, BackendException.Kind.UNAVAILABLE),
            Map.entry(HCS_E_CONNECT_FAILED, BackendException.Kind.UNAVAILABLE),
            Map.entry(HCS_E_CONNECTION_CLOSED, BackendException.Kind.UNAVAILABLE),
            Map.entry(HRESULT_SERVICE_DOES_NOT_EXIST, BackendException.Kind.UNAVAILABLE),
            Map.entry(HRESULT_SERVICE_NOT_ACTIVE, BackendException.Kind.UNAVAILABLE),
            Map.entry(HRESULT_PROC_NOT_FOUND, BackendException.Kind.UNAVAILABLE),
            Map.entry(HCS_E_WINDOWS_INSIDER_REQUIRED, BackendException.Kind.UNAVAILABLE),
            Map.entry(E_ACCESSDENIED, BackendException.Kind.UNAVAILABLE),
            Map.entry(HCS_E_ACCESS_DENIED, BackendException.Kind.UNAVAILABLE),
            Map.entry(HCS_E_OPERATION_TIMEOUT, BackendException.Kind.DEADLINE_EXCEEDED),
            Map.entry(HCS_E_CONNECTION_TIMEOUT, BackendException.Kind.DEADLINE_EXCEEDED),
            Map.entry(E_NOTIMPL, BackendException.Kind.UNIMPLEMENTED),
            Map.entry(HRESULT_NOT_SUPPORTED, BackendException.Kind.UNIMPLEMENTED));

    private final String call;
    private final int hresult;
    private final String document;

    public HcsException(String call, int hresult, String document) {
        super(call + " failed: " + HResults.name(hresult) + " (" + HResults.hex(hresult) + ")"
                + (document == null || document.isBlank() ? "" : ": " + document.strip()));
        this.call = call;
        this.hresult = hresult;
        this.document = document;
    }

    public String call() {
        return call;
    }

    public int hresult() {
        return hresult;
    }

    public String symbolicName() {
        return HResults.name(hresult);
    }

    public String document() {
        return document;
    }

    public BackendException.Kind kind() {
        return kindOf(hresult);
    }

    public static BackendException.Kind kindOf(int hresult) {
        return KINDS.getOrDefault(hresult, BackendException.Kind.INTERNAL);
    }

    /** Whether the object the call was about is gone (not found, or already stopped). */
    public boolean gone() {
        return kind() == BackendException.Kind.NOT_FOUND || kind() == BackendException.Kind.FAILED_PRECONDITION;
    }

    /** The SPI exception for a failed step of {@code what}, e.g. "failed to start container \"abc\"". */
    public BackendException toBackend(String what) {
        return new BackendException(kind(), what + ": " + getMessage(), this);
    }

    /** Throws when {@code hresult} is a failure. */
    public static void check(String call, int hresult) {
        if (HResults.failed(hresult)) {
            throw new HcsException(call, hresult, null);
        }
    }
}
