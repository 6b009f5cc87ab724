package dev.berth.core.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.cri.CriTestHarness;
import dev.berth.core.cri.sandbox.SandboxEnvironment;
import dev.berth.core.environment.ImageContainerEnvironment;
import dev.berth.core.environment.Node;
import dev.berth.cri.v1.ContainerStatsRequest;
import dev.berth.cri.v1.CreateContainerRequest;
import dev.berth.cri.v1.FilesystemUsage;
import dev.berth.cri.v1.ImageFsInfoRequest;
import dev.berth.cri.v1.ImageServiceGrpc;
import dev.berth.cri.v1.ImageSpec;
import dev.berth.cri.v1.ListContainerStatsRequest;
import dev.berth.cri.v1.PodSandboxStatsRequest;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.cri.v1.StartContainerRequest;
import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendFeatures;
import dev.berth.spi.MountSpec;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.RuntimeBackendFactory;
import dev.berth.spi.StatsProvider;
import dev.berth.spi.testing.FakeBackend;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Container stats carry the writable layer that core prepared: a container's overlay root, mounted for real,
 * gets a file written through it, and ContainerStats, ListContainerStats and PodSandboxStats report its upper
 * directory on the file system ImageFsInfo names for containers. The backend is the fake one (it runs no
 * processes), told to use images and to report stats; the image comes from a real docker-registry.
 */
class WritableLayerStatsTest {
    private static final int WRITTEN = 300_000;

    @TempDir
    Path dir;

    /** The fake backend, with images and with stats whose every value is unknown. */
    static final class ImagesFakeBackend extends FakeBackend implements StatsProvider {
        ImagesFakeBackend(BackendContext context, Map<String, Object> options) {
            super(context, options);
        }

        @Override
        public BackendFeatures features() {
            return new BackendFeatures(true, false, BackendFeatures.CgroupDriver.CGROUPFS, true, "");
        }

        @Override
        public ContainerUsage containerStats(String containerId) {
            containerStatus(containerId); // NOT_FOUND when unknown
            return new ContainerUsage(containerId, unknown());
        }

        @Override
        public SandboxUsage sandboxStats(String sandboxId) {
            return new SandboxUsage(sandboxId, unknown(), -1, -1);
        }

        private static Usage unknown() {
            return new Usage(Instant.now(), -1, -1, -1, -1, -1, -1, -1);
        }
    }

    static final class ImagesFakeBackendFactory implements RuntimeBackendFactory {
        @Override
        public String type() {
            return "fake-images";
        }

        @Override
        public RuntimeBackend create(String handlerName, Map<String, Object> options, BackendContext context) {
            return new ImagesFakeBackend(context, options);
        }
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
    }

    /** The writable layer once a reading shows at least {@code bytes}; readings are refreshed in the background. */
    private static FilesystemUsage awaitLayer(Supplier<FilesystemUsage> read, long bytes) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        FilesystemUsage u = read.get();
        while (u.getUsedBytes().getValue() < bytes && System.nanoTime() < deadline) {
            Thread.sleep(100);
            u = read.get();
        }
        return u;
    }

    @Test
    void statsReportTheWritableLayerOnTheContainerFileSystemOfImageFsInfo() throws Exception {
        try (TestRegistry registry = TestRegistry.start(null)) {
            new TestLayers.Pusher(registry.url()).image("app", "1", false, "amd64", Map.of(),
                    TestLayers.layers(new TestLayers.Layer().file("bin/app", "#!/bin/sh\n").file("etc/motd", "hi")));
            String ref = registry.hostPort() + "/app:1";
            ImageService images = new ImageService(ImageSettings.defaults(dir.resolve("images")));
            Node node = new Node(SandboxEnvironment.NONE, new ImageContainerEnvironment(images), images, null,
                    List.of(images));
            try (node; CriTestHarness h = new CriTestHarness(dir, """
                    default_runtime = "fake"
                    [runtimes.fake]
                    type = "fake-images"
                    """, node, List.of(new ImagesFakeBackendFactory()))) {
                String imageId = images.pull(ref, RegistryCredentials.NONE).id();
                String pod = h.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder()
                        .setConfig(CriTestHarness.pod("web")).build()).getPodSandboxId();
                String id = h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                        .setConfig(CriTestHarness.container("app").toBuilder().setImage(ImageSpec.newBuilder()
                                .setImage(ref))).setSandboxConfig(CriTestHarness.pod("web")).build()).getContainerId();
                h.runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(id).build());
                Supplier<FilesystemUsage> single = () -> h.runtime.containerStats(ContainerStatsRequest.newBuilder()
                        .setContainerId(id).build()).getStats().getWritableLayer();
                FilesystemUsage fresh = single.get();
                assertThat(fresh.getUsedBytes().getValue()).as("a new container wrote nothing").isLessThan(WRITTEN);

                // write through a real overlay mount of the container's root file system
                MountSpec root = images.prepareRootfs(id, imageId).getFirst(); // the same mount again
                Path merged = Files.createDirectories(dir.resolve("merged"));
                run("mount", "-t", "overlay", "overlay", "-o", String.join(",", root.options()), merged.toString());
                try {
                    assertThat(merged.resolve("etc/motd")).hasContent("hi");
                    Files.write(merged.resolve("data"), new byte[WRITTEN]);
                    Files.createDirectories(merged.resolve("var/log"));
                } finally {
                    run("umount", merged.toString());
                }

                String mountpoint = ImageServiceGrpc.newBlockingStub(h.channel)
                        .imageFsInfo(ImageFsInfoRequest.getDefaultInstance()).getContainerFilesystems(0).getFsId()
                        .getMountpoint();
                List<Supplier<FilesystemUsage>> views = List.of(single,
                        () -> h.runtime.listContainerStats(ListContainerStatsRequest.getDefaultInstance())
                                .getStatsList().stream().filter(s -> s.getAttributes().getId().equals(id))
                                .findFirst().orElseThrow().getWritableLayer(),
                        () -> h.runtime.podSandboxStats(PodSandboxStatsRequest.newBuilder().setPodSandboxId(pod)
                                .build()).getStats().getLinux().getContainers(0).getWritableLayer());
                for (Supplier<FilesystemUsage> view : views) {
                    FilesystemUsage layer = awaitLayer(view, WRITTEN);
                    assertThat(layer.getUsedBytes().getValue()).isGreaterThanOrEqualTo(WRITTEN);
                    // the upper directory, the file, var and var/log
                    assertThat(layer.getInodesUsed().getValue()).isGreaterThanOrEqualTo(4);
                    assertThat(layer.getFsId().getMountpoint()).isEqualTo(mountpoint).isNotEmpty();
                    assertThat(layer.getTimestamp()).isGreaterThan(0);
                }
            }
        }
    }
}
