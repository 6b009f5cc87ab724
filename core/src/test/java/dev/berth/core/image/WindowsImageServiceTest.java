package dev.berth.core.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import dev.berth.spi.MountSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Windows images through the image service on a node configured as windows/amd64 with a known host build (the host
 * platform injected, so this runs on Linux): layers are kept as blobs and handed over as {@link WindowsLayers}
 * mounts, never unpacked; the platform is recorded; builds the host cannot run are refused.
 */
class WindowsImageServiceTest {
    static final String HOST_VERSION = "10.0.20348.2340";
    static TestRegistry registry;
    static TestLayers.Pusher pusher;
    static String host;

    @TempDir
    Path tmp;

    @BeforeAll
    static void startRegistry() throws Exception {
        registry = TestRegistry.start(null);
        pusher = new TestLayers.Pusher(registry.url());
        host = registry.hostPort();
    }

    @AfterAll
    static void stopRegistry() throws Exception {
        if (registry != null) {
            registry.close();
        }
    }

    private ImageService windowsNode(Path root, String hostVersion) {
        return new ImageService(ImageSettings.defaults(root).withPlatform("windows", "amd64", ""),
                Duration.ofMillis(20), PlatformMatcher.of("windows", "amd64", "", hostVersion));
    }

    private static TestLayers.Layer baseLayer() {
        return new TestLayers.Layer()
                .file("Files/Windows/System32/kernel32.dll", "MZ kernel")
                .file("Files/Windows/System32/cmd.exe", "MZ cmd")
                .file("Hives/SYSTEM", "regf system")
                .file("Hives/SOFTWARE", "regf software")
                .file("UtilityVM/Files/EFI/boot.efi", "uvm");
    }

    private static TestLayers.Layer appLayer() {
        return new TestLayers.Layer()
                .file("Files/app/app.exe", "MZ app")
                .file("Hives/Software_Delta", "regf delta");
    }

    private static Path blob(ImageService s, String digest) {
        return s.root().resolve("content/blobs/sha256").resolve(digest.substring(7));
    }

    /** Snapshot directories besides the reserved empty one. */
    private static List<String> snapshots(ImageService s) throws Exception {
        try (Stream<Path> all = Files.list(s.root().resolve("snapshots"))) {
            return all.map(p -> p.getFileName().toString()).filter(n -> !n.equals("0")).sorted().toList();
        }
    }

    private static void assertKind(Throwable t, Kind kind) {
        assertThat(t).isInstanceOf(BackendException.class);
        assertThat(((BackendException) t).kind()).as(t.getMessage()).isEqualTo(kind);
    }

