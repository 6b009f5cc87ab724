package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The backend's records after a SIGKILL in the middle of a write, and the times they keep as text. */
class StateStoreTest {
    @TempDir
    Path dir;

    @Test
    void tempFilesOfAKilledBerthAreDeletedAndThisProcessesAreKept() throws Exception {
        String id = "b".repeat(64);
        Path sandboxes = Files.createDirectories(dir.resolve("sandboxes"));
        Path containers = Files.createDirectories(dir.resolve("containers"));
        Path stale = Files.writeString(sandboxes.resolve("." + id + ".json.tmp-1-3"), "{half");
        Path olderStale = Files.writeString(sandboxes.resolve("." + id + ".json.tmp-1"), "{half");
        Path old = Files.writeString(containers.resolve("." + id + ".json.tmp"), "{half");
        Path mine = Files.writeString(containers.resolve("." + id + ".json.tmp-" + ProcessHandle.current().pid()
                + "-1"), "{");
        StateStore store = new StateStore(dir);
        assertThat(stale).doesNotExist();
        assertThat(olderStale).doesNotExist();
        assertThat(old).doesNotExist();
        assertThat(mine).exists();
        assertThat(store.sandboxIds()).isEmpty();
        assertThat(store.containerIds()).isEmpty();
    }

    @Test
    void timesAreParsedOnceAndStillExact() {
        String text = "2026-12-04T03:10:11.123456789Z";
        java.time.Instant first = StateStore.time(text);
        assertThat(first).isEqualTo(java.time.Instant.parse(text));
        assertThat(StateStore.time(text)).isSameAs(first);
        assertThat(StateStore.time("2026-12-04T03:10:12Z")).isEqualTo(java.time.Instant.parse("2026-12-04T03:10:12Z"));
        assertThat(StateStore.time("")).isNull();
        assertThat(StateStore.time(null)).isNull();
    }
}
