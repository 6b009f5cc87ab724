package dev.berth.core.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.cri.sandbox.RunPodSandbox;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.environment.NodeSandboxEnvironment;
import dev.berth.core.mapping.SpiMapper;
import dev.berth.cri.v1.LinuxPodSandboxConfig;
import dev.berth.cri.v1.LinuxSandboxSecurityContext;
import dev.berth.cri.v1.NamespaceMode;
import dev.berth.cri.v1.NamespaceOption;
import dev.berth.cri.v1.PodSandboxConfig;
import dev.berth.cri.v1.PodSandboxMetadata;
import dev.berth.spi.BackendFeatures;
import dev.berth.spi.ImageConfig;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.testing.FakeBackend;
import dev.berth.spi.testing.TestingBackendContext;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sandbox image for RunPodSandbox ({@code BackendFeatures.Pod.runsSandboxImage}): pulled and pinned for every pod, its root
 * file system and config prepared only when the backend runs it for that pod. Against Debian's docker-registry.
 */
class SandboxImageTest {
    static TestRegistry registry;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startRegistry() throws Exception {
        registry = TestRegistry.start(null);
        new TestLayers.Pusher(registry.url()).image("pause", "3.9", false, "amd64",
                Map.of("Entrypoint", List.of("/pause")), TestLayers.layers(new TestLayers.Layer().file("pause", "p")));
    }

    @AfterAll
    static void stopRegistry() throws Exception {
        if (registry != null) {
            registry.close();
        }
    }

    /** A fake that runs from images and says whether it runs this pod's sandbox from the sandbox image. */
    static final class Backend extends FakeBackend {
        final boolean runsSandboxImage;
        final List<SandboxSpec> asked = new ArrayList<>();

        Backend(Path dir, boolean runsSandboxImage) {
            super(new TestingBackendContext("h", dir), Map.of());
            this.runsSandboxImage = runsSandboxImage;
        }

        @Override
        public BackendFeatures features() {
            return new BackendFeatures(true, false, BackendFeatures.CgroupDriver.CGROUPFS, true, "");
        }

        @Override
        public BackendFeatures.Pod podFeatures(SandboxSpec spec) {
            asked.add(spec);
            return new BackendFeatures.Pod(runsSandboxImage, true);
        }
    }

    private SpiMapper.Prepared prepare(Backend backend, ImageService images, String ref) throws Exception {
        NodeSandboxEnvironment env = new NodeSandboxEnvironment(null, images, ref, tmp.resolve("pods"));
        PodSandboxConfig config = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName("p").setNamespace("ns").setUid("u"))
                .setLinux(LinuxPodSandboxConfig.newBuilder().setSecurityContext(LinuxSandboxSecurityContext
                        .newBuilder().setNamespaceOptions(NamespaceOption.newBuilder()
                                .setNetwork(NamespaceMode.NODE).setPid(NamespaceMode.CONTAINER))))
                .build();
        Deque<RunPodSandbox.Undo> undo = new ArrayDeque<>();
        return env.prepare("a".repeat(64), config, new Handler("h", "fake", "builtin", "0", Map.of(), backend), undo);
    }

    @Test
    void aBackendThatDoesNotRunTheSandboxImageGetsNoRootFileSystemButTheImageIsPinned() throws Exception {
        String ref = registry.hostPort() + "/pause:3.9";
        Backend backend = new Backend(tmp.resolve("ctx"), false);
        try (ImageService images = new ImageService(ImageSettings.defaults(tmp.resolve("store")))) {
            SpiMapper.Prepared p = prepare(backend, images, ref);
            assertThat(p.rootfs()).isEmpty();
            assertThat(p.image()).isEqualTo(ImageConfig.NONE);
            assertThat(images.find(ref)).hasValueSatisfying(i -> assertThat(i.pinned()).isTrue());
            assertThat(backend.asked).singleElement().satisfies(s -> {
                assertThat(s.hostNetwork()).isTrue();
                assertThat(s.security().namespaces().pid()).isEqualTo(dev.berth.spi.NamespaceMode.CONTAINER);
                assertThat(s.rootfs()).isEmpty();
            });
        }
    }

    @Test
    void aBackendThatRunsTheSandboxImageGetsItsRootFileSystemAndConfig() throws Exception {
        try (ImageService images = new ImageService(ImageSettings.defaults(tmp.resolve("store")))) {
            SpiMapper.Prepared p = prepare(new Backend(tmp.resolve("ctx"), true), images,
                    registry.hostPort() + "/pause:3.9");
            assertThat(p.rootfs()).isNotEmpty();
            assertThat(p.image().entrypoint()).containsExactly("/pause");
        }
    }

    /** A SIGKILL in CreateContainer between preparing the root and writing the record leaves a root no record names. */
    @Test
    void containerRootsWithoutARecordAreReleasedAtStartupAndSandboxRootsAreLeftToTheSandboxSide() throws Exception {
        try (ImageService images = new ImageService(ImageSettings.defaults(tmp.resolve("store")))) {
            Image image = images.pull(registry.hostPort() + "/pause:3.9", RegistryCredentials.NONE);
            String kept = "b".repeat(64);
            String orphan = "c".repeat(64);
            String sandboxRoot = "sandbox-" + "d".repeat(64);
            for (String key : List.of(kept, orphan, sandboxRoot)) {
                images.prepareRootfs(key, image.id());
            }
            new dev.berth.core.environment.ImageContainerEnvironment(images).reconcile(java.util.Set.of(kept));
            assertThat(images.rootfsKeys()).containsExactlyInAnyOrder(kept, sandboxRoot);
        }
    }
}
