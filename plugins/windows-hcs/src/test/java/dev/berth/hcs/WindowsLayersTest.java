package dev.berth.hcs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.hcs.bind.HResults;
import dev.berth.hcs.layer.LayerStore;
import dev.berth.spi.BackendException;
import dev.berth.spi.MountSpec;
import dev.berth.spi.SandboxSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Windows image's rootfs as core hands it over (layer blobs and a scratch directory), through the backend over
 * the recording fake of the layer API: the calls, in order, that import its layers and mount the scratch layer; an
 * imported layer reused; a failed import rolled back and redone.
 */
class WindowsLayersTest {
    static final String POD = "3".repeat(64);
    static final String CTR = "4".repeat(64);

    @TempDir
    Path dir;
    private Fixtures.Rig rig;
    private HcsBackend backend;
    private String base;
    private String app;

    @BeforeEach
    void setUp() {
        rig = new Fixtures.Rig(dir);
        backend = rig.backend(Map.of());
        List<String> chains = LayerStore.chainIds(Fixtures.IMAGE.stream().map(b -> b.diffId()).toList());
        Path layers = rig.context.rootDir().resolve("layers");
        base = layers.resolve(chains.get(0).substring(7)).toString();
        app = layers.resolve(chains.get(1).substring(7)).toString();
    }

    @AfterEach
    void tearDown() {
        backend.close();
        assertThat(rig.layers.violations()).as("breaches of the layer API's order").isEmpty();
    }

    private static String scratch(String id) {
        return Fixtures.DIR.resolve("scratch").resolve(id).toString();
    }

    private static String name(String path) {
        return Path.of(path).getFileName().toString();
    }

    @Test
    void aTwoLayerImageIsImportedBaseFirstThenTheScratchLayerIsMountedOverIt() {
        backend.createSandbox(Fixtures.sandbox(POD));

        String s = scratch(POD);
        assertThat(rig.layers.calls()).containsExactly(
                "ProcessBaseImage " + base,
                "ImportLayer " + app + " " + app + ".import [" + base + "]",
                "NameToGuid " + name(app),
                "NameToGuid " + name(base),
                "CreateSandboxLayer " + s + " [" + app + ", " + base + "]",
                "ActivateLayer " + s,
                "PrepareLayer " + s + " [" + app + ", " + base + "]",
                "GetLayerMountPath " + s);
        assertThat(Path.of(app + ".import")).as("the import folder is removed once imported").doesNotExist();
        assertThat(Path.of(base).resolve("Files/Windows/System32/cmd.exe")).as("the base layer's files")
                .hasContent("MZ cmd");
        assertThat(rig.layers.active()).containsExactly(s);
        assertThat(rig.hcs.system(POD).configuration)
                .contains("\"Path\":\"" + app + "\"")
                .contains("\"Path\":\"" + base + "\"");

        rig.layers.clearCalls();
        backend.removeSandbox(POD);
        assertThat(rig.layers.calls()).containsExactly(
                "UnprepareLayer " + s,
                "DeactivateLayer " + s,
                "DestroyLayer " + s,
                "DestroyLayer " + app,
                "DestroyLayer " + base);
        assertThat(rig.layers.layers()).isEmpty();
        assertThat(Path.of(base)).doesNotExist();
        assertThat(Path.of(app)).doesNotExist();
    }

    @Test
    void aSecondContainerOfTheImageReusesItsImportedLayers() {
        backend.createSandbox(Fixtures.sandbox(POD));
        backend.startSandbox(POD);
        rig.layers.clearCalls();

        backend.createContainer(Fixtures.container(CTR, POD, Fixtures.PING, ""));
        assertThat(rig.layers.calls()).noneMatch(c -> c.startsWith("ImportLayer") || c.startsWith("ProcessBase"));
        assertThat(rig.layers.calls()).contains("CreateSandboxLayer " + scratch(CTR) + " [" + app + ", " + base + "]");

        rig.layers.clearCalls();
        backend.removeContainer(CTR);
        assertThat(rig.layers.calls()).as("the pod still uses the layers").containsExactly(
                "UnprepareLayer " + scratch(CTR),
                "DeactivateLayer " + scratch(CTR),
                "DestroyLayer " + scratch(CTR));
        assertThat(rig.layers.layers()).contains(base, app);

        backend.removeSandbox(POD);
        assertThat(rig.layers.layers()).isEmpty();
    }

