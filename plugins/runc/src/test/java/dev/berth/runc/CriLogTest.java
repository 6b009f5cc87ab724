package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CriLogTest {
    @Test
    void parsesConmonsOffsetTimestampsAndZulu() {
        CriLog.Line a = CriLog.parse("2026-11-23T06:15:34.676717176+00:00 stdout F hi there");
        assertThat(a.stream()).isEqualTo("stdout");
        assertThat(a.partial()).isFalse();
        assertThat(a.message()).isEqualTo("hi there");
        assertThat(a.time().getNano()).isEqualTo(676717176);
        assertThat(CriLog.parse("2026-11-23T06:15:34.1Z stderr P x").partial()).isTrue();
    }

    @Test
    void splitJoinsPartialLinesAndSeparatesStreams() {
        String log = "2026-11-23T06:15:34.1+00:00 stdout P abc\n"
                + "2026-11-23T06:15:34.2+00:00 stderr F oops\n"
                + "2026-11-23T06:15:34.3+00:00 stdout F def\n"
                + "2026-11-23T06:15:34.4+00:00 stdout F \n";
        byte[][] out = CriLog.split(log.getBytes(StandardCharsets.UTF_8));
        assertThat(new String(out[0], StandardCharsets.UTF_8)).isEqualTo("abcdef\n\n");
        assertThat(new String(out[1], StandardCharsets.UTF_8)).isEqualTo("oops\n");
    }
}
