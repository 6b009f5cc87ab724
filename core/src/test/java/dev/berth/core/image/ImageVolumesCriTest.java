package dev.berth.core.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.cri.CriTestHarness;
import dev.berth.core.cri.sandbox.SandboxEnvironment;
import dev.berth.core.environment.ImageContainerEnvironment;
import dev.berth.core.environment.Node;
import dev.berth.cri.v1.CreateContainerRequest;
import dev.berth.cri.v1.ImageSpec;
import dev.berth.cri.v1.Mount;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.spi.MountSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CreateContainer makes the volumes an image declares, and its layers lack, directories of the container's root
 * file system; a volume the image has keeps its content, and one the request mounts is left to the backend. The
 * image comes from a real docker-registry and the root is mounted as overlay for real; the backend is the fake one.
 */
class ImageVolumesCriTest {
    @TempDir
    Path dir;

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
    }

    @Test
    void createContainerMakesTheImagesMissingVolumes() throws Exception {
        try (TestRegistry registry = TestRegistry.start(null)) {
            new TestLayers.Pusher(registry.url()).image("volumes", "1", true, "amd64",
                    Map.of("Volumes", Map.of("/data", Map.of(), "/srv/keep", Map.of(), "/cache", Map.of(),
                            "/run/app", Map.of())),
                    TestLayers.layers(new TestLayers.Layer().file("bin/app", "#!/bin/sh\n")
                            .dir("srv/keep", 0700, 1000, 1000).file("srv/keep/file", "kept")
                            .dir("var", 0755, 0, 0).symlink("var/run", "../run")));
            String ref = registry.hostPort() + "/volumes:1";
            ImageService images = new ImageService(ImageSettings.defaults(dir.resolve("images")));
            Node node = new Node(SandboxEnvironment.NONE, new ImageContainerEnvironment(images), images, null,
                    List.of(images));
            try (node; CriTestHarness h = new CriTestHarness(dir, """
                    default_runtime = "fake"
                    [runtimes.fake]
                    type = "fake-images"
                    """, node, List.of(new WritableLayerStatsTest.ImagesFakeBackendFactory()))) {
                String imageId = images.pull(ref, RegistryCredentials.NONE).id();
                String pod = h.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder()
                        .setConfig(CriTestHarness.pod("web")).build()).getPodSandboxId();
                Path hostCache = Files.createDirectories(dir.resolve("host-cache"));
                String id = h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                        .setConfig(CriTestHarness.container("app").toBuilder()
                                .setImage(ImageSpec.newBuilder().setImage(ref))
                                .addMounts(Mount.newBuilder().setContainerPath("/cache/")
                                        .setHostPath(hostCache.toString())))
                        .setSandboxConfig(CriTestHarness.pod("web")).build()).getContainerId();

                MountSpec root = images.prepareRootfs(id, imageId).getFirst(); // the container's, as the backend has it
                Path merged = Files.createDirectories(dir.resolve("merged"));
                run("mount", "-t", "overlay", "overlay", "-o", String.join(",", root.options()), merged.toString());
                try {
                    assertThat(merged.resolve("data")).isDirectory();
                    assertThat(merged.resolve("run/app")).as("made through the image's /var/run -> ../run")
                            .isDirectory();
                    assertThat(Files.isSymbolicLink(merged.resolve("var/run"))).isTrue();
                    assertThat(merged.resolve("srv/keep/file")).hasContent("kept");
                    assertThat(Files.getAttribute(merged.resolve("srv/keep"), "unix:uid")).isEqualTo(1000);
                    assertThat(merged.resolve("cache")).as("the request mounts it").doesNotExist();
                } finally {
                    run("umount", merged.toString());
                }
            }
        }
    }
}
