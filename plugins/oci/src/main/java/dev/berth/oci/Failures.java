package dev.berth.oci;

import dev.berth.spi.BackendException;
import java.io.IOException;

/**
 * The errors a Linux plugin's call ends in when berth's own work fails rather than the request, worded as every
 * BackendException of the plugins: {@code failed to <action> "<id>": <why>}.
 */
public final class Failures {
    private Failures() {}

    /** INTERNAL: an I/O error of berth's own (a file, a FIFO, a runtime it could not start). */
    public static BackendException io(String action, String id, IOException e) {
        return new BackendException(BackendException.Kind.INTERNAL, "failed to " + action + " \"" + id + "\": "
                + e.getMessage());
    }

    /** UNAVAILABLE, with the thread's interrupt restored: berth is shutting down the call. */
    public static BackendException interrupted(String action, String id) {
        Thread.currentThread().interrupt();
        return new BackendException(BackendException.Kind.UNAVAILABLE, "failed to " + action + " \"" + id
                + "\": interrupted");
    }
}
