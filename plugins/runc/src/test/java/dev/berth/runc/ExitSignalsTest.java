package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ExitSignalsTest {
    @Test
    void aSignalWakesAWaiterLongBeforeItsPollInterval() throws Exception {
        ExitSignals signals = new ExitSignals();
        long seen = signals.generation();
        CompletableFuture<Boolean> woke = new CompletableFuture<>();
        Thread waiter = Thread.ofVirtual().start(() -> {
            try {
                woke.complete(signals.await(seen, TimeUnit.HOURS.toMillis(1)));
            } catch (InterruptedException e) {
                woke.completeExceptionally(e);
            }
        });
        signals.signal();
        // Without the wake-up the waiter would sleep its hour; the future would not complete within the minute.
        assertThat(woke.get(1, TimeUnit.MINUTES)).isTrue();
        waiter.join();
        assertThat(signals.generation()).isEqualTo(seen + 1);
    }

    @Test
    void aSignalBeforeTheWaitIsNotMissedAndNoSignalMeansThePollRuns() throws Exception {
        ExitSignals signals = new ExitSignals();
        long seen = signals.generation();
        signals.signal(); // the exit file appeared between the waiter's look and its wait
        assertThat(signals.await(seen, TimeUnit.HOURS.toMillis(1))).isTrue();
        assertThat(signals.await(signals.generation(), 1)).isFalse();
        assertThat(signals.await(signals.generation(), 0)).isFalse();
    }
}
