package dev.berth.core.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pull benchmark, run by bench/image-pull/run.sh only (its name is outside the test run's pattern, so the suite
 * never reports it as skipped): a 5-layer image of about 50 MB from a
 * local docker-registry, cold (empty store) and warm (another image with the same layers already present).
 */
class PullBench {
    @TempDir
    Path tmp;

    @Test
    void pullColdAndWarm() throws Exception {
        int runs = Integer.getInteger("berth.bench.runs", 5);
        try (TestRegistry registry = TestRegistry.start(null)) {
            TestLayers.Pusher pusher = new TestLayers.Pusher(registry.url());
            Random rnd = new Random(42);
            List<byte[][]> layers = new ArrayList<>();
            long compressed = 0;
            for (int l = 0; l < 5; l++) {
                TestLayers.Layer layer = new TestLayers.Layer();
                for (int f = 0; f < 100; f++) {
                    byte[] data = new byte[100_000];
                    rnd.nextBytes(data);
                    layer.file("l" + l + "/d" + f / 10 + "/f" + f, data, 0644, 0, 0);
                }
                byte[][] pair = TestLayers.gz(layer);
                compressed += pair[0].length;
                layers.add(pair);
            }
            pusher.image("bench", "cold", false, "amd64", Map.of("Env", List.of("A=1")), layers);
            pusher.image("bench", "warm", false, "amd64", Map.of("Env", List.of("A=2")), layers);
            String ref = registry.hostPort() + "/bench";
            List<Long> cold = new ArrayList<>();
            List<Long> warm = new ArrayList<>();
            for (int i = 0; i < runs; i++) {
                Path root = tmp.resolve("run" + i);
                try (ImageService s = new ImageService(ImageSettings.defaults(root))) {
                    long t0 = System.nanoTime();
                    s.pull(ref + ":cold", null);
                    cold.add(System.nanoTime() - t0);
                    long t1 = System.nanoTime();
                    s.pull(ref + ":warm", null);
                    warm.add(System.nanoTime() - t1);
                    assertThat(s.list()).hasSize(2);
                }
                TestTrees.delete(root);
            }
            String report = String.format("""
                    image: 5 layers, %.1f MB compressed (gzip), %d runs, %d cores
                    berth cold pull: median %d ms (all: %s)
                    berth warm pull (layers shared): median %d ms (all: %s)
                    """, compressed / 1e6, runs, Runtime.getRuntime().availableProcessors(), median(cold),
                    ms(cold), median(warm), ms(warm));
            if (Files.isExecutable(Path.of("/usr/bin/containerd")) && Files.isExecutable(Path.of("/usr/bin/ctr"))) {
                List<Long> ccold = new ArrayList<>();
                List<Long> cwarm = new ArrayList<>();
                for (int i = 0; i < runs; i++) {
                    long[] t = containerd(tmp.resolve("ctrd" + i), ref);
                    ccold.add(t[0]);
                    cwarm.add(t[1]);
                }
                report += String.format("""
                        containerd cold pull (ctr images pull, includes ctr start-up): median %d ms (all: %s)
                        containerd warm pull (layers shared): median %d ms (all: %s)
                        berth / containerd, cold: %.2f
                        """, median(ccold), ms(ccold), median(cwarm), ms(cwarm),
                        (double) median(cold) / median(ccold));
            }
            System.out.print(report);
            Path out = Path.of(System.getProperty("berth.bench.out", "target/bench-image-pull.txt"));
            Files.writeString(out, report);
        }
    }

    /** Starts a private containerd (own root, state and socket), times ctr pulls of :cold then :warm. */
    private static long[] containerd(Path dir, String ref) throws Exception {
        Files.createDirectories(dir);
        Path sock = dir.resolve("c.sock");
        Files.writeString(dir.resolve("config.toml"), """
                version = 2
                root = "%s"
                state = "%s"
                disabled_plugins = ["io.containerd.grpc.v1.cri"]
                [grpc]
                  address = "%s"
                """.formatted(dir.resolve("root"), dir.resolve("state"), sock));
        Process d = new ProcessBuilder("/usr/bin/containerd", "--config", dir.resolve("config.toml").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("containerd.log").toFile()).start();
        try {
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (!Files.exists(sock)) {
                assertThat(d.isAlive()).as(Files.readString(dir.resolve("containerd.log"))).isTrue();
                assertThat(System.nanoTime()).isLessThan(deadline);
                Thread.sleep(20);
            }
            long[] out = new long[2];
            String[] tags = {":cold", ":warm"};
            for (int i = 0; i < 2; i++) {
                long t0 = System.nanoTime();
                Process p = new ProcessBuilder("/usr/bin/ctr", "--address", sock.toString(), "-n", "bench", "images",
                        "pull", "--plain-http", ref + tags[i]).redirectErrorStream(true)
                        .redirectOutput(dir.resolve("ctr.log").toFile()).start();
                assertThat(p.waitFor()).as(Files.readString(dir.resolve("ctr.log"))).isZero();
                out[i] = System.nanoTime() - t0;
            }
            return out;
        } finally {
            d.destroy();
            if (!d.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                d.destroyForcibly().waitFor();
            }
            new ProcessBuilder("/bin/sh", "-c", "grep -o ' " + dir + "[^ ]*' /proc/mounts | xargs -r umount")
                    .start().waitFor();
            TestTrees.delete(dir);
        }
    }

    private static long median(List<Long> nanos) {
        List<Long> sorted = nanos.stream().sorted().toList();
        return Duration.ofNanos(sorted.get(sorted.size() / 2)).toMillis();
    }

    private static String ms(List<Long> nanos) {
        return nanos.stream().map(n -> Long.toString(Duration.ofNanos(n).toMillis())).toList().toString();
    }
}
