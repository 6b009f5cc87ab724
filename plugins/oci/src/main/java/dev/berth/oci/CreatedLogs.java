package dev.berth.oci;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * A container's CRI log in a create's rollback: a log the failed create made goes with it (the kubelet retries with
 * the same path), one that was there before (an earlier attempt's) stays.
 */
public final class CreatedLogs {
    private CreatedLogs() {}

    /**
     * Called before the create opens the log: the step that deletes it, or null when {@code logPath} is empty or
     * names something that exists already.
     */
    public static Runnable removalIfNew(String logPath) {
        if (logPath.isEmpty()) {
            return null;
        }
        Path log = Path.of(logPath);
        if (Files.exists(log, LinkOption.NOFOLLOW_LINKS)) {
            return null;
        }
        return () -> {
            try {
                Files.deleteIfExists(log);
            } catch (IOException e) {
                // best effort: the rollback goes on
            }
        };
    }
}
