package dev.berth.core.cri;

import dev.berth.spi.BackendException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.UncheckedIOException;

/**
 * The one place where exceptions become gRPC statuses. A client never sees UNKNOWN or a stack trace: anything
 * unexpected is INTERNAL with a one-line description, and the stack trace goes to the daemon's log.
 */
public final class Errors {
    private static final System.Logger LOG = System.getLogger(Errors.class.getName());

    private Errors() {}

    public static Status toStatus(Throwable t, String rpc) {
        return switch (t) {
            case StatusRuntimeException s -> s.getStatus();
            case BackendException b -> code(b.kind()).withDescription(b.getMessage());
            case IllegalArgumentException i -> Status.INVALID_ARGUMENT.withDescription(i.getMessage());
            case UncheckedIOException io -> {
                LOG.log(System.Logger.Level.ERROR, rpc + " failed", io);
                yield Status.INTERNAL.withDescription(io.getMessage() + ": " + io.getCause().getMessage());
            }
            default -> {
                LOG.log(System.Logger.Level.ERROR, rpc + " failed with an unexpected error", t);
                yield Status.INTERNAL.withDescription("internal error in " + rpc + ": " + t.getClass().getSimpleName()
                        + (t.getMessage() == null ? "" : ": " + t.getMessage()));
            }
        };
    }

    private static Status code(BackendException.Kind kind) {
        return switch (kind) {
            case NOT_FOUND -> Status.NOT_FOUND;
            case ALREADY_EXISTS -> Status.ALREADY_EXISTS;
            case INVALID_ARGUMENT -> Status.INVALID_ARGUMENT;
            case FAILED_PRECONDITION -> Status.FAILED_PRECONDITION;
            case UNAVAILABLE -> Status.UNAVAILABLE;
            case UNIMPLEMENTED -> Status.UNIMPLEMENTED;
            case DEADLINE_EXCEEDED -> Status.DEADLINE_EXCEEDED;
            case INTERNAL -> Status.INTERNAL;
        };
    }

    /** INVALID_ARGUMENT unless {@code value} is non-empty. */
    public static String require(String value, String field) {
        if (value == null || value.isEmpty()) {
            throw BackendException.invalid(field + " must not be empty");
        }
        return value;
    }
}
