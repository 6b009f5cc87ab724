package dev.berth.core.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.hcs.HcsTestRig;
import dev.berth.spi.MountSpec;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.testing.HostRequirements;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Windows image pulled and prepared by core's image service (as a windows/amd64 node, from the test registry),
 * its rootfs handed to the windows-hcs backend over the fake layer API: the backend takes core's shape as it is,
 * imports the two layers from core's blobs in order (base layer processed with its utility VM, the other imported
 * over it) and mounts the scratch layer in core's scratch directory.
 */
class WindowsImageOnHcsTest {
    private static final String POD = "5".repeat(64);

    @TempDir
    Path tmp;

    @Test
    void coresRootfsForAWindowsImageIsImportedAndMountedByTheBackend() throws Exception {
        HostRequirements.require(Files.isExecutable(Path.of("/usr/bin/docker-registry")),
                "docker-registry (the test registry)");
        TestLayers.Layer base = new TestLayers.Layer()
                .file("Files/Windows/System32/cmd.exe", "MZ cmd")
                .file("Hives/SYSTEM", "regf system")
                .file("UtilityVM/Files/EFI/boot.efi", "uvm");
        TestLayers.Layer app = new TestLayers.Layer()
                .file("Files/app/app.exe", "MZ app")
                .file("Hives/Software_Delta", "regf delta");
        List<byte[][]> layers = TestLayers.layers(base, app);
        try (TestRegistry registry = TestRegistry.start(null);
             ImageService images = new ImageService(ImageSettings.defaults(tmp.resolve("store"))
                     .withPlatform("windows", "amd64", ""), Duration.ofMillis(20),
                     PlatformMatcher.of("windows", "amd64", "", "10.0.20348.2340"))) {
            new TestLayers.Pusher(registry.url()).image("win/app", "ltsc2022", true, "windows", "amd64",
                    "10.0.20348.2227", Map.of("Cmd", List.of("C:\\app\\app.exe")), layers);
            Image img = images.pull(registry.hostPort() + "/win/app:ltsc2022", null);
            List<MountSpec> rootfs = images.prepareRootfs(POD, img.id());

            HcsTestRig rig = new HcsTestRig(tmp.resolve("backend"));
            RuntimeBackend backend = rig.backend();
            try {
                backend.createSandbox(HcsTestRig.sandbox(POD, rootfs));

                Path store = rig.layerStore();
                String c0 = TestLayers.sha(layers.get(0)[1]).substring(7);
                String c1 = TestLayers.sha((TestLayers.sha(layers.get(0)[1]) + " "
                        + TestLayers.sha(layers.get(1)[1])).getBytes(java.nio.charset.StandardCharsets.UTF_8))
                        .substring(7);
                String l0 = store.resolve(c0).toString();
                String l1 = store.resolve(c1).toString();
                String scratch = rootfs.getLast().source();
                assertThat(rig.layers().calls()).containsExactly(
                        "ProcessBaseImage " + l0,
                        "ProcessUtilityImage " + Path.of(l0, "UtilityVM"),
                        "ImportLayer " + l1 + " " + l1 + ".import [" + l0 + "]",
                        "NameToGuid " + c1,
                        "NameToGuid " + c0,
                        "CreateSandboxLayer " + scratch + " [" + l1 + ", " + l0 + "]",
                        "ActivateLayer " + scratch,
                        "PrepareLayer " + scratch + " [" + l1 + ", " + l0 + "]",
                        "GetLayerMountPath " + scratch);
                assertThat(Path.of(l0, "Files/Windows/System32/cmd.exe")).hasContent("MZ cmd");
                assertThat(Path.of(l0, "UtilityVM/Files/EFI/boot.efi")).hasContent("uvm");
                assertThat(rig.layers().violations()).isEmpty();

                backend.removeSandbox(POD);
                assertThat(rig.layers().layers()).as("no layer left once the pod is gone").isEmpty();
                assertThat(rig.hcs().openHandles()).isZero();
            } finally {
                backend.close();
                images.releaseRootfs(POD);
            }
        }
    }
}
