package dev.berth.hcs;

import dev.berth.hcs.handle.HcsException;
import dev.berth.spi.BackendException;

/** What a failure inside the backend becomes at the SPI: HRESULTs by {@link HcsException}'s table. */
final class Failures {
    private Failures() {}

    static BackendException backend(String what, RuntimeException e) {
        if (e instanceof BackendException b) {
            return b;
        }
        if (e instanceof HcsException h) {
            return h.toBackend(what);
        }
        if (e instanceof IllegalArgumentException) {
            return BackendException.invalid(what + ": " + e.getMessage());
        }
        return BackendException.internal(what + ": " + e, e);
    }
}
