package dev.berth.oci;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ProcessesTest {
    @Test
    void aRunningProcessIsLiveUnderItsOwnNameOnly() throws Exception {
        long self = ProcessHandle.current().pid();
        String comm = Files.readString(Path.of("/proc/self/comm")).strip();
        assertThat(Processes.live(self)).isTrue();
        assertThat(Processes.live(self, comm)).isTrue();
        assertThat(Processes.live(self, comm + "-not")).isFalse();
        assertThat(Processes.live(0)).isFalse();
        assertThat(Processes.live(-1, comm)).isFalse();
    }

    @Test
    void aChildIsGoneOnceItHasExited() throws Exception {
        Process p = new ProcessBuilder("sleep", "30").start();
        assertThat(Processes.live(p.pid(), "sleep")).isTrue();
        p.destroy();
        assertThat(Processes.awaitExit(p.pid(), Duration.ofSeconds(30))).isTrue();
        p.waitFor();
    }

    @Test
    void awaitPollsUntilTheConditionHoldsOrTimeRunsOut() {
        AtomicInteger calls = new AtomicInteger();
        assertThat(Processes.await(() -> calls.incrementAndGet() >= 3, Duration.ofSeconds(30), Duration.ofMillis(1)))
                .isTrue();
        assertThat(calls).hasValue(3);
        assertThat(Processes.await(() -> false, Duration.ofMillis(20), Duration.ofMillis(5))).isFalse();
        Thread.currentThread().interrupt();
        assertThat(Processes.await(() -> calls.incrementAndGet() > 10, Duration.ofSeconds(30), Duration.ofSeconds(1)))
                .as("an interrupt ends the wait with one last look").isFalse();
        assertThat(Thread.interrupted()).as("the interrupt flag stays set").isTrue();
    }
}
