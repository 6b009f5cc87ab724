package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The backend's records after a SIGKILL in the middle of a write. */
class StateStoreTest {
    @TempDir
    Path dir;

    @Test
    void tempFilesOfAKilledBerthAreDeletedAndThisProcessesAreKept() throws Exception {
        String id = "b".repeat(64);
        Path sandboxes = Files.createDirectories(dir.resolve("sandboxes"));
        Path containers = Files.createDirectories(dir.resolve("containers"));
        Path stale = Files.writeString(sandboxes.resolve("." + id + ".json.tmp-1"), "{half");
        Path old = Files.writeString(containers.resolve("." + id + ".json.tmp"), "{half");
        Path mine = Files.writeString(containers.resolve("." + id + ".json.tmp-" + ProcessHandle.current().pid()),
                "{");
        StateStore store = new StateStore(dir);
        assertThat(stale).doesNotExist();
        assertThat(old).doesNotExist();
        assertThat(mine).exists();
        assertThat(store.sandboxIds()).isEmpty();
        assertThat(store.containerIds()).isEmpty();
    }
}
