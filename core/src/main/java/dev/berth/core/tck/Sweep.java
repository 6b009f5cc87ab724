package dev.berth.core.tck;

import dev.berth.core.util.FileTrees;
import dev.berth.tck.Leftovers;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Removes a tck scratch directory whatever was left in it: processes naming it are killed, mounts detached. */
final class Sweep {
    private Sweep() {}

    static void sweep(Path dir, PrintStream out) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        for (String p : Leftovers.processesNaming(dir)) {
            long pid = Long.parseLong(p.substring(0, p.indexOf(' ')));
            ProcessHandle.of(pid).ifPresent(h -> {
                h.destroyForcibly();
                h.onExit().completeOnTimeout(h, 5, java.util.concurrent.TimeUnit.SECONDS).join();
            });
        }
        for (String m : Leftovers.mountsBelow(dir)) {
            run(List.of("umount", "-l", m));
        }
        try {
            FileTrees.deleteTree(dir);
        } catch (IOException e) {
            out.println("  warning: could not remove " + dir + " entirely: " + e.getMessage());
        }
    }

    /** Runs a short host command, ignoring its outcome. */
    static boolean run(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(Duration.ofSeconds(30).toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