    @Test
    void aFailedImportLeavesNoPartialLayerAndTheNextAttemptRedoesIt() throws Exception {
        rig.layers.failNext("ImportLayer", HResults.E_FAIL);
        assertThatThrownBy(() -> backend.createSandbox(Fixtures.sandbox(POD)))
                .isInstanceOf(BackendException.class).hasMessageContaining("ImportLayer");
        assertThat(Path.of(app)).as("no partial layer").doesNotExist();
        assertThat(Path.of(app + ".import")).doesNotExist();
        assertThat(Path.of(app + ".imported")).doesNotExist();
        assertThat(rig.layers.active()).isEmpty();
        assertThat(rig.hcs.openHandles()).isZero();
        assertThat(rig.layers.calls()).last().as("the import it cut short is destroyed")
                .isEqualTo("DestroyLayer " + app);

        rig.layers.clearCalls();
        backend.createSandbox(Fixtures.sandbox(POD));
        assertThat(rig.layers.calls()).as("the base layer was imported whole and is kept; the other is redone")
                .startsWith("ImportLayer " + app + " " + app + ".import [" + base + "]")
                .noneMatch(c -> c.startsWith("ProcessBaseImage"));
        backend.removeSandbox(POD);
        assertThat(rig.layers.layers()).isEmpty();
    }

    @Test
    void aScratchLayerThatCannotBePreparedIsUndoneAndTheLayersNobodyUsesAreDestroyed() {
        rig.layers.failNext("PrepareLayer", HResults.E_FAIL);
        assertThatThrownBy(() -> backend.createSandbox(Fixtures.sandbox(POD)))
                .isInstanceOf(BackendException.class).hasMessageContaining("PrepareLayer");
        String s = scratch(POD);
        assertThat(rig.layers.calls()).endsWith(
                "PrepareLayer " + s + " [" + app + ", " + base + "]",
                "DeactivateLayer " + s,
                "DestroyLayer " + s,
                "DestroyLayer " + app,
                "DestroyLayer " + base);
        assertThat(rig.layers.layers()).isEmpty();
        assertThat(rig.layers.active()).isEmpty();
    }

    @Test
    void theRootfsIsCoresShapeAndNothingElse() {
        SandboxSpec good = Fixtures.sandbox(POD);
        // containerd's snapshot shape, which core does not produce
        List<MountSpec> containerd = List.of(new MountSpec("windows-layer", "C:\\snapshots\\9", "",
                List.of("rw", "parentLayerPaths=[\"C:\\\\snapshots\\\\1\"]")));
        assertThatThrownBy(() -> WindowsLayers.parse(containerd, "create"))
                .isInstanceOfSatisfying(BackendException.class, e -> {
                    assertThat(e.kind()).isEqualTo(BackendException.Kind.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).contains("windows-scratch");
                });
        List<MountSpec> overlay = List.of(new MountSpec("overlay", "overlay", "", List.of()),
                good.rootfs().getLast());
        assertThatThrownBy(() -> WindowsLayers.parse(overlay, "create")).isInstanceOf(BackendException.class)
                .hasMessageContaining("\"overlay\"");
        List<MountSpec> noDiffId = List.of(new MountSpec("windows-layer", "/blobs/x", "", List.of("digest=sha256:"
                + "a".repeat(64))), good.rootfs().getLast());
        assertThatThrownBy(() -> WindowsLayers.parse(noDiffId, "create")).isInstanceOf(BackendException.class)
                .hasMessageContaining("diff id");
        assertThatThrownBy(() -> WindowsLayers.parse(List.of(good.rootfs().getLast()), "create"))
                .isInstanceOf(BackendException.class).hasMessageContaining("no layers");

        WindowsLayers.Rootfs r = WindowsLayers.parse(good.rootfs(), "create");
        assertThat(r.layers()).extracting(WindowsLayers.Layer::diffId)
                .containsExactly(Fixtures.IMAGE.get(0).diffId(), Fixtures.IMAGE.get(1).diffId());
        assertThat(r.layers().getFirst().blob()).isEqualTo(Fixtures.IMAGE.get(0).path().toString());
        assertThat(r.layers().getFirst().mediaType()).isEqualTo(Fixtures.IMAGE.get(0).mediaType());
        assertThat(r.scratch()).isEqualTo(scratch(POD));
        assertThat(Files.isDirectory(Path.of(r.scratch()))).isTrue();
    }
}
