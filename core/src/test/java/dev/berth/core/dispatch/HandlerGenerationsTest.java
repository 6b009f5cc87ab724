package dev.berth.core.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.Daemon;
import dev.berth.core.config.ConfigException;
import dev.berth.core.config.ConfigLoader;
import dev.berth.core.environment.Node;
import dev.berth.core.plugin.PluginHost;
import dev.berth.cri.v1.PodSandboxConfig;
import dev.berth.cri.v1.PodSandboxMetadata;
import dev.berth.cri.v1.PodSandboxStatusRequest;
import dev.berth.cri.v1.RemovePodSandboxRequest;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.StopPodSandboxRequest;
import dev.berth.spi.BackendContext;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.SandboxStatus;
import dev.berth.spi.testing.FakeBackend;
import dev.berth.spi.testing.FakeBackendFactory;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reload lifecycle of handler generations over fake backends, through the CRI edge: a changed handler gets a
 * new backend with its own state directory, old pods stay on the old one, which is closed with its last pod, and
 * a restart re-creates every generation that still owns pods with the options it was created with.
 */
class HandlerGenerationsTest {
    private static final String V1 = """
            default_runtime = "fake"
            [runtimes.fake]
            type = "fake"
            [runtimes.fake.options]
            sandbox_image = "pause:one"
            """;
    private static final String V2 = V1.replace("pause:one", "pause:two");

    @TempDir
    Path dir;

    private final Tracking factory = new Tracking();
    private Daemon daemon;
    private ManagedChannel channel;
    private RuntimeServiceGrpc.RuntimeServiceBlockingStub runtime;

    /** A fake backend type that records each backend's options and its close, by state directory. */
    static final class Tracking extends FakeBackendFactory {
        final Map<Path, Map<String, Object>> created = new ConcurrentHashMap<>();
        final List<Path> closed = new CopyOnWriteArrayList<>();
        /** When set, createSandbox counts {@code entered} down and then waits for {@code gate}. */
        volatile CountDownLatch entered;
        volatile CountDownLatch gate;

