package dev.berth.core.cri;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.spi.BackendException;
import io.grpc.Status;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.junit.jupiter.api.Test;

/** Only the client's errors are INVALID_ARGUMENT; anything else is INTERNAL with one line. */
class ErrorsTest {
    @Test
    void backendExceptionKeepsItsKind() {
        Status s = Errors.toStatus(BackendException.invalid("pod sandbox metadata.name must not be empty"), "Run");
        assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(s.getDescription()).isEqualTo("pod sandbox metadata.name must not be empty");
    }

    @Test
    void anIllegalArgumentExceptionIsABugNotABadRequest() {
        Status s = Errors.toStatus(new IllegalArgumentException("index -1 out of range\n\tsecond line"), "ListImages");
        assertThat(s.getCode()).isEqualTo(Status.Code.INTERNAL);
        assertThat(s.getDescription())
                .isEqualTo("internal error in ListImages: IllegalArgumentException: index -1 out of range");
    }

    @Test
    void otherFailuresAreInternal() {
        assertThat(Errors.toStatus(new NullPointerException(), "Status").getCode()).isEqualTo(Status.Code.INTERNAL);
        Status io = Errors.toStatus(new UncheckedIOException("cannot persist", new IOException("disk full")), "Run");
        assertThat(io.getCode()).isEqualTo(Status.Code.INTERNAL);
        assertThat(io.getDescription()).isEqualTo("cannot persist: disk full");
    }
}
