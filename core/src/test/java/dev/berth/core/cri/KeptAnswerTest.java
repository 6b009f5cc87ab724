package dev.berth.core.cri;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class KeptAnswerTest {
    private final AtomicLong version = new AtomicLong();
    private final AtomicInteger builds = new AtomicInteger();
    private final KeptAnswer<String> kept = new KeptAnswer<>(version::get);

    private KeptAnswer.Built<String> build(boolean keepable) {
        return new KeptAnswer.Built<>("answer " + builds.incrementAndGet() + " at " + version.get(), keepable);
    }

    @Test
    void anAnswerIsGivenAgainWhileTheVersionStays() {
        assertThat(kept.get(() -> build(true))).isEqualTo("answer 1 at 0");
        assertThat(kept.get(() -> build(true))).isEqualTo("answer 1 at 0");
        assertThat(builds).hasValue(1);

        version.incrementAndGet();
        assertThat(kept.get(() -> build(true))).isEqualTo("answer 2 at 1");
        assertThat(kept.get(() -> build(true))).isEqualTo("answer 2 at 1");
        assertThat(builds).hasValue(2);
    }

    @Test
    void anAnswerBuiltFromWhatNoVersionCoversIsNotKept() {
        kept.get(() -> build(false));
        kept.get(() -> build(false));
        assertThat(builds).hasValue(2);
    }

    @Test
    void anAnswerBuiltWhileTheVersionMovedIsNotKept() {
        String raced = kept.get(() -> {
            var b = build(true);
            version.incrementAndGet(); // a change while the answer was being built
            return b;
        });
        assertThat(raced).isEqualTo("answer 1 at 0");
        assertThat(kept.get(() -> build(true))).isEqualTo("answer 2 at 1");
        assertThat(kept.get(() -> build(true))).isEqualTo("answer 2 at 1");
        assertThat(builds).hasValue(2);
    }
}
