package dev.berth.core.cri;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.store.NameIndex;
import dev.berth.spi.BackendException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** Which retries get what an earlier creation made, and which get ALREADY_EXISTS. */
class AbandonedCreatesTest {
    private static final String NAME = "p_ns_u1_0";

    private final NameIndex names = new NameIndex();
    private final AbandonedCreates creates = new AbandonedCreates(names);

    @Test
    void aRetryOfACreationWhoseCallerGaveUpGetsItsIdOnce() {
        var a = creates.begin(NAME, "request");
        creates.made(a, "id1", true);
        assertThat(creates.earlier(NAME, "id1", "request", () -> false))
                .isEqualTo(new AbandonedCreates.HandedOver("id1"));
        assertThat(creates.earlier(NAME, "id1", "request", () -> false)).isInstanceOf(AbandonedCreates.InUse.class);
        assertThat(creates.size()).isZero();
    }

    @Test
    void reserveTakesAFreeNameRefusesAHeldOneAndHandsOverWhatAGoneCallerMade() {
        var first = creates.reserve(NAME, "id1", "request", new RpcContext(), "pod sandbox");
        assertThat(first).isInstanceOf(AbandonedCreates.Reserved.class);
        assertThatThrownBy(() -> creates.reserve(NAME, "id2", "other", new RpcContext(), "pod sandbox"))
                .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.kind())
                        .isEqualTo(BackendException.Kind.ALREADY_EXISTS))
                .hasMessage("pod sandbox name \"p_ns_u1_0\" is already used by pod sandbox \"id1\"");
        creates.made(((AbandonedCreates.Reserved) first).attempt(), "id1", true);
        assertThat(creates.reserve(NAME, "id3", "request", new RpcContext(), "pod sandbox"))
                .isEqualTo(new AbandonedCreates.HandedOver("id1"));
        assertThatThrownBy(() -> creates.reserve(NAME, "id4", "request", new RpcContext(), "pod sandbox"))
                .hasMessageContaining("is already used by pod sandbox \"id1\"");
    }

    @Test
    void aNameAFailedCreationReleasedIsReservedForTheRetry() throws Exception {
        var first = (AbandonedCreates.Reserved) creates.reserve(NAME, "id1", "request", new RpcContext(), "container");
        var retry = CompletableFuture.supplyAsync(() -> creates.reserve(NAME, "id2", "request", new RpcContext(),
                "container"));
        Thread.sleep(300);
        names.release(NAME); // the failed creation's undo
        creates.failed(first.attempt());
        assertThat(retry.get(5, TimeUnit.SECONDS)).isInstanceOf(AbandonedCreates.Reserved.class);
        assertThat(names.reserve(NAME, "id3")).isEqualTo("id2");
    }

    @Test
    void aCreationWhoseCallerGotItsAnswerIsNeverHandedToAnother() {
        var a = creates.begin(NAME, "request");
        creates.made(a, "id1", false);
        assertThat(creates.earlier(NAME, "id1", "request", () -> false)).isInstanceOf(AbandonedCreates.InUse.class);
        assertThat(creates.size()).isZero();
    }

    @Test
    void aDifferentRequestForTheNameGetsNothing() {
        var a = creates.begin(NAME, "request");
        creates.made(a, "id1", true);
        assertThat(creates.earlier(NAME, "id1", "another request", () -> false))
                .isInstanceOf(AbandonedCreates.InUse.class);
        assertThat(creates.earlier(NAME, "id1", "request", () -> false))
                .isEqualTo(new AbandonedCreates.HandedOver("id1"));
    }

    @Test
    void aNameNowHeldByAnotherObjectIsNotHandedOver() {
        var a = creates.begin(NAME, "request");
        creates.made(a, "id1", true);
        assertThat(creates.earlier(NAME, "id2", "request", () -> false)).isInstanceOf(AbandonedCreates.InUse.class);
    }

    @Test
    void aRetryWaitsForTheCreationStillRunningAndGetsItsId() throws Exception {
        var a = creates.begin(NAME, "request");
        var retry = CompletableFuture.supplyAsync(() -> creates.earlier(NAME, "id1", "request", () -> false));
        Thread.sleep(300);
        assertThat(retry).isNotDone();
        creates.made(a, "id1", true);
        assertThat(retry.get(5, TimeUnit.SECONDS)).isEqualTo(new AbandonedCreates.HandedOver("id1"));
    }

    @Test
    void aRetryOfACreationThatFailsMayReserveTheNameAgain() throws Exception {
        var a = creates.begin(NAME, "request");
        var retry = CompletableFuture.supplyAsync(() -> creates.earlier(NAME, "id1", "request", () -> false));
        Thread.sleep(300);
        creates.failed(a);
        assertThat(retry.get(5, TimeUnit.SECONDS)).isInstanceOf(AbandonedCreates.Failed.class);
        assertThat(creates.size()).isZero();
    }

    @Test
    void aRetryWhoseOwnCallerGivesUpStopsWaiting() throws Exception {
        creates.begin(NAME, "request");
        AtomicBoolean gone = new AtomicBoolean();
        var retry = CompletableFuture.supplyAsync(() -> creates.earlier(NAME, "id1", "request", gone::get));
        Thread.sleep(300);
        assertThat(retry).isNotDone();
        gone.set(true);
        assertThat(retry.get(5, TimeUnit.SECONDS)).isInstanceOf(AbandonedCreates.InUse.class);
    }

    @Test
    void whatNobodyAsksForAgainIsDroppedAfterTheKeepingTime() {
        MutableClock clock = new MutableClock(Instant.parse("2026-12-07T10:00:00Z"));
        AbandonedCreates kept = new AbandonedCreates(new NameIndex(), clock);
        kept.made(kept.begin(NAME, "request"), "id1", true);
        clock.now = clock.now.plus(AbandonedCreates.KEEP).plusSeconds(1);
        kept.begin("other_ns_u2_0", "other request");
        assertThat(kept.size()).isEqualTo(1);
        assertThat(kept.earlier(NAME, "id1", "request", () -> false)).isInstanceOf(AbandonedCreates.InUse.class);
    }

    private static final class MutableClock extends Clock {
        Instant now;

        MutableClock(Instant now) {
            this.now = now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
