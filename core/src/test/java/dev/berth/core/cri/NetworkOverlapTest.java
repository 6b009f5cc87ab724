package dev.berth.core.cri;

import static dev.berth.core.cri.CriServiceTest.assertCode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.cri.sandbox.RunPodSandbox;
import dev.berth.core.cri.sandbox.SandboxEnvironment;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.cri.container.ContainerEnvironment;
import dev.berth.core.environment.Node;
import dev.berth.core.mapping.SpiMapper;
import dev.berth.cri.v1.ListPodSandboxRequest;
import dev.berth.cri.v1.PodSandboxConfig;
import dev.berth.cri.v1.PodSandboxStatusRequest;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.spi.BackendException;
import dev.berth.spi.ImageConfig;
import io.grpc.Status;
import java.nio.file.Path;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * RunPodSandbox connects the pod network (CNI) while the backend creates the sandbox when the backend allows it,
 * and in order otherwise; failures on either side roll back both, and never before the network step is over.
 */
class NetworkOverlapTest {
    static final String CONFIG = """
            default_runtime = "ordered"
            [runtimes.ordered]
            type = "fake"
            [runtimes.overlap]
            type = "fake"
            [runtimes.overlap.options]
            network_before_create = false
            [runtimes.overlap-broken]
            type = "fake"
            [runtimes.overlap-broken.options]
            network_before_create = false
            fail_create = true
            """;

    @TempDir
    Path dir;
    RecordingEnvironment env;
    CriTestHarness h;

    @BeforeEach
    void setUp() throws Exception {
        env = new RecordingEnvironment(dir);
        h = new CriTestHarness(dir, CONFIG, new Node(env, ContainerEnvironment.NONE, null, null, List.of()));
    }

    @AfterEach
    void tearDown() {
        h.close();
    }

    @Test
    void cniRunsWhileTheBackendCreatesAndStartsTheSandboxWhenItNeedsNoNetworkFirst() {
        String id = run("p", "overlap");
        // connect() waits until the sandbox is started in the backend, and fails if it never is.
        assertThat(env.sawSandboxDuringConnect).containsExactly(true);
        assertThat(ip(id)).isEqualTo("10.88.0.7");
    }

    @Test
    void cniRunsBeforeCreateByDefault() {
        String id = run("p", "");
        assertThat(env.sawSandboxDuringConnect).containsExactly(false);
        assertThat(ip(id)).isEqualTo("10.88.0.7");
    }

    @Test
    void aFailedNetworkRemovesTheSandboxTheBackendCreatedMeanwhile() {
        env.failConnect = true;
        assertCode(() -> run("p", "overlap"), Status.Code.UNAVAILABLE, "plugin bridge failed: no IPs left");
        assertThat(h.runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()).isEmpty();
        assertThat(dir.resolve("state/records/sandboxes")).isEmptyDirectory();
        String id = env.lastId;
        assertThatThrownBy(() -> env.handler.backend().sandboxStatus(id)).isInstanceOfSatisfying(
                BackendException.class, e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.NOT_FOUND));
        assertThat(env.events).endsWith("teardown");
        env.failConnect = false;
        run("p", "overlap"); // the name is free again
    }

    @Test
    void aFailedCreateWaitsForTheNetworkBeforeTearingItDown() {
        env.slowConnect = true;
        assertCode(() -> run("p", "overlap-broken"), Status.Code.UNAVAILABLE, "fake failure requested by fail_create");
        assertThat(env.events).containsSubsequence("connect-begin", "connect-end", "teardown");
        assertThat(env.events.indexOf("teardown")).isGreaterThan(env.events.indexOf("connect-end"));
    }

    private String run(String name, String handler) {
        return h.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(CriTestHarness.pod(name))
                .setRuntimeHandler(handler).build()).getPodSandboxId();
    }

    private String ip(String id) {
        return h.runtime.podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(id).build())
                .getStatus().getNetwork().getIp();
    }

    /** A network that records its steps; connect() reports whether the backend already had the sandbox. */
    static final class RecordingEnvironment implements SandboxEnvironment {
        final Path dir;
        final List<String> events = new CopyOnWriteArrayList<>();
        final List<Boolean> sawSandboxDuringConnect = new CopyOnWriteArrayList<>();
        volatile Handler handler;
        volatile String lastId;
        volatile boolean failConnect;
        volatile boolean slowConnect;

        RecordingEnvironment(Path dir) {
            this.dir = dir;
        }

        @Override
        public SpiMapper.Prepared prepare(String id, PodSandboxConfig config, Handler h,
                                          Deque<RunPodSandbox.Undo> undo) {
            handler = h;
            lastId = id;
            events.add("prepare");
            undo.push(new RunPodSandbox.Undo("tear down the test network", () -> events.add("teardown")));
            return new SpiMapper.Prepared(dir.resolve("netns-" + id), "", List.of(), List.of(), ImageConfig.NONE,
                    null, null, null);
        }

        @Override
        public SpiMapper.Prepared connect(String id, PodSandboxConfig config, SpiMapper.Prepared prepared) {
            events.add("connect-begin");
            boolean exists = exists(id);
            if (handler.name().equals("overlap")) { // its create succeeds: wait until it has run and started
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (!exists && System.nanoTime() < deadline) {
                    sleep(5);
                    exists = exists(id);
                }
            }
            sawSandboxDuringConnect.add(exists);
            if (slowConnect) {
                sleep(300); // a create failure in the meantime must not tear the network down under us
            }
            events.add("connect-end");
            if (failConnect) {
                events.add("teardown"); // a failed CNI ADD undoes its own network, as PodNetworking does
                throw new BackendException(BackendException.Kind.UNAVAILABLE, "failed to set up pod network \"" + id
                        + "\": plugin bridge failed: no IPs left");
            }
            return prepared.withAddresses("10.88.0.7", List.of());
        }

        private boolean exists(String id) {
            try {
                var status = handler.backend().sandboxStatus(id); // NOT_FOUND until created
                // For the overlapping handler, existing is not enough: it must be started while CNI runs.
                return !handler.name().equals("overlap") || status.state() == dev.berth.spi.SandboxStatus.State.READY;
            } catch (BackendException e) {
                return false;
            }
        }

        private static void sleep(long ms) {
            try {
                Thread.sleep(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void releaseNetwork(String sandboxId) {
            events.add("release-network");
        }

        @Override
        public void release(String sandboxId) {
            events.add("release");
        }
    }
}
