package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.oci.ProcessRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The kept {@code --version} answer: a real program (a shell script that counts its runs in a file) stands for the
 * runtime, and the clock is the test's, so that "five minutes later" needs no waiting.
 */
class RuntimeVersionTest {
    @TempDir
    Path dir;
    private Path runtime;
    private Path runs;
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private RuntimeVersion versions;

    @BeforeEach
    void setUp() throws Exception {
        runs = dir.resolve("runs");
        runtime = dir.resolve("fake-runtime");
        script("echo fake-runtime version 1.0");
        versions = new RuntimeVersion(RuntimeVersion::run, clock::get);
    }

    private void script(String body) throws Exception {
        Files.writeString(runtime, "#!/bin/sh\necho run >> " + runs + "\n" + body + "\n");
        Files.setPosixFilePermissions(runtime, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private long runCount() throws Exception {
        return Files.exists(runs) ? Files.readAllLines(runs).size() : 0;
    }

    @Test
    void anUnchangedRuntimeIsRunOnce() throws Exception {
        ProcessRunner.Result first = versions.of(runtime);
        ProcessRunner.Result second = versions.of(runtime);
        assertThat(first.ok()).isTrue();
        assertThat(second.stdout()).isEqualTo(first.stdout()).contains("version 1.0");
        assertThat(runCount()).isEqualTo(1);
    }

    @Test
    void aReplacedRuntimeIsRunAgain() throws Exception {
        versions.of(runtime);
        Path next = dir.resolve("next");
        Files.writeString(next, "#!/bin/sh\necho run >> " + runs + "\necho fake-runtime version 2.0\n");
        Files.setPosixFilePermissions(next, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.move(next, runtime, java.nio.file.StandardCopyOption.REPLACE_EXISTING); // an upgrade: a new inode
        assertThat(versions.of(runtime).stdout()).contains("version 2.0");
        assertThat(runCount()).isEqualTo(2);
    }

    @Test
    void aRuntimeRewrittenInPlaceIsRunAgain() throws Exception {
        versions.of(runtime);
        script("echo fake-runtime version 1.1");
        Files.setLastModifiedTime(runtime, FileTime.from(Instant.now().plusSeconds(60)));
        assertThat(versions.of(runtime).stdout()).contains("version 1.1");
        assertThat(runCount()).isEqualTo(2);
    }

    @Test
    void aFailedAnswerIsNotKept() throws Exception {
        script("echo broken >&2; exit 1");
        assertThat(versions.of(runtime).ok()).isFalse();
        assertThat(versions.of(runtime).ok()).isFalse();
        assertThat(runCount()).isEqualTo(2);
    }

    @Test
    void aRemovedRuntimeFails() throws Exception {
        assertThat(versions.of(runtime).ok()).isTrue();
        Files.delete(runtime);
        assertThat(versions.of(runtime).ok()).isFalse();
    }

    @Test
    void aKeptAnswerIsCheckedAgainOnceItIsOld() throws Exception {
        versions.of(runtime);
        clock.addAndGet(RuntimeVersion.MAX_AGE.toNanos() - 1);
        versions.of(runtime);
        assertThat(runCount()).isEqualTo(1);
        clock.addAndGet(2);
        versions.of(runtime);
        assertThat(runCount()).isEqualTo(2);
    }
}
