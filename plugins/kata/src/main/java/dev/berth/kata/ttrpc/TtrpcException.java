package dev.berth.kata.ttrpc;

import dev.berth.oci.RuntimeErrors;
import dev.berth.spi.BackendException;

/**
 * A failed ttrpc call: a gRPC status code (from the peer's {@code google.rpc.Status}, or chosen by the client
 * for transport failures and deadlines) and the peer's message.
 */
public final class TtrpcException extends Exception {
    private static final long serialVersionUID = 1L;

    public static final int CANCELLED = 1;
    public static final int UNKNOWN = 2;
    public static final int INVALID_ARGUMENT = 3;
    public static final int DEADLINE_EXCEEDED = 4;
    public static final int NOT_FOUND = 5;
    public static final int ALREADY_EXISTS = 6;
    public static final int PERMISSION_DENIED = 7;
    public static final int RESOURCE_EXHAUSTED = 8;
    public static final int FAILED_PRECONDITION = 9;
    public static final int ABORTED = 10;
    public static final int OUT_OF_RANGE = 11;
    public static final int UNIMPLEMENTED = 12;
    public static final int INTERNAL = 13;
    public static final int UNAVAILABLE = 14;
    public static final int DATA_LOSS = 15;
    public static final int UNAUTHENTICATED = 16;

    private final int code;

    public TtrpcException(int code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    public int code() {
        return code;
    }

    public boolean is(int c) {
        return code == c;
    }

    /** The SPI kind for a gRPC code, in one table. */
    public static BackendException.Kind kindOf(int code) {
        return switch (code) {
            case INVALID_ARGUMENT, OUT_OF_RANGE -> BackendException.Kind.INVALID_ARGUMENT;
            case DEADLINE_EXCEEDED -> BackendException.Kind.DEADLINE_EXCEEDED;
            case NOT_FOUND -> BackendException.Kind.NOT_FOUND;
            case ALREADY_EXISTS -> BackendException.Kind.ALREADY_EXISTS;
            case FAILED_PRECONDITION, ABORTED -> BackendException.Kind.FAILED_PRECONDITION;
            case UNIMPLEMENTED -> BackendException.Kind.UNIMPLEMENTED;
            case UNAVAILABLE, CANCELLED -> BackendException.Kind.UNAVAILABLE;
            default -> BackendException.Kind.INTERNAL;
        };
    }

    /**
     * As {@link #toBackend}, for a call that runs what the request asked for (create, start, update, exec): a failure
     * the shim gives no code for is classified by the runtime's words it quotes ({@link RuntimeErrors}), so that a
     * command that is a directory is FAILED_PRECONDITION there as under the runc type.
     */
    public BackendException toBackendForRequest(String action, String id) {
        BackendException.Kind kind = kindOf(code);
        return toBackend(kind == BackendException.Kind.INTERNAL ? RuntimeErrors.kindOf(getMessage()) : kind, action,
                id);
    }

    /** {@code failed to <action> "id": <peer message>} with the mapped kind. */
    public BackendException toBackend(String action, String id) {
        return toBackend(kindOf(code), action, id);
    }

    private BackendException toBackend(BackendException.Kind kind, String action, String id) {
        return new BackendException(kind, "failed to " + action + " \"" + id + "\": " + getMessage());
    }
}
