package dev.berth.core.util;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class NonBlockingTest {
    @Test
    void beforeBlockingThrowsOnlyWithinCall() {
        NonBlocking.beforeBlocking(); // outside: nothing happens
        assertThat(NonBlocking.active()).isFalse();

        assertThat(NonBlocking.call(() -> NonBlocking.active() ? "inside" : "outside")).isEqualTo("inside");
        assertThatThrownBy(() -> NonBlocking.call(() -> {
            NonBlocking.beforeBlocking();
            return "never";
        })).isInstanceOf(NonBlocking.WouldBlock.class).hasNoCause();

        assertThat(NonBlocking.active()).isFalse(); // the scope ends with the call, thrown or not
        NonBlocking.beforeBlocking();
    }

    @Test
    void otherThreadsStartedWithinCallMayBlock() throws Exception {
        boolean[] active = new boolean[1];
        NonBlocking.call(() -> {
            Thread t = Thread.ofVirtual().start(() -> active[0] = NonBlocking.active());
            try {
                t.join();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            return null;
        });
        assertThat(active[0]).isFalse();
    }
}
