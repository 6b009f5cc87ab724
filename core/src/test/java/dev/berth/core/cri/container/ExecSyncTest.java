package dev.berth.core.cri.container;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What of a command's output an ExecSync answer keeps (the CRI round trip is in CriServiceTest). */
class ExecSyncTest {
    @Test
    void outputThatFitsIsKeptWhole() {
        assertThat(ExecSync.kept(10, 20, 100)).isEqualTo(new ExecSync.Kept(10, 20));
        assertThat(ExecSync.kept(60, 40, 100)).isEqualTo(new ExecSync.Kept(60, 40));
    }

    @Test
    void aShortStreamIsKeptWholeBesideALongOne() {
        assertThat(ExecSync.kept(1000, 30, 100)).isEqualTo(new ExecSync.Kept(70, 30));
        assertThat(ExecSync.kept(30, 1000, 100)).isEqualTo(new ExecSync.Kept(30, 70));
        assertThat(ExecSync.kept(101, 0, 100)).isEqualTo(new ExecSync.Kept(100, 0));
    }

    @Test
    void twoLongStreamsAreCutToHalfEach() {
        assertThat(ExecSync.kept(80, 70, 100)).isEqualTo(new ExecSync.Kept(50, 50));
        assertThat(ExecSync.kept(Integer.MAX_VALUE, Integer.MAX_VALUE, 101)).isEqualTo(new ExecSync.Kept(50, 51));
    }

    @Test
    void theRoomLeavesSpaceForTheAnswersOwnFields() {
        // A message of 16 MiB the kubelet still takes: the output, two tags with 4-byte lengths, a 5-byte exit code.
        assertThat(ExecSync.OUTPUT_ROOM + 2 * 5 + 6).isLessThanOrEqualTo(16 << 20);
    }
}
