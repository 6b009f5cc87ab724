package dev.berth.hcs.layer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.hcs.bind.PortableBackupFiles;
import dev.berth.hcs.fake.FakeLayerApi;
import dev.berth.hcs.fake.LayerBlobs;
import dev.berth.hcs.fake.WindowsLayerTars;
import dev.berth.spi.BackendException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The layer store over the recording fake: import once, markers, owners, generations, GC and the layer tar. */
class LayerStoreTest {
    @TempDir
    Path dir;
    private final FakeLayerApi api = new FakeLayerApi();
    private final PortableBackupFiles backups = new PortableBackupFiles();
    private LayerStore store;
    private List<LayerStore.Source> image;
    private List<String> chains;

    @BeforeEach
    void setUp() throws Exception {
        store = new LayerStore(api, backups, dir.resolve("layers"), "state/windows");
        LayerBlobs.Blob base = LayerBlobs.gzip(dir.resolve("blobs"), "base", Map.of("Files/a.txt", "a"));
        LayerBlobs.Blob top = LayerBlobs.gzip(dir.resolve("blobs"), "top", Map.of("Files/b.txt", "b"));
        image = List.of(new LayerStore.Source(base.path(), base.diffId()),
                new LayerStore.Source(top.path(), top.diffId()));
        chains = LayerStore.chainIds(List.of(base.diffId(), top.diffId()));
    }

