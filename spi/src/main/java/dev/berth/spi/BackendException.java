package dev.berth.spi;

import java.util.Objects;

/**
 * The one exception a backend throws. Core maps its {@link Kind} to a gRPC status in one place, and uses the
 * message as the status description, so the message must be a sentence for an operator: "failed to start
 * container "abc": runc: exec format error". Never put a stack trace in it.
 */
public final class BackendException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** What went wrong, in the terms a CRI client understands. */
    public enum Kind {
        /** The pod, container or exec is not known to the backend. */
        NOT_FOUND,
        /** Something with that id already exists. */
        ALREADY_EXISTS,
        /** The request itself is wrong: bad option, impossible resource value, unknown seccomp profile. */
        INVALID_ARGUMENT,
        /** The request is valid but the object is in the wrong state for it, e.g. starting an exited container. */
        FAILED_PRECONDITION,
        /** A dependency is missing or down: the runtime binary, the shim, the host service. Retrying may help. */
        UNAVAILABLE,
        /** The backend does not support this operation or option. */
        UNIMPLEMENTED,
        /** The operation ran out of time. */
        DEADLINE_EXCEEDED,
        /** A bug or an unexpected failure of an external program. */
        INTERNAL
    }

    private final Kind kind;

    public BackendException(Kind kind, String message) {
        this(kind, message, null);
    }

    public BackendException(Kind kind, String message, Throwable cause) {
        super(Objects.requireNonNull(message, "message is null"), cause);
        this.kind = Objects.requireNonNull(kind, "kind is null");
    }

    public Kind kind() {
        return kind;
    }

    public static BackendException notFound(String what, String id) {
        return new BackendException(Kind.NOT_FOUND, what + " \"" + id + "\" not found");
    }

    public static BackendException invalid(String message) {
        return new BackendException(Kind.INVALID_ARGUMENT, message);
    }

    public static BackendException unimplemented(String message) {
        return new BackendException(Kind.UNIMPLEMENTED, message);
    }

    public static BackendException internal(String message, Throwable cause) {
        return new BackendException(Kind.INTERNAL, message, cause);
    }
}
