package dev.berth.core.cri;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.spi.BackendException;
import io.grpc.Status;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

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

    @ParameterizedTest
    @EnumSource(BackendException.Kind.class)
    void everyKindHasItsOwnCodeAndKeepsItsMessage(BackendException.Kind kind) {
        Status s = Errors.toStatus(new BackendException(kind, "what went wrong for " + kind), "Rpc");
        assertThat(s.getCode().name()).isEqualTo(kind.name());
        assertThat(s.getDescription()).isEqualTo("what went wrong for " + kind);
    }

    @Test
    void theKindsMapOneToOne() {
        assertThat(Arrays.stream(BackendException.Kind.values())
                .map(k -> Errors.toStatus(new BackendException(k, "x"), "Rpc").getCode()).distinct())
                .hasSize(BackendException.Kind.values().length).doesNotContain(Status.Code.UNKNOWN, Status.Code.OK);
    }

    @Test
    void aStatusExceptionPassesAsItIs() {
        Status s = Errors.toStatus(Status.RESOURCE_EXHAUSTED.withDescription("too big").asRuntimeException(), "Rpc");
        assertThat(s.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(s.getDescription()).isEqualTo("too big");
    }

    @Test
    void nothingUnexpectedIsUnknownOrCarriesAStackTrace() {
        Exception withTrace = new IllegalStateException("first\n\tat dev.berth.Foo.bar(Foo.java:1)");
        for (Throwable t : List.of(new NullPointerException(), new IllegalStateException(), withTrace,
                new UnsupportedOperationException("no"), new StackOverflowError(), new NoClassDefFoundError("a/B"),
                new RuntimeException(new IOException("inner")), new ClassCastException("x"))) {
            Status s = Errors.toStatus(t, "ExecSync");
            assertThat(s.getCode()).as(t.toString()).isEqualTo(Status.Code.INTERNAL);
            assertThat(s.getDescription()).as(t.toString()).startsWith("internal error in ExecSync: "
                    + t.getClass().getSimpleName()).doesNotContain("\n").doesNotContain("\tat ");
        }
    }

    @Test
    void requireAndMetadataSizeRefuseWithInvalidArgument() {
        assertThat(Errors.require("x", "pod id")).isEqualTo("x");
        for (Runnable r : List.<Runnable>of(() -> Errors.require("", "pod id"), () -> Errors.require(null, "pod id"),
                () -> Errors.checkMetadataSize(java.util.Map.of("k", "v".repeat(Errors.MAX_METADATA_BYTES)),
                        java.util.Map.of(), "pod"))) {
            try {
                r.run();
                throw new AssertionError("no refusal");
            } catch (BackendException e) {
                assertThat(Errors.toStatus(e, "Rpc").getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            }
        }
    }
}