    @Test
    void aWindowsImageIsKeptAsBlobsRecordedWithItsPlatformAndHandedOverBaseFirst() throws Exception {
        List<byte[][]> layers = TestLayers.layers(baseLayer(), appLayer());
        TestLayers.Pushed pushed = pusher.image("win/app", "ltsc2022", true, "windows", "amd64", "10.0.20348.2227",
                Map.of("User", "ContainerUser", "Cmd", List.of("C:\\app\\app.exe")), layers);
        String[] digests = {TestLayers.sha(layers.get(0)[0]), TestLayers.sha(layers.get(1)[0])};
        String[] diffIds = {TestLayers.sha(layers.get(0)[1]), TestLayers.sha(layers.get(1)[1])};
        Path root = tmp.resolve("store");
        List<MountSpec> rootfs;
        Path scratch;
        try (ImageService s = windowsNode(root, HOST_VERSION)) {
            Image img = s.pull(host + "/win/app:ltsc2022", null);
            assertThat(img.id()).isEqualTo(pushed.configDigest());
            assertThat(img.platform()).isEqualTo(new Image.Platform("windows", "amd64", "10.0.20348.2227"));
            assertThat(img.diffIds()).containsExactly(diffIds);
            // nothing unpacked: no layer snapshot, no layer record; the blobs are there as pulled
            assertThat(snapshots(s)).isEmpty();
            for (int i = 0; i < 2; i++) {
                assertThat(s.layerPath(diffIds[i])).isEmpty();
                assertThat(Files.readAllBytes(blob(s, digests[i]))).isEqualTo(layers.get(i)[0]);
            }
            // ImageStatus: CRI's Image has no platform field; the verbose info carries it
            var status = new dev.berth.core.cri.image.ImageStatus(s).call(dev.berth.cri.v1.ImageStatusRequest
                    .newBuilder().setImage(dev.berth.cri.v1.ImageSpec.newBuilder().setImage(img.id()))
                    .setVerbose(true).build(), new dev.berth.core.cri.RpcContext());
            assertThat(status.getImage().getId()).isEqualTo(img.id());
            JsonNode info = new ObjectMapper().readTree(status.getInfoOrThrow("info"));
            assertThat(info.path("platform").path("os").asText()).isEqualTo("windows");
            assertThat(info.path("platform").path("architecture").asText()).isEqualTo("amd64");
            assertThat(info.path("platform").path("os.version").asText()).isEqualTo("10.0.20348.2227");
            // the image's size and the image file system's usage count the blobs
            long blobBytes = layers.get(0)[0].length + layers.get(1)[0].length;
            assertThat(img.size()).isGreaterThan(blobBytes);
            assertThat(s.usage().imageBytes()).isGreaterThanOrEqualTo(img.size());

            rootfs = s.prepareRootfs("ctr1", img.id());
            assertThat(rootfs).hasSize(3);
            for (int i = 0; i < 2; i++) {
                MountSpec m = rootfs.get(i);
                assertThat(m.type()).isEqualTo(WindowsLayers.LAYER);
                assertThat(m.source()).isEqualTo(blob(s, digests[i]).toString());
                assertThat(m.target()).isEmpty();
                assertThat(m.options()).containsExactly("digest=" + digests[i], "diffid=" + diffIds[i],
                        "mediatype=application/vnd.oci.image.layer.v1.tar+gzip");
            }
            MountSpec last = rootfs.get(2);
            assertThat(last.type()).isEqualTo(WindowsLayers.SCRATCH);
            scratch = Path.of(last.source());
            assertThat(scratch).isEmptyDirectory().startsWith(s.root());
            assertThat(WindowsLayers.layers(rootfs).orElseThrow()).extracting(WindowsLayers.Layer::diffId)
                    .containsExactly(diffIds);
            assertThat(s.prepareRootfs("ctr1", img.id())).isEqualTo(rootfs);
            assertThat(s.writableLayer("ctr1")).isPresent();
            // a second container gets a scratch of its own over the same blobs
            List<MountSpec> other = s.prepareRootfs("ctr2", img.id());
            assertThat(other.subList(0, 2)).isEqualTo(rootfs.subList(0, 2));
            assertThat(other.get(2).source()).isNotEqualTo(scratch.toString());
            s.releaseRootfs("ctr2");
            assertThat(Path.of(other.get(2).source())).doesNotExist();

            // the run config comes from the image; the Windows user is passed on by name, not resolved here
            var cfg = s.imageConfig(img.id(), "");
            assertThat(cfg.user()).isEqualTo("ContainerUser");
            assertThat(cfg.cmd()).containsExactly("C:\\app\\app.exe");
        }

        try (ImageService s = windowsNode(root, HOST_VERSION)) {
            Image img = s.find(host + "/win/app:ltsc2022").orElseThrow();
            assertThat(img.platform()).isEqualTo(new Image.Platform("windows", "amd64", "10.0.20348.2227"));
            assertThat(s.rootfsKeys()).containsExactly("ctr1");
            assertThat(s.prepareRootfs("ctr1", img.id())).isEqualTo(rootfs);
            assertThat(scratch).isDirectory();

            // GC keeps the blobs while the image exists
            s.garbageCollect();
            for (String d : digests) {
                assertThat(blob(s, d)).exists();
            }
            // ... and while a container made from it exists, even with the image gone
            s.remove(img.id());
            assertThat(s.list()).isEmpty();
            s.garbageCollect();
            for (String d : digests) {
                assertThat(blob(s, d)).exists();
            }
            s.releaseRootfs("ctr1");
            assertThat(scratch).doesNotExist();
            assertThat(snapshots(s)).isEmpty();
            s.garbageCollect();
            for (String d : digests) {
                assertThat(blob(s, d)).doesNotExist();
            }
            try (Stream<Path> blobs = Files.list(s.root().resolve("content/blobs/sha256"))) {
                assertThat(blobs.toList()).isEmpty();
            }
        }
    }

    @Test
    void removingAWindowsImageWithoutContainersFreesItsBlobs() throws Exception {
        List<byte[][]> layers = TestLayers.layers(baseLayer());
        pusher.image("win/rm", "1", false, "windows", "amd64", "10.0.20348.1", Map.of(), layers);
        String digest = TestLayers.sha(layers.get(0)[0]);
        try (ImageService s = windowsNode(tmp.resolve("store"), HOST_VERSION)) {
            Image img = s.pull(host + "/win/rm:1", null);
            s.garbageCollect();
            assertThat(blob(s, digest)).exists();
            s.remove(img.id());
            assertThat(blob(s, digest)).doesNotExist();
            assertThat(snapshots(s)).isEmpty();
        }
    }

