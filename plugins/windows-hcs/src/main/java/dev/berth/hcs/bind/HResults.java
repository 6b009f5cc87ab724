package dev.berth.hcs.bind;

import java.util.Map;

/**
 * The {@code HRESULT}s berth tells apart, with their symbolic names (winerror.h and the HCS error list,
 * hcsshim {@code internal/hcs/errors.go}).
 */
public final class HResults {
    private HResults() {}

    public static final int S_OK = 0;
    public static final int E_INVALIDARG = 0x80070057;
    public static final int E_ACCESSDENIED = 0x80070005;
    public static final int E_NOTIMPL = 0x80004001;
    public static final int E_OUTOFMEMORY = 0x8007000E;
    public static final int E_FAIL = 0x80004005;
    /** ERROR_NOT_FOUND as an HRESULT. */
    public static final int HRESULT_NOT_FOUND = 0x80070490;
    /** ERROR_FILE_NOT_FOUND as an HRESULT. */
    public static final int HRESULT_FILE_NOT_FOUND = 0x80070002;
    /** ERROR_ALREADY_EXISTS as an HRESULT. */
    public static final int HRESULT_ALREADY_EXISTS = 0x800700B7;
    /** ERROR_SERVICE_DOES_NOT_EXIST: the vmcompute service is not installed. */
    public static final int HRESULT_SERVICE_DOES_NOT_EXIST = 0x80070424;
    /** ERROR_SERVICE_NOT_ACTIVE. */
    public static final int HRESULT_SERVICE_NOT_ACTIVE = 0x80070426;
    /** ERROR_PROC_NOT_FOUND: the function is not in this build of the DLL. */
    public static final int HRESULT_PROC_NOT_FOUND = 0x8007007F;

