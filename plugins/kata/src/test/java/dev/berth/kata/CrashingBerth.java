package dev.berth.kata;

import dev.berth.spi.ContainerSpec;
import dev.berth.spi.ImageConfig;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.testing.TestingBackendContext;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A stand-in for a berth daemon in its own JVM: creates one pod with one logging container, prints
 * {@code READY}, then waits to be killed with SIGKILL by {@link KataShimIntegrationTest}.
 * Arguments: base dir, busybox rootfs, sandbox id, container id, log path.
 */
public final class CrashingBerth {
    private CrashingBerth() {}

    public static void main(String[] args) throws Exception {
        Path base = Path.of(args[0]);
        Path busybox = Path.of(args[1]);
        var context = new TestingBackendContext("shimv2-runc", base);
        RuntimeBackend b = new KataBackendFactory().create("shimv2-runc", Map.of("shim", ShimHost.RUNC_SHIM), context);
        b.createSandbox(ShimHost.sandbox(args[2], busybox));
        b.startSandbox(args[2]);
        // It ticks, and echoes what comes on its stdin (kept open: stdin, not stdin_once) until stdin ends.
        ImageConfig image = new ImageConfig("sha256:busybox", "busybox", List.of(), List.of("sh", "-c",
                "(while true; do echo tick; sleep 0.2; done) & while read l; do echo got:$l; done; echo EOF-SEEN; wait"),
                List.of(), "", "", 0, 0, List.of(), "", Map.of());
        b.createContainer(new ContainerSpec(args[3], args[2], "ticker", 0, image, List.of(), List.of(), "", List.of(),
                List.of(), List.of(), Map.of(), Map.of(), args[4], true, false, false, null, null,
                ShimHost.rootfsOf(busybox), null));
        b.startContainer(args[3]);
        System.out.println("READY");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