    @Test
    void aSingleManifestForABuildTheHostCannotRunIsRefusedAtPull() throws Exception {
        pusher.image("win/old", "ltsc2019", false, "windows", "amd64", "10.0.17763.5329", Map.of(),
                TestLayers.layers(baseLayer()));
        pusher.image("win/new", "ltsc2025", false, "windows", "amd64", "10.0.26100.1", Map.of(),
                TestLayers.layers(appLayer()));
        try (ImageService s = windowsNode(tmp.resolve("store"), HOST_VERSION)) {
            assertThatThrownBy(() -> s.pull(host + "/win/old:ltsc2019", null))
                    .satisfies(e -> assertKind(e, Kind.FAILED_PRECONDITION))
                    .hasMessageContaining("10.0.17763.5329").hasMessageContaining(HOST_VERSION);
            assertThatThrownBy(() -> s.pull(host + "/win/new:ltsc2025", null))
                    .satisfies(e -> assertKind(e, Kind.FAILED_PRECONDITION))
                    .hasMessageContaining("10.0.26100.1").hasMessageContaining(HOST_VERSION);
            assertThat(s.list()).isEmpty();
            try (Stream<Path> blobs = Files.list(s.root().resolve("content/blobs/sha256"))) {
                assertThat(blobs.toList()).as("a refused pull leaves nothing").isEmpty();
            }
        }
        // an older host runs only its own build
        try (ImageService s = windowsNode(tmp.resolve("store2019"), "10.0.17763.6054")) {
            assertThat(s.pull(host + "/win/old:ltsc2019", null).platform().osVersion()).isEqualTo("10.0.17763.5329");
            assertThatThrownBy(() -> s.pull(host + "/win/new:ltsc2025", null))
                    .satisfies(e -> assertKind(e, Kind.FAILED_PRECONDITION));
        }
        // a Linux node refuses Windows images by platform, as before
        try (ImageService s = new ImageService(ImageSettings.defaults(tmp.resolve("linux"))
                .withPlatform("linux", "amd64", ""), Duration.ofMillis(20))) {
            assertThatThrownBy(() -> s.pull(host + "/win/old:ltsc2019", null))
                    .satisfies(e -> assertKind(e, Kind.FAILED_PRECONDITION)).hasMessageContaining("windows/amd64");
        }
    }

    @Test
    void aWindowsLayerWhoseBlobDoesNotMatchItsDiffIdIsRefused() throws Exception {
        byte[] real = baseLayer().tar();
        byte[] claimed = appLayer().tar();
        pusher.image("win/lie", "1", false, "windows", "amd64", "", Map.of(),
                java.util.Collections.singletonList(new byte[][] {TestLayers.gzip(real), claimed}));
        try (ImageService s = windowsNode(tmp.resolve("store"), HOST_VERSION)) {
            assertThatThrownBy(() -> s.pull(host + "/win/lie:1", null))
                    .satisfies(e -> assertKind(e, Kind.INVALID_ARGUMENT))
                    .hasMessageContaining(TestLayers.sha(claimed)).hasMessageContaining(TestLayers.sha(real));
            assertThat(s.list()).isEmpty();
        }
    }

    @Test
    void linuxImagesAreUnpackedAsBeforeAndOldMetadataStillLoads() throws Exception {
        List<byte[][]> layers = TestLayers.layers(new TestLayers.Layer().file("bin/tool", "t"));
        pusher.image("lin/app", "1", false, "amd64", Map.of(), layers);
        String diffId = TestLayers.sha(layers.get(0)[1]);
        Path root = tmp.resolve("store");
        List<MountSpec> rootfs;
        try (ImageService s = new ImageService(ImageSettings.defaults(root).withPlatform("linux", "amd64", ""),
                Duration.ofMillis(20))) {
            Image img = s.pull(host + "/lin/app:1", null);
            assertThat(img.platform()).isEqualTo(new Image.Platform("linux", "amd64", ""));
            assertThat(s.layerPath(diffId)).isPresent();
            rootfs = s.prepareRootfs("c", img.id());
            assertThat(rootfs).singleElement().extracting(MountSpec::type).isEqualTo("overlay");
        }
        // metadata written before platforms, media types and container blobs were recorded
        ObjectMapper json = new ObjectMapper();
        Path file = root.resolve("metadata.json");
        JsonNode state = json.readTree(file.toFile());
        state.path("images").forEach(i -> ((ObjectNode) i).remove(List.of("platform", "layerMediaTypes")));
        state.path("containers").forEach(c -> ((ObjectNode) c).remove("blobs"));
        json.writeValue(file.toFile(), state);
        assertThat(Files.readString(file)).doesNotContain("platform").doesNotContain("blobs");
        try (ImageService s = new ImageService(ImageSettings.defaults(root).withPlatform("linux", "amd64", ""),
                Duration.ofMillis(20))) {
            Image img = s.find(host + "/lin/app:1").orElseThrow();
            assertThat(img.platform()).isEqualTo(Image.Platform.UNKNOWN);
            assertThat(s.prepareRootfs("c", img.id())).isEqualTo(rootfs);
            s.garbageCollect();
            assertThat(s.layerPath(diffId)).isPresent();
            s.releaseRootfs("c");
            s.remove(img.id());
            assertThat(s.layerPath(diffId)).isEmpty();
        }
    }
}
