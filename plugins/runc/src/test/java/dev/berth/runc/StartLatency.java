package dev.berth.runc;

import dev.berth.spi.ContainerSecurity;
import dev.berth.spi.PodSecurity;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.testing.TestingBackendContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * A rough measurement, not a test: pod + container start latency (create and start of the sandbox, then of a
 * busybox container) and the RSS of the conmon processes per pod. Arguments: runtime binary, iterations.
 */
public final class StartLatency {
    private StartLatency() {}

    public static void main(String[] args) throws Exception {
        String binary = args.length > 0 ? args[0] : "runc";
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        Path base = Host.tempDir();
        Path rootfs = Host.busyboxRootfs(base.resolve("rootfs"));
        RuntimeBackend backend = new RuncBackendFactory().create(binary, Map.of("binary", binary),
                new TestingBackendContext(binary, base.resolve("ctx")));
        List<Double> millis = new ArrayList<>();
        List<Long> rssKb = new ArrayList<>();
        try {
            for (int i = 0; i < n + 1; i++) {
                String sb = RuncBackendTest.newId();
                String ct = RuncBackendTest.newId();
                long t0 = System.nanoTime();
                backend.createSandbox(Host.sandbox(sb, rootfs, PodSecurity.DEFAULT));
                backend.startSandbox(sb);
                backend.createContainer(Host.container(ct, sb, rootfs, List.of("sleep", "3600"), null, null,
                        ContainerSecurity.DEFAULT));
                backend.startContainer(ct);
                long t1 = System.nanoTime();
                long rss = 0;
                for (String id : List.of(sb, ct)) {
                    long pid = Long.parseLong(Files.readString(base.resolve("ctx/state/b").resolve(id)
                            .resolve("conmon.pid")).strip());
                    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                        if (line.startsWith("VmRSS:")) {
                            rss += Long.parseLong(line.replaceAll("[^0-9]", ""));
                        }
                    }
                }
                if (i > 0) { // the first round warms up the JVM
                    millis.add((t1 - t0) / 1e6);
                    rssKb.add(rss);
                }
                backend.removeSandbox(sb);
            }
        } finally {
            backend.close();
            Host.deleteTree(base);
        }
        Collections.sort(millis);
        Collections.sort(rssKb);
        System.out.printf("%s: pod+container start median %.1f ms (min %.1f, max %.1f) over %d; conmon RSS per pod "
                + "(pause + container) median %d kB%n", binary, millis.get(millis.size() / 2), millis.getFirst(),
                millis.getLast(), millis.size(), rssKb.get(rssKb.size() / 2));
    }
}
