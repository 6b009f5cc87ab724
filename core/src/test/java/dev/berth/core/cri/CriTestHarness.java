package dev.berth.core.cri;

import dev.berth.core.Daemon;
import dev.berth.core.config.ConfigLoader;
import dev.berth.core.environment.Node;
import dev.berth.core.plugin.PluginHost;
import dev.berth.cri.v1.ContainerConfig;
import dev.berth.cri.v1.ContainerMetadata;
import dev.berth.cri.v1.CreateContainerRequest;
import dev.berth.cri.v1.ImageSpec;
import dev.berth.cri.v1.PodSandboxConfig;
import dev.berth.cri.v1.PodSandboxMetadata;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.StartContainerRequest;
import dev.berth.spi.RuntimeBackendFactory;
import dev.berth.spi.testing.FakeBackendFactory;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** A daemon with fake-backend handlers, served in-process, and a v1 client to it. */
public final class CriTestHarness implements AutoCloseable {
    static final String CONFIG = """
            default_runtime = "fake"
            [runtimes.fake]
            type = "fake"
            [runtimes.other]
            type = "fake"
            [runtimes.broken]
            type = "fake"
            [runtimes.broken.options]
            fail_create = true
            """;

    final Path dir;
    final Daemon daemon;
    public final ManagedChannel channel;
    public final RuntimeServiceGrpc.RuntimeServiceBlockingStub runtime;

    CriTestHarness(Path dir) throws Exception {
        this(dir, CONFIG);
    }

    CriTestHarness(Path dir, String config) throws Exception {
        this(dir, config, Node.none());
    }

    CriTestHarness(Path dir, String config, Node node) throws Exception {
        this(dir, config, node, List.of(new FakeBackendFactory()));
    }

    /** A daemon over {@code node} whose handlers may use the backend types of {@code factories}. */
    public CriTestHarness(Path dir, String config, Node node, List<RuntimeBackendFactory> factories) throws Exception {
        this.dir = dir;
        Path file = dir.resolve("config.toml");
        Files.writeString(file, "state = \"" + dir.resolve("state") + "\"\nroot = \"" + dir.resolve("root")
                + "\"\n" + config);
        var loaded = ConfigLoader.load(file, true);
        daemon = Daemon.create(loaded, PluginHost.of(factories), node);
        String name = InProcessServerBuilder.generateName();
        daemon.serve(InProcessServerBuilder.forName(name));
        channel = InProcessChannelBuilder.forName(name).build();
        runtime = RuntimeServiceGrpc.newBlockingStub(channel);
    }

    public static PodSandboxConfig pod(String name) {
        return PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName(name).setNamespace("default").setUid("uid-" + name))
                .putLabels("app", name)
                .setLogDirectory("/var/log/pods/" + name)
                .build();
    }

    public static ContainerConfig container(String name) {
        return ContainerConfig.newBuilder()
                .setMetadata(ContainerMetadata.newBuilder().setName(name))
                .setImage(ImageSpec.newBuilder().setImage("busybox"))
                .addCommand("sleep").addArgs("3600")
                .setLogPath(name + ".log")
                .putLabels("tier", name)
                .build();
    }

    /** The ids of a pod and of a container started in it. */
    public record Started(String pod, String container) {}

    /** Runs pod {@code podName} and creates and starts container {@code name} in it. */
    public Started startedContainer(String podName, String name) {
        String pod = runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(pod(podName)).build())
                .getPodSandboxId();
        String ctr = runtime.createContainer(CreateContainerRequest.newBuilder()
                .setPodSandboxId(pod).setConfig(container(name)).setSandboxConfig(pod(podName)).build())
                .getContainerId();
        runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(ctr).build());
        return new Started(pod, ctr);
    }

    public Daemon daemon() {
        return daemon;
    }

    @Override
    public void close() {
        channel.shutdownNow();
        daemon.close();
    }
}
