package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Whether a stop signal to a container's first process is dropped because it does not catch it yet. */
class LateHandlersTest {
    static List<String> status(String nspid, String caught, String ignored) {
        return List.of("Name:\ttop", "NSpid:\t" + nspid, "SigBlk:\t0000000000000000", "SigIgn:\t" + ignored,
                "SigCgt:\t" + caught);
    }

    @Test
    void signalNamesAndNumbers() {
        assertThat(LateHandlers.number("SIGTERM")).isEqualTo(15);
        assertThat(LateHandlers.number("TERM")).isEqualTo(15);
        assertThat(LateHandlers.number("sigquit")).isEqualTo(3);
        assertThat(LateHandlers.number("15")).isEqualTo(15);
        assertThat(LateHandlers.number("")).isEqualTo(15);
        assertThat(LateHandlers.number("SIGRTMIN+3")).isZero();
    }

    @Test
    void anInitThatDoesNotCatchTheSignalYetWouldDropIt() {
        assertThat(LateHandlers.dropped(status("4321\t1", "0000000000000000", "0000000000000000"), 15)).isTrue();
    }

    @Test
    void anInitThatCatchesOrIgnoresItDoesNotDropIt() {
        // SIGTERM is bit 14 (0x4000)
        assertThat(LateHandlers.dropped(status("4321\t1", "0000000000004000", "0000000000000000"), 15)).isFalse();
        assertThat(LateHandlers.dropped(status("4321\t1", "0000000000000000", "0000000000004000"), 15)).isFalse();
        // another signal caught does not count
        assertThat(LateHandlers.dropped(status("4321\t1", "0000000000000004", "0000000000000000"), 15)).isTrue();
    }

    @Test
    void aProcessThatIsNoNamespaceInitGetsTheDefaultActionAndSIGKILLIsNeverDropped() {
        assertThat(LateHandlers.dropped(status("4321\t7", "0000000000000000", "0000000000000000"), 15)).isFalse();
        assertThat(LateHandlers.dropped(status("4321", "0000000000000000", "0000000000000000"), 15)).isFalse();
        assertThat(LateHandlers.dropped(status("4321\t1", "0000000000000000", "0000000000000000"), 9)).isFalse();
        assertThat(LateHandlers.dropped(status("4321\t1", "0000000000000000", "0000000000000000"), 0)).isFalse();
    }
}
