package dev.berth.core.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.config.BerthConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The CPU cost of metrics, apart from the host's noise (run by {@code COMPARE=metrics bench/pod-start/run.sh},
 * skipped otherwise): what one pod start records (three RPCs, the backend calls, the record writes, one CNI ADD), and
 * one scrape of a registry with the series of a busy node (three handlers, every CRI method, every backend
 * operation), served over HTTP.
 */
@EnabledIfSystemProperty(named = "berth.bench", matches = "true")
class MetricsBenchTest {
    private static final String[] METHODS = {"Version", "Status", "RunPodSandbox", "StopPodSandbox",
        "RemovePodSandbox", "PodSandboxStatus", "ListPodSandbox", "CreateContainer", "StartContainer",
        "StopContainer", "RemoveContainer", "ListContainers", "ContainerStatus", "ContainerStats",
        "ListContainerStats", "PodSandboxStats", "ListPodSandboxStats", "ExecSync", "Exec", "Attach", "PortForward",
        "PullImage", "ImageStatus", "ListImages", "RemoveImage", "ImageFsInfo", "ReopenContainerLog"};
    private static final String[] OPERATIONS = {"createSandbox", "startSandbox", "stopSandbox", "removeSandbox",
        "sandboxStatus", "createContainer", "startContainer", "stopContainer", "removeContainer", "containerStatus",
        "containerStats", "execSync", "health", "features"};

    @Test
    void costOfOnePodStartAndOfOneScrape() throws Exception {
        try (Metrics m = Metrics.fromConfig(new BerthConfig.Metrics("127.0.0.1:0"))) {
            var backend = m.backendObserver();
            int iterations = Integer.getInteger("berth.bench.iterations", 2_000_000);
            long perPod = 0;
            for (int run = 0; run < 3; run++) { // the first runs warm up the JIT; the last one counts
                long start = System.nanoTime();
                for (int i = 0; i < iterations; i++) {
                    m.rpc("RunPodSandbox", "v1", "runc", "runc", "OK", 90_000_000L);
                    m.rpc("CreateContainer", "v1", "runc", "runc", "OK", 120_000_000L);
                    m.rpc("StartContainer", "v1", "runc", "runc", "OK", 20_000_000L);
                    backend.call("runc", "runc", "createSandbox", null, 1_000_000L);
                    backend.call("runc", "runc", "startSandbox", null, 1_000_000L);
                    backend.call("runc", "runc", "sandboxStatus", null, 100_000L);
                    backend.call("runc", "runc", "createContainer", null, 60_000_000L);
                    backend.call("runc", "runc", "startContainer", null, 15_000_000L);
                    m.recordWrite("sandboxes", 2_000_000L);
                    m.recordWrite("sandboxes", 2_000_000L);
                    m.recordWrite("containers", 2_000_000L);
                    m.cni("add", "bench", false, 50_000_000L);
                }
                perPod = (System.nanoTime() - start) / iterations;
            }
            System.out.printf("METRICS recordings of one pod start (3 RPCs, 5 backend calls, 3 record writes, "
                    + "1 CNI ADD): %d ns%n", perPod);

            for (String h : new String[] {"runc", "crun", "kata"}) {
                for (String method : METHODS) {
                    m.rpc(method, "v1", h, h.equals("kata") ? "kata" : "runc", "OK", 1_000_000L);
                }
                for (String op : OPERATIONS) {
                    backend.call(h.equals("kata") ? "kata" : "runc", h, op, null, 1_000_000L);
                }
            }
            int port = m.listen();
            var req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build();
            try (HttpClient client = HttpClient.newHttpClient()) {
                int scrapes = Integer.getInteger("berth.bench.scrapes", 2_000);
                long bytes = 0;
                long perScrape = 0;
                for (int run = 0; run < 2; run++) {
                    long start = System.nanoTime();
                    for (int i = 0; i < scrapes; i++) {
                        var resp = client.send(req, HttpResponse.BodyHandlers.ofByteArray());
                        assertThat(resp.statusCode()).isEqualTo(200);
                        bytes = resp.body().length;
                    }
                    perScrape = (System.nanoTime() - start) / scrapes;
                }
                System.out.printf("METRICS one scrape over HTTP of %d bytes (3 handlers, %d methods, %d operations, "
                        + "JVM): %.2f ms%n", bytes, METHODS.length, OPERATIONS.length, perScrape / 1e6);
            }
        }
    }
}
