package dev.berth.core.cri;

import dev.berth.spi.BackendException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.UncheckedIOException;

/**
 * The one place where exceptions become gRPC statuses. A client never sees UNKNOWN or a stack trace: anything
 * unexpected is INTERNAL with a one-line description, and the stack trace goes to the daemon's log.
 *
 * <p>Only a {@link BackendException} says what the client did wrong (INVALID_ARGUMENT and the other kinds): the
 * edge's checks ({@link Validation}) and the mapping of requests to SPI records throw it. Any other exception,
 * an {@link IllegalArgumentException} included, is a bug or an unexpected failure and answers INTERNAL.
 */
public final class Errors {
    private static final System.Logger LOG = System.getLogger(Errors.class.getName());

    private Errors() {}

    public static Status toStatus(Throwable t, String rpc) {
        return switch (t) {
            case StatusRuntimeException s -> s.getStatus();
            case BackendException b -> code(b.kind()).withDescription(b.getMessage());
            case UncheckedIOException io -> {
                LOG.log(System.Logger.Level.ERROR, rpc + " failed", io);
                yield Status.INTERNAL.withDescription(io.getMessage() + ": " + io.getCause().getMessage());
            }
            default -> {
                LOG.log(System.Logger.Level.ERROR, rpc + " failed with an unexpected error", t);
                yield Status.INTERNAL.withDescription("internal error in " + rpc + ": " + t.getClass().getSimpleName()
                        + (t.getMessage() == null ? "" : ": " + firstLine(t.getMessage())));
            }
        };
    }

    private static String firstLine(String message) {
        return message.strip().lines().findFirst().orElse("");
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

    /** The most label and annotation bytes one object may carry, as the Kubernetes API server allows. */
    public static final int MAX_METADATA_BYTES = 256 * 1024;

    /** INVALID_ARGUMENT if labels and annotations together exceed {@link #MAX_METADATA_BYTES}. */
    public static void checkMetadataSize(java.util.Map<String, String> labels, java.util.Map<String, String> annotations,
                                         String what) {
        long total = 0;
        for (var m : java.util.List.of(labels, annotations)) {
            for (var e : m.entrySet()) {
                total += e.getKey().length() + e.getValue().length();
            }
        }
        if (total > MAX_METADATA_BYTES) {
            throw BackendException.invalid("labels and annotations of the " + what + " total " + total
                    + " bytes; the limit is " + MAX_METADATA_BYTES);
        }
    }

    /** INVALID_ARGUMENT unless {@code value} is non-empty. */
    public static String require(String value, String field) {
        if (value == null || value.isEmpty()) {
            throw BackendException.invalid(field + " must not be empty");
        }
        return value;
    }
}
