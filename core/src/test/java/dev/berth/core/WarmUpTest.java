package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.metrics.MetricsScrape;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.VersionRequest;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A daemon's calls to itself after its start ({@code warm_up_rounds}): made over its own socket, and left out of the
 * RPC metrics; a client that sends the warm-up's header without its token is counted like any other.
 */
class WarmUpTest {
    @TempDir
    Path dir;

    @Test
    void theWarmUpCallsTheDaemonOverItsSocketAndCountsNowhere() throws Exception {
        var loaded = FakeDaemons.config(dir, "warm_up_rounds = 30\n[metrics]\naddress = \"127.0.0.1:0\"\n"
                + "[legacy]\ncontainerd_api_socket = \"" + dir.resolve("containerd.sock") + "\"");
        Daemon daemon = FakeDaemons.create(loaded);
        Path socket = dir.resolve("berth.sock");
        ManagedChannel channel = null;
        try {
            daemon.warmUp(loaded.config().warmUpRounds()).serveUnix(socket);
            daemon.serveLegacy(); // the containerd 0.2 API's socket: no second warm-up, and none against it
            // Each round: Version, Status, ListPodSandbox, ListContainers, and the status of a pod and a container
            // that do not exist (NOT_FOUND). This daemon has no image service: ListImages answers UNIMPLEMENTED in
            // the first round and is not asked again, and with no image there is no ImageStatus.
            int calls = daemon.warmUpFinished().toCompletableFuture().get(60, TimeUnit.SECONDS);
            assertThat(calls).isEqualTo(30 * 6 + 1);
            int port = daemon.metrics().listen();
            assertThat(MetricsScrape.lines(scrape(port), "berth_cri_requests_total")).isEmpty();

            channel = UnixSockets.channel(socket);
            RuntimeServiceGrpc.newBlockingStub(channel).version(VersionRequest.getDefaultInstance());
            Metadata forged = new Metadata();
            forged.put(Metadata.Key.of("berth-warm-up", Metadata.ASCII_STRING_MARSHALLER), "0".repeat(32));
            RuntimeServiceGrpc.newBlockingStub(channel)
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(forged))
                    .version(VersionRequest.getDefaultInstance());
            assertThat(MetricsScrape.value(scrape(port), "berth_cri_requests_total", "method=\"Version\"",
                    "code=\"OK\"")).isEqualTo(2);
            assertThat(MetricsScrape.lines(scrape(port), "berth_cri_requests_total", "method=\"ListPodSandbox\""))
                    .isEmpty();
        } finally {
            if (channel != null) {
                channel.shutdownNow();
            }
            daemon.close();
        }
    }

    @Test
    void closingTheDaemonEndsAWarmUpUnderWay() throws Exception {
        var loaded = FakeDaemons.config(dir, "warm_up_rounds = 10000");
        Daemon daemon = FakeDaemons.create(loaded);
        daemon.warmUp(loaded.config().warmUpRounds()).serveUnix(dir.resolve("berth.sock"));
        Thread.sleep(200);
        daemon.close();
        // Ended by the close, not by its last round: 10,000 rounds are 60,001 calls.
        int calls = daemon.warmUpFinished().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertThat(calls).isLessThan(60_001);
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().equals("berth-warm-up"));
    }

    private static String scrape(int port) throws Exception {
        try (HttpClient client = HttpClient.newHttpClient()) {
            var resp = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(resp.statusCode()).isEqualTo(200);
            return resp.body();
        }
    }
}
