package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The berth-logjoin program as built, fed through its FIFO the records conmon writes. */
class LogJoinerTest {
    static final String T1 = "2026-11-23T18:01:47.568822159+00:00 ";
    static final String T2 = "2026-11-23T18:01:47.568973985+00:00 ";
    Path dir;
    Path log;
    Path program;

    @BeforeEach
    void setUp() throws IOException {
        program = LogJoiner.bundled().orElseThrow(() -> new AssertionError("the build makes target/bin/berth-logjoin"));
        dir = Files.createTempDirectory("logjoin");
        log = dir.resolve("logs").resolve("0.log");
        Files.createDirectories(log.getParent());
    }

    @AfterEach
    void tearDown() throws IOException {
        LogJoiner.kill(dir);
        Host.deleteTree(dir);
    }

    /** Starts the joiner and opens its FIFO as conmon does. */
    FileChannel start() throws IOException {
        Path fifo = LogJoiner.start(program, dir, log.toString());
        assertThat(LogJoiner.running(dir)).as("detached copy running").isPresent();
        return FileChannel.open(fifo, StandardOpenOption.WRITE);
    }

    static void write(FileChannel conmon, String records) throws IOException {
        conmon.write(ByteBuffer.wrap(records.getBytes(StandardCharsets.UTF_8)));
    }

    List<String> lines() throws IOException {
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }

    static void await(BooleanSupplier cond, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(5);
        }
    }

    @Test
    void joinsTheSplitLineOfEachStreamAndPassesTheRestOn() throws Exception {
        try (FileChannel conmon = start()) {
            // httpd's banner as conmon recorded it after reading between write()s, a stdout line in between.
            write(conmon, T1 + "stderr P Command line: 'httpd\n");
            write(conmon, T1 + "stdout F other\n" + T2 + "stderr P  -D\n");
            write(conmon, T2 + "stderr F  FOREGROUND'\n" + T2 + "stdout F \n" + "not a record\n");
        }
        assertThat(LogJoiner.awaitDone(dir, java.time.Duration.ofSeconds(10))).isTrue();
        assertThat(lines()).containsExactly(
                T1 + "stdout F other",
                T1 + "stderr F Command line: 'httpd -D FOREGROUND'",
                T2 + "stdout F ",
                "not a record");
        assertThat(dir.resolve(LogJoiner.PID_FILE)).as("removed when everything is written").doesNotExist();
    }

    @Test
    void aPartialLineThatStaysPartialIsWrittenSoonAsPartial() throws Exception {
        try (FileChannel conmon = start()) {
            write(conmon, T1 + "stdout P prompt> \n");
            await(() -> {
                try {
                    return !lines().isEmpty();
                } catch (IOException e) {
                    return false;
                }
            }, "the held prompt");
            assertThat(lines()).containsExactly(T1 + "stdout P prompt> ");
            assertThat(LogJoiner.running(dir)).as("still serving conmon").isPresent();
            write(conmon, T2 + "stdout F yes\n");
        }
        assertThat(LogJoiner.awaitDone(dir, java.time.Duration.ofSeconds(10))).isTrue();
        assertThat(lines()).containsExactly(T1 + "stdout P prompt> ", T2 + "stdout F yes");
    }

    @Test
    void joinedRecordsStopAt16KiBAsPartialRecords() throws Exception {
        String chunk = "x".repeat(8192);
        try (FileChannel conmon = start()) {
            // conmon reads 8 KiB at a time: a 20 KiB line comes as P, P, F.
            write(conmon, T1 + "stdout P " + chunk + "\n" + T1 + "stdout P " + chunk + "\n" + T2 + "stdout F abc\n");
        }
        assertThat(LogJoiner.awaitDone(dir, java.time.Duration.ofSeconds(10))).isTrue();
        assertThat(lines()).containsExactly(T1 + "stdout P " + chunk + chunk, T2 + "stdout F abc");
    }

    @Test
    void aFloodOfRecordsPassesUnchangedAndInOrder() throws Exception {
        StringBuilder all = new StringBuilder();
        try (FileChannel conmon = start()) {
            // Many short records per read, records cut between reads, and more than one output buffer's worth.
            for (int i = 0; i < 50_000; i++) {
                all.append(i % 2 == 0 ? T1 : T2).append(i % 3 == 0 ? "stderr" : "stdout").append(" F line ")
                        .append(i).append('\n');
            }
            byte[] bytes = all.toString().getBytes(StandardCharsets.UTF_8);
            for (int off = 0; off < bytes.length; off += 7919) {
                conmon.write(ByteBuffer.wrap(bytes, off, Math.min(7919, bytes.length - off)));
            }
        }
        assertThat(LogJoiner.awaitDone(dir, java.time.Duration.ofSeconds(30))).isTrue();
        assertThat(Files.readString(log)).isEqualTo(all.toString());
    }

    @Test
    void sighupReopensTheLogAfterItWasRenamed() throws Exception {
        try (FileChannel conmon = start()) {
            write(conmon, T1 + "stdout F first\n");
            await(() -> Files.exists(log) && RuncBackendTest.sizeOf(log) > 0, "the first line");
            Path rotated = log.resolveSibling("0.log.1");
            Files.move(log, rotated);
            assertThat(LogJoiner.reopen(dir)).isTrue();
            await(() -> Files.exists(log), "the new file");
            write(conmon, T2 + "stdout F second\n");
            await(() -> RuncBackendTest.sizeOf(log) > 0, "the second line");
            assertThat(Files.readAllLines(rotated)).containsExactly(T1 + "stdout F first");
            assertThat(lines()).containsExactly(T2 + "stdout F second");
        }
    }

    @Test
    void refusesWhatItCannotOpenAndLeavesNothingRunning() throws IOException {
        Path missing = dir.resolve("no/such/dir/0.log");
        assertThatThrownBy(() -> LogJoiner.start(program, dir, missing.toString()))
                .isInstanceOf(IOException.class).hasMessageContaining("cannot open").hasMessageContaining(missing.toString());
        assertThat(LogJoiner.running(dir)).isEmpty();
        assertThat(dir.resolve(LogJoiner.PID_FILE)).doesNotExist();
    }
}
