package dev.berth.hcs.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CriLogWriterTest {
    @TempDir
    Path dir;
    private final Clock clock = Clock.fixed(Instant.parse("2026-03-01T10:00:00.123456789Z"), ZoneOffset.UTC);

    @Test
    void linesBecomeCriRecordsAndAnUnfinishedLineAPartialOne() throws Exception {
        Path log = dir.resolve("pods/app/0.log");
        try (CriLogWriter w = new CriLogWriter(log, clock)) {
            w.copy(new ByteArrayInputStream("hello\r\nworld\nno newline".getBytes(StandardCharsets.UTF_8)), "stdout");
            w.copy(new ByteArrayInputStream("oops\n".getBytes(StandardCharsets.UTF_8)), "stderr");
        }
        assertThat(Files.readString(log)).isEqualTo(
                "2026-03-01T10:00:00.123456789Z stdout F hello\r\n"
                + "2026-03-01T10:00:00.123456789Z stdout F world\n"
                + "2026-03-01T10:00:00.123456789Z stdout P no newline\n"
                + "2026-03-01T10:00:00.123456789Z stderr F oops\n");
    }

    @Test
    void aLongLineIsCutIntoPartialRecords() throws Exception {
        Path log = dir.resolve("0.log");
        try (CriLogWriter w = new CriLogWriter(log, clock)) {
            w.copy(new ByteArrayInputStream(("x".repeat(CriLogWriter.MAX_LINE + 5) + "\n")
                    .getBytes(StandardCharsets.UTF_8)), "stdout");
        }
        List<String> lines = Files.readAllLines(log);
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).contains(" stdout P ").endsWith("x".repeat(100));
        assertThat(lines.get(1)).endsWith(" stdout F xxxxx");
    }

    @Test
    void reopenWritesLaterRecordsToTheNewFile() throws Exception {
        Path log = dir.resolve("0.log");
        try (CriLogWriter w = new CriLogWriter(log, clock)) {
            w.copy(new ByteArrayInputStream("one\n".getBytes(StandardCharsets.UTF_8)), "stdout");
            Files.move(log, dir.resolve("0.log.1"));
            w.reopen();
            w.copy(new ByteArrayInputStream("two\n".getBytes(StandardCharsets.UTF_8)), "stdout");
        }
        assertThat(Files.readString(dir.resolve("0.log.1"))).contains("stdout F one").doesNotContain("two");
        assertThat(Files.readString(log)).contains("stdout F two").doesNotContain("one");
    }

    @Test
    void exitFilesRoundTrip() throws Exception {
        Path f = dir.resolve("c.exit");
        ExitFile.write(f, new ExitFile.Exit(3, Instant.parse("2026-03-01T10:00:01Z")));
        assertThat(ExitFile.read(f)).contains(new ExitFile.Exit(3, Instant.parse("2026-03-01T10:00:01Z")));
        assertThat(ExitFile.read(dir.resolve("missing.exit"))).isEmpty();
    }
}