    public static final int HCS_E_TERMINATED = 0x80370107;
    public static final int HCS_E_CONNECT_FAILED = 0x80370108;
    public static final int HCS_E_CONNECTION_TIMEOUT = 0x80370109;
    public static final int HCS_E_CONNECTION_CLOSED = 0x8037010A;
    public static final int HCS_E_UNKNOWN_MESSAGE = 0x8037010B;
    public static final int HCS_E_UNSUPPORTED_PROTOCOL_VERSION = 0x8037010C;
    public static final int HCS_E_INVALID_JSON = 0x8037010D;
    public static final int HCS_E_SYSTEM_NOT_FOUND = 0x8037010E;
    public static final int HCS_E_SYSTEM_ALREADY_EXISTS = 0x8037010F;
    public static final int HCS_E_SYSTEM_ALREADY_STOPPED = 0x80370110;
    public static final int HCS_E_PROTOCOL_ERROR = 0x80370111;
    public static final int HCS_E_INVALID_LAYER = 0x80370112;
    public static final int HCS_E_WINDOWS_INSIDER_REQUIRED = 0x80370113;
    public static final int HCS_E_SERVICE_NOT_AVAILABLE = 0x80370114;
    public static final int HCS_E_OPERATION_NOT_STARTED = 0x80370115;
    public static final int HCS_E_OPERATION_ALREADY_STARTED = 0x80370116;
    public static final int HCS_E_OPERATION_PENDING = 0x80370117;
    public static final int HCS_E_OPERATION_TIMEOUT = 0x80370118;
    public static final int HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET = 0x80370119;
    public static final int HCS_E_OPERATION_RESULT_ALLOCATION_FAILED = 0x8037011A;
    public static final int HCS_E_ACCESS_DENIED = 0x8037011B;
    public static final int HCS_E_GUEST_CRITICAL_ERROR = 0x8037011C;
    public static final int HCS_E_PROCESS_INFO_NOT_AVAILABLE = 0x8037011D;
    public static final int HCS_E_SERVICE_DISCONNECT = 0x8037011E;
    public static final int HCS_E_PROCESS_ALREADY_STOPPED = 0x8037011F;
    public static final int HCS_E_SYSTEM_NOT_CONFIGURED_FOR_OPERATION = 0x80370120;
    public static final int HCS_E_OPERATION_ALREADY_CANCELLED = 0x80370121;
    /** The legacy vmcompute API's "operation pending: wait for the notification" (not an error). */
    public static final int HCS_E_PENDING_LEGACY = 0xC0370103;
    /** The legacy (vmcompute) spelling of HCS_E_SYSTEM_NOT_FOUND. */
    public static final int HCS_E_SYSTEM_NOT_FOUND_LEGACY = 0xC037010E;
    /** The legacy (vmcompute) spelling of HCS_E_SYSTEM_ALREADY_STOPPED. */
    public static final int HCS_E_SYSTEM_ALREADY_STOPPED_LEGACY = 0xC0370110;
    /** E_HANDLE: an invalid handle, e.g. a system closed under the caller. */
    public static final int E_HANDLE = 0x80070006;
    /** ERROR_NOT_SUPPORTED as an HRESULT (e.g. signals on a build before RS5). */
    public static final int HRESULT_NOT_SUPPORTED = 0x80070032;

    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(S_OK, "S_OK"),
            Map.entry(E_INVALIDARG, "E_INVALIDARG"),
            Map.entry(E_ACCESSDENIED, "E_ACCESSDENIED"),
            Map.entry(E_NOTIMPL, "E_NOTIMPL"),
            Map.entry(E_OUTOFMEMORY, "E_OUTOFMEMORY"),
            Map.entry(E_FAIL, "E_FAIL"),
            Map.entry(HRESULT_NOT_FOUND, "ERROR_NOT_FOUND"),
            Map.entry(HRESULT_FILE_NOT_FOUND, "ERROR_FILE_NOT_FOUND"),
            Map.entry(HRESULT_ALREADY_EXISTS, "ERROR_ALREADY_EXISTS"),
            Map.entry(HRESULT_SERVICE_DOES_NOT_EXIST, "ERROR_SERVICE_DOES_NOT_EXIST"),
            Map.entry(HRESULT_SERVICE_NOT_ACTIVE, "ERROR_SERVICE_NOT_ACTIVE"),
            Map.entry(HRESULT_PROC_NOT_FOUND, "ERROR_PROC_NOT_FOUND"),
            Map.entry(HRESULT_NOT_SUPPORTED, "ERROR_NOT_SUPPORTED"),
            Map.entry(HCS_E_TERMINATED, "HCS_E_TERMINATED"),
            Map.entry(HCS_E_CONNECT_FAILED, "HCS_E_CONNECT_FAILED"),
            Map.entry(HCS_E_CONNECTION_TIMEOUT, "HCS_E_CONNECTION_TIMEOUT"),
            Map.entry(HCS_E_CONNECTION_CLOSED, "HCS_E_CONNECTION_CLOSED"),
            Map.entry(HCS_E_UNKNOWN_MESSAGE, "HCS_E_UNKNOWN_MESSAGE"),
            Map.entry(HCS_E_UNSUPPORTED_PROTOCOL_VERSION, "HCS_E_UNSUPPORTED_PROTOCOL_VERSION"),
            Map.entry(HCS_E_INVALID_JSON, "HCS_E_INVALID_JSON"),
            Map.entry(HCS_E_SYSTEM_NOT_FOUND, "HCS_E_SYSTEM_NOT_FOUND"),
            Map.entry(HCS_E_SYSTEM_ALREADY_EXISTS, "HCS_E_SYSTEM_ALREADY_EXISTS"),
            Map.entry(HCS_E_SYSTEM_ALREADY_STOPPED, "HCS_E_SYSTEM_ALREADY_STOPPED"),
            Map.entry(HCS_E_PROTOCOL_ERROR, "HCS_E_PROTOCOL_ERROR"),
            Map.entry(HCS_E_INVALID_LAYER, "HCS_E_INVALID_LAYER"),
            Map.entry(HCS_E_WINDOWS_INSIDER_REQUIRED, "HCS_E_WINDOWS_INSIDER_REQUIRED"),
            Map.entry(HCS_E_SERVICE_NOT_AVAILABLE, "HCS_E_SERVICE_NOT_AVAILABLE"),
            Map.entry(HCS_E_OPERATION_NOT_STARTED, "HCS_E_OPERATION_NOT_STARTED"),
            Map.entry(HCS_E_OPERATION_ALREADY_STARTED, "HCS_E_OPERATION_ALREADY_STARTED"),
            Map.entry(HCS_E_OPERATION_PENDING, "HCS_E_OPERATION_PENDING"),
            Map.entry(HCS_E_OPERATION_TIMEOUT, "HCS_E_OPERATION_TIMEOUT"),
            Map.entry(HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET, "HCS_E_OPERATION_SYSTEM_CALLBACK_ALREADY_SET"),
            Map.entry(HCS_E_OPERATION_RESULT_ALLOCATION_FAILED, "HCS_E_OPERATION_RESULT_ALLOCATION_FAILED"),
            Map.entry(HCS_E_ACCESS_DENIED, "HCS_E_ACCESS_DENIED"),
            Map.entry(HCS_E_GUEST_CRITICAL_ERROR, "HCS_E_GUEST_CRITICAL_ERROR"),
            Map.entry(HCS_E_PROCESS_INFO_NOT_AVAILABLE, "HCS_E_PROCESS_INFO_NOT_AVAILABLE"),
            Map.entry(HCS_E_SERVICE_DISCONNECT, "HCS_E_SERVICE_DISCONNECT"),
            Map.entry(HCS_E_PROCESS_ALREADY_STOPPED, "HCS_E_PROCESS_ALREADY_STOPPED"),
            Map.entry(HCS_E_SYSTEM_NOT_CONFIGURED_FOR_OPERATION, "HCS_E_SYSTEM_NOT_CONFIGURED_FOR_OPERATION"),
            Map.entry(HCS_E_OPERATION_ALREADY_CANCELLED, "HCS_E_OPERATION_ALREADY_CANCELLED"),
            Map.entry(HCS_E_SYSTEM_NOT_FOUND_LEGACY, "HCS_E_SYSTEM_NOT_FOUND (legacy vmcompute)"),
            Map.entry(HCS_E_SYSTEM_ALREADY_STOPPED_LEGACY, "HCS_E_SYSTEM_ALREADY_STOPPED (legacy vmcompute)"),
            Map.entry(E_HANDLE, "E_HANDLE"),
            Map.entry(HCS_E_PENDING_LEGACY, "HCS_E_PENDING (legacy vmcompute)"));

    public static boolean failed(int hresult) {
        return hresult < 0;
    }

    /** The symbolic name, or the hex value when berth has no name for it. */
    public static String name(int hresult) {
        String n = NAMES.get(hresult);
        return n != null ? n : hex(hresult);
    }

    public static String hex(int hresult) {
        return String.format("0x%08X", hresult);
    }
}