    @Test
    void chainIdsAreOcis() {
        String a = "sha256:" + "a".repeat(64);
        String b = "sha256:" + "b".repeat(64);
        assertThat(LayerStore.chainIds(List.of(a, b))).containsExactly(a,
                "sha256:" + LayerBlobs.sha256((a + " " + b).getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    @Test
    void aHalfImportedLayerIsDestroyedAndImportedAgain() throws Exception {
        // what a crash in the middle of ImportLayer leaves: the folder, part of the import folder, no marker
        Path top = store.folder(chains.get(1));
        Files.createDirectories(top);
        Files.writeString(top.resolve("half"), "x");
        Files.createDirectories(dir.resolve("layers").resolve(top.getFileName() + ".import/Files"));

        List<String> parents = store.acquire("c1", image);

        assertThat(parents).containsExactly(top.toString(), store.folder(chains.get(0)).toString());
        assertThat(api.calls()).containsExactly(
                "ProcessBaseImage " + store.folder(chains.get(0)),
                "DestroyLayer " + top,
                "ImportLayer " + top + " " + top + ".import [" + store.folder(chains.get(0)) + "]");
        assertThat(top.resolve("half")).doesNotExist();
        assertThat(store.imported(chains.get(1))).isTrue();
        assertThat(api.violations()).isEmpty();
    }

    @Test
    void aLayerWhoseTarIsNotItsDiffIdIsRefusedAndLeavesNothing() throws Exception {
        LayerBlobs.Blob other = LayerBlobs.gzip(dir.resolve("blobs"), "other", Map.of("Files/c.txt", "c"));
        List<LayerStore.Source> lying = List.of(new LayerStore.Source(other.path(), image.get(0).diffId()));
        assertThatThrownBy(() -> store.acquire("c1", lying)).isInstanceOf(BackendException.class)
                .hasMessageContaining("is not diff id " + image.get(0).diffId());
        assertThat(store.folder(chains.get(0))).doesNotExist();
        assertThat(api.calls()).noneMatch(c -> c.startsWith("ProcessBaseImage"));
        assertThat(store.gc(Set.of())).isEmpty();
    }

    @Test
    void gcDropsOwnersThatAreGoneAndDestroysWhatNobodyUses() throws Exception {
        store.acquire("gone", image);
        LayerStore other = new LayerStore(api, backups, dir.resolve("layers"), "state/windows@2");
        other.acquire("kept", image.subList(0, 1));
        Path leftover = dir.resolve("layers").resolve("c".repeat(64) + ".import");
        Files.createDirectories(leftover);
        Path halfMarker = Files.writeString(dir.resolve("layers").resolve("c".repeat(64) + ".imported.81.tmp"), "x");
        try (var names = Files.list(dir.resolve("layers"))) {
            assertThat(names.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp")))
                    .as("the imports' writes left no temp file").containsExactly(halfMarker.getFileName().toString());
        }

        List<String> removed = store.gc(Set.of());

        assertThat(removed).containsExactlyInAnyOrder(chains.get(1).substring(7), "c".repeat(64));
        assertThat(store.imported(chains.get(0))).as("another generation's pod uses the base layer").isTrue();
        assertThat(store.folder(chains.get(1))).doesNotExist();
        assertThat(leftover).doesNotExist();
        assertThat(halfMarker).as("a marker's write that a kill cut short").doesNotExist();

        other.release("kept");
        assertThat(store.folder(chains.get(0))).doesNotExist();
        assertThat(api.layers()).isEmpty();
    }

    @Test
    void anImportsHardLinksAreMadeInTheImportedLayerToItsOwnFilesOrTheParents() throws Exception {
        LayerBlobs.Blob top = WindowsLayerTars.blob(dir.resolve("blobs"), "links", List.of(
                WindowsLayerTars.Entry.file("Files/own.txt", "o"),
                WindowsLayerTars.Entry.hardLink("Files/own-link", "Files/own.txt"),
                WindowsLayerTars.Entry.hardLink("Files/sub/a-link", "Files/a.txt")));
        List<LayerStore.Source> linked = List.of(image.get(0), new LayerStore.Source(top.path(), top.diffId()));
        store.acquire("c1", linked);

        Path base = store.folder(chains.get(0));
        Path layer = store.folder(LayerStore.chainIds(List.of(image.get(0).diffId(), top.diffId())).get(1));
        assertThat(Files.isSameFile(layer.resolve("Files/sub/a-link"), base.resolve("Files/a.txt")))
                .as("a link to the parent's file, made after ImportLayer").isTrue();
        assertThat(Files.isSameFile(layer.resolve("Files/own-link"), layer.resolve("Files/own.txt"))).isTrue();
        assertThat(api.violations()).isEmpty();

        LayerBlobs.Blob dangling = WindowsLayerTars.blob(dir.resolve("blobs"), "dangling", List.of(
                WindowsLayerTars.Entry.file("Files/x.txt", "x"),
                WindowsLayerTars.Entry.hardLink("Files/l", "Files/nowhere.txt")));
        assertThatThrownBy(() -> store.acquire("c2", List.of(image.get(0),
                new LayerStore.Source(dangling.path(), dangling.diffId()))))
                .isInstanceOf(BackendException.class)
                .hasMessageContaining("hard link Files/l: no file Files/nowhere.txt in the layer or its parents");
    }

    @Test
    void whiteoutsBecomeTombstonesAndEntriesMayNotLeaveTheLayer() throws Exception {
        Map<String, String> files = new LinkedHashMap<>();
        files.put("Files/keep.txt", "k");
        files.put("Files/dir/.wh.gone.txt", "");
        LayerBlobs.Blob b = LayerBlobs.gzip(dir.resolve("blobs"), "wh", files);
        Path out = dir.resolve("out");
        Files.createDirectories(out);
        LayerTar.Written w = LayerTar.write(b.path(), b.diffId(), out, backups);
        assertThat(w.tombstones()).containsExactly("Files/dir/gone.txt");
        assertThat(out.resolve("Files/dir/.wh.gone.txt")).doesNotExist();
        assertThat(out.resolve(LayerTar.TOMBSTONES)).hasBinaryContent(
                "\uFEFFVersion 1.0\n\\Files\\dir\\gone.txt\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));

        LayerBlobs.Blob evil = LayerBlobs.gzip(dir.resolve("blobs"), "evil", Map.of("Files/../../x", "x"));
        assertThatThrownBy(() -> LayerTar.write(evil.path(), evil.diffId(), dir.resolve("out2"), backups))
                .hasMessageContaining("leaves the layer");
        LayerBlobs.Blob linux = LayerBlobs.gzip(dir.resolve("blobs"), "linux", Map.of("etc/passwd", "root"));
        assertThatThrownBy(() -> LayerTar.write(linux.path(), linux.diffId(), dir.resolve("out3"), backups))
                .hasMessageContaining("not a Windows layer");
    }
}
