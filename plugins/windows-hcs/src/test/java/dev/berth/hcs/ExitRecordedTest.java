package dev.berth.hcs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.spi.ContainerStatus;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** A stop that lost the race with the init's exit callback returns only once the exit is recorded. */
class ExitRecordedTest {
    private static Ctr ctr() {
        return new Ctr(new Ctr.CtrRecord("c", "p", "", Instant.EPOCH, Instant.EPOCH, 4, "", null));
    }

    @Test
    void aStopWaitsForTheExitTheCallbackIsRecording() throws Exception {
        Ctr c = ctr();
        c.state = ContainerStatus.State.RUNNING;
        c.exitSeen.set(true); // the callback won and is writing the exit file
        Thread callback = Thread.ofPlatform().start(() -> {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
            c.state = ContainerStatus.State.EXITED;
            c.exitRecorded.countDown();
        });
        HcsInit.awaitRecorded(c);
        assertThat(c.state).isEqualTo(ContainerStatus.State.EXITED);
        callback.join();
    }

    @Test
    void nothingIsAwaitedWithoutAnExitBeingRecorded() {
        Ctr running = ctr();
        running.state = ContainerStatus.State.RUNNING;
        HcsInit.awaitRecorded(running); // no exit seen: returns at once (else the test would take 10 s)
        assertThat(running.exitRecorded.getCount()).isEqualTo(1);
        Ctr exited = ctr();
        exited.exitSeen.set(true);
        exited.state = ContainerStatus.State.EXITED; // recovered from its exit file: no callback counts down
        HcsInit.awaitRecorded(exited);
        assertThat(exited.state).isEqualTo(ContainerStatus.State.EXITED);
    }
}
