package dev.berth.hcs.fake;

import dev.berth.hcs.bind.RelayHandOver;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The hand-over of an init's pipes to its log relay over the fake of HCS: the fake's guest writes the process's
 * stdout and stderr into FIFOs, and its exit code into a third, and the relay, a real process, reads the three as
 * {@code file:} sources. The pipe handles leave the fake's table, as on Windows they leave berth's.
 */
public final class FakeRelayHandOver implements RelayHandOver {
    private final FakeHcs hcs;
    private final Path dir;
    private final AtomicInteger seq = new AtomicInteger();
    /** The next start fails (before any relay runs), as a relay that cannot be started. */
    public volatile boolean failNext;

    public FakeRelayHandOver(FakeHcs hcs, Path dir) {
        this.hcs = hcs;
        this.dir = dir;
    }

    @Override
    public ProcessHandle start(List<String> command, Path diagnostics, String systemId, int pid, long stdout,
                               long stderr) throws IOException {
        if (failNext) {
            failNext = false;
            hcs.closePipe(stdout);
            hcs.closePipe(stderr);
            throw new IOException("the relay's runtime cannot be started (scripted)");
        }
        Files.createDirectories(dir);
        String base = "p" + pid + "-" + seq.incrementAndGet();
        List<String> cmd = new ArrayList<>(command);
        cmd.addAll(List.of("--stdout", source(stdout, base + ".out"), "--stderr", source(stderr, base + ".err")));
        Path exit = dir.resolve(base + ".exit");
        hcs.exitToFifo(systemId, pid, exit);
        cmd.addAll(List.of("--exit", "file:" + exit));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(diagnostics.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        return p.toHandle();
    }

    private String source(long handle, String name) throws IOException {
        if (handle == 0) {
            return "none";
        }
        Path fifo = dir.resolve(name);
        hcs.pipeToFifo(handle, fifo);
        return "file:" + fifo;
    }
}
