package dev.berth.core.cri;

import static org.assertj.core.api.Assertions.assertThat;

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

    private final AbandonedCreates creates = new AbandonedCreates();

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
        AbandonedCreates kept = new AbandonedCreates(clock);
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