        @Override
        public RuntimeBackend create(String handlerName, Map<String, Object> options, BackendContext context) {
            created.put(context.stateDir(), options);
            return new FakeBackend(context, options) {
                @Override
                public SandboxStatus createSandbox(SandboxSpec spec) {
                    if (gate != null) {
                        entered.countDown();
                        try {
                            gate.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                    if (closed.contains(context.stateDir())) {
                        throw new IllegalStateException("createSandbox on a closed backend");
                    }
                    return super.createSandbox(spec);
                }

                @Override
                public void close() {
                    closed.add(context.stateDir());
                }
            };
        }
    }

    @AfterEach
    void stop() {
        shutdown();
    }

    private void start(String config) throws Exception {
        daemon = Daemon.create(load(config), PluginHost.of(List.of(factory)), Node.none());
        String name = InProcessServerBuilder.generateName();
        daemon.serve(InProcessServerBuilder.forName(name));
        channel = InProcessChannelBuilder.forName(name).build();
        runtime = RuntimeServiceGrpc.newBlockingStub(channel);
    }

    private void shutdown() {
        if (channel != null) {
            channel.shutdownNow();
            channel = null;
        }
        if (daemon != null) {
            daemon.close();
            daemon = null;
        }
    }

    private ConfigLoader.Loaded load(String config) throws Exception {
        Path file = dir.resolve("config.toml");
        Files.writeString(file, "state = \"" + dir.resolve("state") + "\"\nroot = \"" + dir.resolve("root") + "\"\n"
                + config);
        return ConfigLoader.load(file, true);
    }

    private String run(String name) {
        return runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName(name).setNamespace("default").setUid("u-" + name)))
                .build()).getPodSandboxId();
    }

    private void remove(String id) {
        runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(id).build());
        runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(id).build());
    }

    private Path handlers() {
        return dir.resolve("state/handlers");
    }

    private Path gen0() {
        return handlers().resolve("fake");
    }

    private Path gen1() {
        return handlers().resolve("fake@1");
    }

    private int generationOf(String pod) {
        return daemon.cri().sandbox(pod).generation();
    }

    @Test
    void aChangedHandlerGetsANewGenerationAndTheOldOneClosesWithItsLastPod() throws Exception {
        start(V1);
        String old1 = run("old1");
        String old2 = run("old2");
        daemon.reload(load(V2));

        String fresh = run("fresh");
        assertThat(generationOf(fresh)).isEqualTo(1);
        assertThat(factory.created.get(gen1())).containsEntry("sandbox_image", "pause:two");
        assertThat(gen1().resolve("sandbox-" + fresh)).as("new pod in the new generation's state").exists();
        assertThat(gen0().resolve("sandbox-" + fresh)).doesNotExist();
        assertThat(generationOf(old1)).isZero();
        assertThat(daemon.registry().generations()).extracting(Handler::generation).containsExactlyInAnyOrder(0, 1);

        remove(old1);
        assertThat(factory.closed).as("generation 0 still owns a pod").isEmpty();
        assertThat(gen0()).exists();
        remove(old2);
        assertThat(factory.closed).containsExactly(gen0());
        assertThat(gen0()).as("state of the closed generation").doesNotExist();
        assertThat(dir.resolve("state/generations/fake@0.toml")).doesNotExist();
        assertThat(daemon.registry().generations()).extracting(Handler::generation).containsExactly(1);

        // The newest generation stays open with no pods: it serves the next pod.
        remove(fresh);
        assertThat(factory.closed).containsExactly(gen0());
        assertThat(generationOf(run("later"))).isEqualTo(1);
    }

    @Test
    void aReloadDoesNotCloseTheGenerationAPodIsBeingCreatedOn() throws Exception {
        start(V1);
        factory.entered = new CountDownLatch(1);
        factory.gate = new CountDownLatch(1);
        var pending = java.util.concurrent.CompletableFuture.supplyAsync(() -> run("racing"));
        assertThat(factory.entered.await(30, TimeUnit.SECONDS)).as("RunPodSandbox reached the backend").isTrue();

        try {
            daemon.reload(load(V2));
            assertThat(factory.closed).as("generation 0 has a pod being created").isEmpty();
        } finally {
            factory.gate.countDown();
            factory.gate = null;
        }
        String pod = pending.get(30, TimeUnit.SECONDS);
        assertThat(generationOf(pod)).isZero();
        assertThat(gen0().resolve("sandbox-" + pod)).exists();

        remove(pod);
        assertThat(factory.closed).containsExactly(gen0());
        assertThat(gen0()).doesNotExist();
    }

    @Test
    void aReloadThatChangesNothingKeepsTheBackendAndItsDirectory() throws Exception {
        start(V1);
        RuntimeBackend before = daemon.registry().resolve("fake").backend();
        daemon.reload(load(V1));
        assertThat(daemon.registry().resolve("fake").backend()).isSameAs(before);
        assertThat(factory.created).containsOnlyKeys(gen0());
        assertThat(gen1()).doesNotExist();
    }

    @Test
    void aRetiredGenerationWithoutPodsIsClosedAtOnce() throws Exception {
        start(V1);
        daemon.reload(load(V2));
        assertThat(factory.closed).containsExactly(gen0());
        assertThat(gen0()).doesNotExist();
        assertThat(daemon.registry().generations()).extracting(Handler::generation).containsExactly(1);
    }

    @Test
    void aFailedReloadChangesNothingAndLeavesNoDirectory() throws Exception {
        start(V1);
        String pod = run("pod");
        assertThatThrownBy(() -> daemon.reload(load(V1 + "bogus = 1\n"))).isInstanceOf(ConfigException.class)
                .hasMessageContaining("bogus");
        assertThat(gen1()).doesNotExist();
        assertThat(dir.resolve("state/generations/fake@1.toml")).doesNotExist();
        assertThat(daemon.registry().resolve("fake").generation()).isZero();
        assertThat(factory.closed).isEmpty();
        remove(pod);
    }

    @Test
    void aRestartReopensEveryGenerationThatOwnsPodsWithItsOwnOptions() throws Exception {
        start(V1);
        String old = run("old");
        daemon.reload(load(V2));
        String fresh = run("fresh");
        shutdown();
        factory.created.clear();
        factory.closed.clear();

        start(V2);
        assertThat(factory.created.get(gen0())).as("generation 0 with the options it was created with")
                .containsEntry("sandbox_image", "pause:one");
        assertThat(factory.created.get(gen1())).containsEntry("sandbox_image", "pause:two");
        assertThat(daemon.registry().resolve("fake").generation()).as("new pods go to the newest").isEqualTo(1);
        assertThat(runtime.podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(old).build())
                .getStatus().getState().name()).isEqualTo("SANDBOX_READY");
        assertThat(generationOf(run("after"))).isEqualTo(1);

        remove(old);
        assertThat(factory.closed).containsExactly(gen0());
        assertThat(gen0()).doesNotExist();
        remove(fresh);
        assertThat(gen1()).exists();
    }

    @Test
    void aRestartDropsGenerationsThatOwnNoPods() throws Exception {
        start(V1);
        String old = run("old");
        daemon.reload(load(V2));
        shutdown();
        // The pod went away while berth was down (as a crash between its removal and the close would leave it).
        Files.delete(dir.resolve("state/records/sandboxes/" + old + ".json"));
        factory.created.clear();

        start(V2);
        assertThat(factory.created).containsOnlyKeys(gen1());
        assertThat(gen0()).doesNotExist();
        assertThat(dir.resolve("state/generations/fake@0.toml")).doesNotExist();
    }

    @Test
    void anUnreadableRecordKeepsEveryGenerationAtRestart() throws Exception {
        start(V1);
        String old = run("old");
        daemon.reload(load(V2));
        shutdown();
        Files.writeString(dir.resolve("state/records/sandboxes/" + old + ".json"), "{ torn");
        factory.created.clear();

        start(V2);
        assertThat(gen0()).as("may hold the pod of the unreadable record").exists();
        assertThat(dir.resolve("state/generations/fake@0.toml")).exists();
    }

    @Test
    void aHandlerRemovedFromConfigStillServesItsPodsAcrossARestart() throws Exception {
        start(V1 + "[runtimes.gone]\ntype = \"fake\"\n");
        String pod = runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setRuntimeHandler("gone")
                .setConfig(PodSandboxConfig.newBuilder().setMetadata(PodSandboxMetadata.newBuilder().setName("p")
                        .setNamespace("default").setUid("u")))
                .build()).getPodSandboxId();
        daemon.reload(load(V1));
        assertThat(handlers().resolve("gone")).exists();
        shutdown();

        start(V1);
        assertThat(daemon.registry().active()).containsOnlyKeys("fake");
        remove(pod);
        assertThat(runtime.listPodSandbox(dev.berth.cri.v1.ListPodSandboxRequest.getDefaultInstance())
                .getItemsList()).isEmpty();
        assertThat(handlers().resolve("gone")).as("closed with its last pod").doesNotExist();
    }

    @Test
    void podsFromBeforeGenerationsAreFoundInTheOldDirectory() throws Exception {
        start(V1);
        String pod = run("legacy");
        shutdown();
        // What berth wrote before generations existed: no generation on the record, no generation files.
        Path record = dir.resolve("state/records/sandboxes/" + pod + ".json");
        String json = Files.readString(record, StandardCharsets.UTF_8);
        assertThat(json).contains("\"generation\":0");
        Files.writeString(record, json.replace(",\"generation\":0", ""));
        Files.delete(dir.resolve("state/generations/fake@0.toml"));

        start(V1);
        assertThat(generationOf(pod)).isZero();
        assertThat(daemon.cri().dispatcher().forSandbox(daemon.cri().sandbox(pod)).generation()).isZero();
        remove(pod);
        assertThat(gen0().resolve("sandbox-" + pod)).doesNotExist();
    }
}
