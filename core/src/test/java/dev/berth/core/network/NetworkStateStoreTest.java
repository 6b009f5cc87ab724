package dev.berth.core.network;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The network state store after a SIGKILL in the middle of a write (found by test/soak/kill9.sh). */
class NetworkStateStoreTest {
    @TempDir
    Path dir;

    @Test
    void aTempFileAKilledBerthLeftIsDeletedAndOneOfThisProcessIsKept() throws Exception {
        String id = "a".repeat(64);
        Path stale = Files.writeString(dir.resolve("." + id + ".json.tmp-1"), "{half");
        Path old = Files.writeString(dir.resolve("." + id + ".json.tmp"), "{half"); // as older versions named it
        Path mine = Files.writeString(dir.resolve("." + id + ".json.tmp-" + ProcessHandle.current().pid()), "{");
        NetworkStateStore store = new NetworkStateStore(dir);
        assertThat(stale).doesNotExist();
        assertThat(mine).exists();
        assertThat(store.ids()).isEmpty();
        assertThat(old).doesNotExist();
    }
}
