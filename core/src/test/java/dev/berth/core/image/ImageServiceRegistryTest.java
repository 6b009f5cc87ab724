package dev.berth.core.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.config.BerthConfig;
import dev.berth.core.metrics.Metrics;
import dev.berth.core.metrics.MetricsScrape;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import dev.berth.spi.ImageConfig;
import dev.berth.spi.MountSpec;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The image service against a real docker-registry on 127.0.0.1, with images the tests build and push. */
class ImageServiceRegistryTest {
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

    private ImageService service(ImageSettings settings) {
        return new ImageService(settings, Duration.ofMillis(20));
    }

    private ImageService service() {
        return service(ImageSettings.defaults(tmp.resolve("store")));
    }

    private static Map<String, Object> run(String user) {
        return Map.of("User", user, "Env", List.of("PATH=/bin", "A=b"), "Entrypoint", List.of("/bin/tool"),
                "Cmd", List.of("serve"), "WorkingDir", "/srv", "StopSignal", "SIGQUIT", "Labels", Map.of("k", "v"));
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static void assertKind(Throwable t, Kind kind) {
        assertThat(t).isInstanceOf(BackendException.class);
        assertThat(((BackendException) t).kind()).as(t.getMessage()).isEqualTo(kind);
    }

    /** Only the reserved empty snapshot and those the store knows; nothing in ingest. */
    private static void assertNoLeftovers(ImageService s, int expectedSnapshots) throws Exception {
        try (Stream<Path> in = Files.list(s.root().resolve("content/ingest"))) {
            assertThat(in.toList()).isEmpty();
        }
        try (Stream<Path> snaps = Files.list(s.root().resolve("snapshots"))) {
            List<Path> all = snaps.toList();
            StringBuilder sb = new StringBuilder();
            for (Path p : all) {
                sb.append(p.getFileName()).append(": ").append(TestTrees.describe(p)).append('\n');
            }
            assertThat(all).as(sb.toString()).hasSize(expectedSnapshots + 1);
        }
    }

    // ------------------------------------------------------------------------------------------ multi-layer

    @Test
    void pullsAMultiLayerImageUnpacksEachLayerExactlyAndMountsIt() throws Exception {
        TestLayers.Layer base = new TestLayers.Layer()
                .dir("etc", 0755, 0, 0)
                .file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n")
                .file("etc/group", "root:x:0:\napp:x:1000:\nstaff:x:2000:app,other\nwheel:x:10:root\n")
                .file("bin/tool", "#!/bin/sh\n".getBytes(StandardCharsets.UTF_8), 04755, 0, 0)
                .symlink("bin/sh", "tool")
                .file("var/cache/a", "a").file("var/cache/b", "b")
                .file("old/file", "old")
                .chr("dev/null", 1, 3)
                .dir("home/app", 0700, 1000, 1000)
                .file("home/app/big", random(300_000, 1), 0600, 1000, 1000);
        TestLayers.Layer middle = new TestLayers.Layer()
                .whiteout("old")
                .opaque("var/cache")
                .file("var/cache/c", "c")
                .file("bin/tool3", "three")
                .hardlink("bin/tool4", "bin/tool3");
        TestLayers.Layer top = new TestLayers.Layer()
                .file("etc/motd", "hello\n")
                .whiteout("var/cache/c");
        List<byte[][]> layers = TestLayers.layers(base, middle, top);
        TestLayers.Pushed pushed = pusher.image("multi", "v1", false, "amd64", run("app"), layers);

        try (ImageService s = service()) {
            Image img = s.pull(host + "/multi:v1", RegistryCredentials.NONE);
            assertThat(img.id()).isEqualTo(pushed.configDigest());
            assertThat(img.repoTags()).containsExactly(host + "/multi:v1");
            assertThat(img.repoDigests()).containsExactly(host + "/multi@" + pushed.manifestDigest());
            assertThat(img.size()).isEqualTo(pushed.size());
            assertThat(img.user()).isEqualTo("app");
            assertThat(img.username()).isEqualTo("app");
            assertThat(img.uid()).isEmpty();
            assertThat(s.manifestJson(img)).contains(pushed.configDigest());
            assertThat(s.configJson(img)).contains("diff_ids");
            // each layer's directory holds exactly what its tar holds, entry by entry
            TestLayers.Layer[] all = {base, middle, top};
            for (int i = 0; i < 3; i++) {
                Path dir = s.layerPath(TestLayers.sha(layers.get(i)[1])).orElseThrow();
                assertThat(TestTrees.describe(dir)).as("layer " + i).isEqualTo(all[i].expected);
            }
            Path mid = s.layerPath(TestLayers.sha(layers.get(1)[1])).orElseThrow();
            assertThat(LayerUnpackerTest.xattr(mid.resolve("var/cache"), "trusted.overlay.opaque")).isEqualTo("y");

            ImageConfig cfg = s.imageConfig(host + "/multi:v1", "");
            assertThat(cfg.imageId()).isEqualTo(img.id());
            assertThat(cfg.entrypoint()).containsExactly("/bin/tool");
            assertThat(cfg.cmd()).containsExactly("serve");
            assertThat(cfg.env()).containsExactly("PATH=/bin", "A=b");
            assertThat(cfg.workingDir()).isEqualTo("/srv");
            assertThat(cfg.stopSignal()).isEqualTo("SIGQUIT");
            assertThat(cfg.labels()).containsEntry("k", "v");
            assertThat(cfg.user()).isEqualTo("app");
            assertThat(cfg.resolvedUid()).isEqualTo(1000);
            assertThat(cfg.resolvedGid()).isEqualTo(1000);
            assertThat(cfg.additionalGids()).containsExactly(2000L);
            ImageConfig root = s.imageConfig(img.id(), "root");
            assertThat(root.resolvedUid()).isZero();
            assertThat(root.additionalGids()).containsExactly(10L);
            ImageConfig numeric = s.imageConfig(img.id(), "1234:staff");
            assertThat(numeric.resolvedUid()).isEqualTo(1234);
            assertThat(numeric.resolvedGid()).isEqualTo(2000);
            assertThatThrownBy(() -> s.imageConfig(img.id(), "nobody"))
                    .satisfies(e -> assertKind(e, Kind.FAILED_PRECONDITION)).hasMessageContaining("\"nobody\"");

            // the container's root file system, mounted as the backend would
            List<MountSpec> mounts = s.prepareRootfs("ctr1", img.id());
            assertThat(s.prepareRootfs("ctr1", host + "/multi:v1")).isEqualTo(mounts);
            assertThat(mounts).singleElement().satisfies(m -> {
                assertThat(m.type()).isEqualTo("overlay");
                assertThat(m.target()).isEmpty();
                boolean volatileLayer = RootfsSnapshots.kernelHasVolatile(System.getProperty("os.version"));
                assertThat(m.options()).hasSize(volatileLayer ? 4 : 3);
                assertThat(m.options().contains("volatile")).isEqualTo(volatileLayer);
                assertThat(m.options().getFirst()).startsWith("lowerdir=").contains(":");
            });
            Path merged = Files.createDirectories(tmp.resolve("merged"));
            exec("mount", "-t", "overlay", "overlay", "-o", String.join(",", mounts.getFirst().options()),
                    merged.toString());
            try {
                assertThat(merged.resolve("old")).doesNotExist();
                try (Stream<Path> cache = Files.list(merged.resolve("var/cache"))) {
                    assertThat(cache.map(p -> p.getFileName().toString()).toList()).isEmpty();
                }
                assertThat(Files.readString(merged.resolve("etc/motd"))).isEqualTo("hello\n");
                assertThat(Files.readString(merged.resolve("bin/tool4"))).isEqualTo("three");
                assertThat(Files.readSymbolicLink(merged.resolve("bin/sh"))).hasToString("tool");
                assertThat(Files.readAllBytes(merged.resolve("home/app/big"))).isEqualTo(random(300_000, 1));
                Files.writeString(merged.resolve("new-file"), "written by the container");
                assertThat(s.usage().containerBytes()).isGreaterThanOrEqualTo("written by the container".length());
            } finally {
                exec("umount", merged.toString());
            }
            FsUsage usage = s.usage();
            assertThat(usage.imageBytes()).isGreaterThan(300_000);
            assertThat(usage.imageInodes()).isGreaterThan(10);
            assertThatThrownBy(() -> s.prepareRootfs("ctr1", "sha256:" + "0".repeat(64)))
                    .satisfies(e -> assertKind(e, Kind.NOT_FOUND));
            s.releaseRootfs("ctr1");
            s.releaseRootfs("ctr1");
            assertThat(s.usage().containerBytes()).isZero();
            assertNoLeftovers(s, 3);
        }
    }

    @Test
    void theSettingsCanAskForWritableLayersWithoutVolatile() throws Exception {
        pusher.image("synced", "1", false, "amd64", Map.of(), TestLayers.layers(new TestLayers.Layer().file("a", "a")));
        try (ImageService s = service(ImageSettings.defaults(tmp.resolve("store")).withVolatileRootfs(false))) {
            Image img = s.pull(host + "/synced:1", RegistryCredentials.NONE);
            assertThat(s.prepareRootfs("ctr1", img.id())).singleElement().satisfies(m -> assertThat(m.options())
                    .doesNotContain("volatile").anyMatch(o -> o.startsWith("upperdir=")));
        }
    }

    static void exec(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
    }

    // ------------------------------------------------------------------------------- formats and platforms

    @Test
    void dockerSchema2AndOciIndexOfTheSameImageShareContent() throws Exception {
        List<byte[][]> layers = TestLayers.layers(new TestLayers.Layer().file("hello", "world"));
        TestLayers.Pushed docker = pusher.image("formats", "docker", false, "amd64", run(""), layers);
        TestLayers.Pushed oci = pusher.image("formats", null, true, "amd64", run(""), layers);
        String index = pusher.index("formats", "oci", true, List.of(oci), List.of("linux/amd64"));
        try (ImageService s = service()) {
            Image a = s.pull(host + "/formats:docker", RegistryCredentials.NONE);
            Image b = s.pull(host + "/formats:oci", null);
            assertThat(b.id()).isEqualTo(a.id()).isEqualTo(docker.configDigest());
            assertThat(b.manifestDigest()).isEqualTo(oci.manifestDigest());
            assertThat(s.list()).singleElement().satisfies(i -> {
                assertThat(i.repoTags()).containsExactlyInAnyOrder(host + "/formats:docker", host + "/formats:oci");
                assertThat(i.repoDigests()).containsExactlyInAnyOrder(host + "/formats@" + docker.manifestDigest(),
                        host + "/formats@" + index);
            });
            Image byDigest = s.pull(host + "/formats@" + index, null);
            assertThat(byDigest.id()).isEqualTo(a.id());
            for (String q : List.of(host + "/formats:oci", host + "/formats@" + index, a.id(),
                    a.id().substring(7, 19), a.id().substring(0, 20))) {
                assertThat(s.find(q)).as(q).map(Image::id).contains(a.id());
            }
            assertThat(s.find(host + "/formats:other")).isEmpty();
            assertNoLeftovers(s, 1);

            // zstd and uncompressed layers
            TestLayers.Layer zl = new TestLayers.Layer().file("z/data", random(70_000, 5), 0640, 7, 8);
            byte[] ztar = zl.tar();
            byte[] zstd = com.github.luben.zstd.Zstd.compress(ztar);
            TestLayers.Layer pl = new TestLayers.Layer().file("plain", "p");
            byte[] ptar = pl.tar();
            pusher.image("formats", "zstd", true, "amd64", run(""),
                    List.of(new byte[][] {zstd, ztar}, new byte[][] {ptar, ptar}));
            Image z = s.pull(host + "/formats:zstd", null);
            assertThat(TestTrees.describe(s.layerPath(TestLayers.sha(ztar)).orElseThrow())).isEqualTo(zl.expected);
            assertThat(TestTrees.describe(s.layerPath(TestLayers.sha(ptar)).orElseThrow())).isEqualTo(pl.expected);
            assertThat(s.list()).hasSize(2).extracting(Image::id).contains(z.id());

            // ListImages' filter: a repository named alone, as `crictl images <repo>` sends it, lists its images
            assertThat(s.matching(host + "/formats")).extracting(Image::id).containsExactlyInAnyOrder(a.id(), z.id());
            assertThat(s.matching(host + "/formats:zstd")).extracting(Image::id).containsExactly(z.id());
            assertThat(s.matching(host + "/formats@" + index)).extracting(Image::id).containsExactly(a.id());
            assertThat(s.matching(a.id().substring(7, 19))).extracting(Image::id).containsExactly(a.id());
            assertThat(s.matching(host + "/formats:none")).isEmpty();
            assertThat(s.matching(host + "/format")).isEmpty();
        }
    }

    @Test
    void selectsTheNodePlatformFromAMultiArchList() throws Exception {
        List<TestLayers.Pushed> ms = new ArrayList<>();
        List<String> platforms = List.of("linux/arm/v7", "linux/amd64", "linux/arm64/v8", "windows/amd64");
        for (String p : platforms) {
            ms.add(pusher.image("multiarch", null, false, p.split("/")[1], run(""),
                    TestLayers.layers(new TestLayers.Layer().file("platform", p))));
        }
        String list = pusher.index("multiarch", "latest", false, ms, platforms);
        try (ImageService s = service()) {
            Image img = s.pull(host + "/multiarch", null);
            assertThat(img.id()).isEqualTo(ms.get(1).configDigest());
            assertThat(img.repoDigests()).containsExactly(host + "/multiarch@" + list);
            assertThat(img.repoTags()).containsExactly(host + "/multiarch:latest");
        }
        try (ImageService s = service(ImageSettings.defaults(tmp.resolve("arm")).withPlatform("linux", "arm64", "v8"))) {
            assertThat(s.pull(host + "/multiarch:latest", null).id()).isEqualTo(ms.get(2).configDigest());
        }
        try (ImageService s = service(ImageSettings.defaults(tmp.resolve("s390")).withPlatform("linux", "s390x", ""))) {
            assertThatThrownBy(() -> s.pull(host + "/multiarch:latest", null))
                    .satisfies(e -> assertKind(e, Kind.FAILED_PRECONDITION))
                    .hasMessageContaining("linux/s390x").hasMessageContaining("linux/arm64/v8");
            assertThat(s.list()).isEmpty();
            // a single-platform image for another architecture is refused as well
            pusher.image("onlyarm", "1", false, "arm64", Map.of(), TestLayers.layers(new TestLayers.Layer().file("a", "a")));
            assertThatThrownBy(() -> s.pull(host + "/onlyarm:1", null))
                    .satisfies(e -> assertKind(e, Kind.FAILED_PRECONDITION)).hasMessageContaining("linux/arm64");
            assertThat(s.list()).isEmpty();
        }
    }

    // --------------------------------------------------------------------------------- hosts.toml mirrors

    @Test
    void pullsPublicNamesThroughAHostsTomlMirror() throws Exception {
        TestLayers.Pushed pause = pusher.image("pause", "3.9", false, "amd64", Map.of("Entrypoint", List.of("/pause")),
                TestLayers.layers(new TestLayers.Layer().file("pause", "p")));
        TestLayers.Pushed busybox = pusher.image("library/busybox", "1.36", true, "amd64", Map.of(),
                TestLayers.layers(new TestLayers.Layer().file("bin/busybox", "bb")));
        Path certs = tmp.resolve("certs.d");
        for (String h : List.of("registry.k8s.io", "docker.io")) {
            Files.createDirectories(certs.resolve(h));
            Files.writeString(certs.resolve(h).resolve("hosts.toml"), """
                    server = "%s"
                    [host."%s"]
                      capabilities = ["pull", "resolve"]
                    """.formatted(registry.url(), registry.url()));
        }
        ImageSettings settings = ImageSettings.defaults(tmp.resolve("store")).withRegistryConfigPath(certs)
                .withSandboxImage("registry.k8s.io/pause:3.9");
        Metrics metrics = Metrics.fromConfig(new BerthConfig.Metrics("127.0.0.1:0"));
        try (ImageService s = new ImageService(settings, metrics)) {
            Image p = s.pull("registry.k8s.io/pause:3.9", null);
            assertThat(p.id()).isEqualTo(pause.configDigest());
            assertThat(p.repoTags()).containsExactly("registry.k8s.io/pause:3.9");
            assertThat(p.pinned()).isTrue();
            Image b = s.pull("busybox:1.36", null);
            assertThat(b.id()).isEqualTo(busybox.configDigest());
            assertThat(b.repoTags()).containsExactly("docker.io/library/busybox:1.36");
            assertThat(b.repoDigests()).containsExactly("docker.io/library/busybox@" + busybox.manifestDigest());
            assertThat(b.pinned()).isFalse();
            assertThat(s.find("docker.io/library/busybox:1.36")).isPresent();
            assertThat(s.find("library/busybox:1.36")).isPresent();
            s.pin(b.id(), true);
            assertThat(s.find(b.id()).orElseThrow().pinned()).isTrue();
            assertThatThrownBy(() -> s.pull("registry.k8s.io/pause:no-such-tag", null))
                    .satisfies(e -> assertKind(e, Kind.NOT_FOUND)).hasMessageContaining("not found");

            String text = MetricsScrape.text(metrics);
            assertThat(MetricsScrape.value(text, "berth_image_pull_duration_seconds_count", "result=\"success\""))
                    .isEqualTo(2);
            assertThat(MetricsScrape.value(text, "berth_image_pull_duration_seconds_count", "result=\"not_found\""))
                    .isEqualTo(1);
            assertThat(MetricsScrape.value(text, "berth_image_layer_unpack_duration_seconds_count")).isEqualTo(2);
            assertThat(MetricsScrape.value(text, "berth_image_pull_bytes_total")).isPositive();
            assertThat(MetricsScrape.value(text, "berth_images")).isEqualTo(2);
            assertThat(MetricsScrape.value(text, "berth_image_content_store_bytes")).isPositive();
            assertThat(MetricsScrape.value(text, "berth_image_snapshots_bytes")).isPositive();
        }
    }

    @Test
    void mirrorsAreTriedInOrderWithTheirHeaders() throws Exception {
        TestLayers.Pushed img = pusher.image("mirrored/app", "1", false, "amd64", Map.of(),
                TestLayers.layers(new TestLayers.Layer().file("m", "m")));
        int dead = TestRegistry.freePort();
        Path certs = tmp.resolve("certs.d");
        try (RegistryProxy proxy = new RegistryProxy(registry.url())) {
            Files.createDirectories(certs.resolve("example.invalid"));
            Files.writeString(certs.resolve("example.invalid").resolve("hosts.toml"), """
                    server = "http://127.0.0.1:%d"
                    [host."http://127.0.0.1:%d"]
                      capabilities = ["pull", "resolve"]
                    [host."%s"]
                      capabilities = ["pull", "resolve"]
                      [host."%s".header]
                        X-Berth-Test = "from-hosts-toml"
                    """.formatted(dead, dead, proxy.url(), proxy.url()));
            try (ImageService s = service(ImageSettings.defaults(tmp.resolve("store")).withRegistryConfigPath(certs))) {
                Image got = s.pull("example.invalid/mirrored/app:1", null);
                assertThat(got.id()).isEqualTo(img.configDigest());
                assertThat(got.repoTags()).containsExactly("example.invalid/mirrored/app:1");
                assertThat(proxy.lastTestHeader).isEqualTo("from-hosts-toml");
                assertThat(proxy.blobGets).hasSize(2);
            }
        }
    }

    @Test
    void httpsRegistriesWithAConfiguredCaOrSkipVerify() throws Exception {
        TestLayers.Pushed img = pusher.image("tls/app", "1", false, "amd64", Map.of(),
                TestLayers.layers(new TestLayers.Layer().file("t", "t")));
        Path keys = Files.createDirectories(tmp.resolve("keys"));
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        exec(keytool, "-genkeypair", "-alias", "reg", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1", "-validity", "2",
                "-keystore", keys.resolve("ks.p12").toString(), "-storetype", "PKCS12",
                "-storepass", "changeit", "-keypass", "changeit");
        exec(keytool, "-exportcert", "-rfc", "-alias", "reg", "-keystore", keys.resolve("ks.p12").toString(),
                "-storepass", "changeit", "-file", keys.resolve("ca.pem").toString());
        java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(keys.resolve("ks.p12"))) {
            ks.load(in, "changeit".toCharArray());
        }
        javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance("SunX509");
        kmf.init(ks, "changeit".toCharArray());
        javax.net.ssl.SSLContext ssl = javax.net.ssl.SSLContext.getInstance("TLS");
        ssl.init(kmf.getKeyManagers(), null, null);
        try (RegistryProxy proxy = new RegistryProxy(registry.url(), ssl)) {
            Path certs = tmp.resolve("certs.d");
            Map<String, String> configs = Map.of(
                    "with-ca.invalid", "server = \"" + proxy.url() + "\"\nca = \"" + keys.resolve("ca.pem") + "\"\n",
                    "skip.invalid", "server = \"" + proxy.url() + "\"\nskip_verify = true\n",
                    "untrusted.invalid", "server = \"" + proxy.url() + "\"\n");
            for (var c : configs.entrySet()) {
                Files.createDirectories(certs.resolve(c.getKey()));
                Files.writeString(certs.resolve(c.getKey()).resolve("hosts.toml"), c.getValue());
            }
            try (ImageService s = service(ImageSettings.defaults(tmp.resolve("store")).withRegistryConfigPath(certs))) {
                assertThatThrownBy(() -> s.pull("untrusted.invalid/tls/app:1", null))
                        .satisfies(e -> assertKind(e, Kind.UNAVAILABLE));
                assertThat(s.pull("with-ca.invalid/tls/app:1", null).id()).isEqualTo(img.configDigest());
                assertThat(s.pull("skip.invalid/tls/app:1", null).id()).isEqualTo(img.configDigest());
            }
        }
    }

    @Test
    void unreachableRegistryIsUnavailable() throws Exception {
        int port = TestRegistry.freePort();
        try (ImageService s = service()) {
            assertThatThrownBy(() -> s.pull("127.0.0.1:" + port + "/x:1", null))
                    .satisfies(e -> assertKind(e, Kind.UNAVAILABLE)).hasMessageContaining("127.0.0.1:" + port);
            assertThatThrownBy(() -> s.pull("Bad/Name", null)).satisfies(e -> assertKind(e, Kind.INVALID_ARGUMENT));
            assertThatThrownBy(() -> s.imageConfig("nope", "")).satisfies(e -> assertKind(e, Kind.NOT_FOUND));
        }
    }

    // ------------------------------------------------------------------------------------------------ auth

    @Test
    void tokenAuthInFrontOfTheRegistry() throws Exception {
        TestLayers.Pushed img = pusher.image("private/app", "1", false, "amd64", Map.of(),
                TestLayers.layers(new TestLayers.Layer().file("secret", "s")));
        try (RegistryProxy proxy = new RegistryProxy(registry.url()); ImageService s = service()) {
            proxy.requireToken = true;
            proxy.tokenUser = "alice";
            proxy.tokenPassword = "wonderland";
            String ref = proxy.hostPort() + "/private/app:1";
            assertThatThrownBy(() -> s.pull(ref, null)).satisfies(e -> assertKind(e, Kind.FAILED_PRECONDITION))
                    .hasMessageContaining("token server").hasMessageContaining("401");
            assertThatThrownBy(() -> s.pull(ref, RegistryCredentials.basic("alice", "wrong")))
                    .satisfies(e -> assertKind(e, Kind.FAILED_PRECONDITION));
            assertThat(s.pull(ref, RegistryCredentials.basic("alice", "wonderland")).id()).isEqualTo(img.configDigest());
            assertThat(proxy.tokensIssued.get()).isGreaterThanOrEqualTo(1);
            assertThat(s.list()).hasSize(1);
            // a registry token from the request is sent as it is
            s.remove(ref);
            s.garbageCollect();
            proxy.addToken("given-by-kubelet");
            int issued = proxy.tokensIssued.get();
            assertThat(s.pull(ref, new RegistryCredentials("", "", "", "", "given-by-kubelet")).id())
                    .isEqualTo(img.configDigest());
            assertThat(proxy.tokensIssued.get()).isEqualTo(issued);
            // blobs redirected to storage that refuses an Authorization header
            s.remove(ref);
            s.garbageCollect();
            proxy.redirectBlobs = true;
            assertThat(s.pull(ref, RegistryCredentials.basic("alice", "wonderland")).id()).isEqualTo(img.configDigest());
            assertThat(proxy.cdnGets.get()).isEqualTo(2);
        }
    }

    @Test
    void basicAuthWithARealHtpasswdRegistry() throws Throwable {
        String htpasswd = "bob:" + bcrypt("builder") + "\n";
        try (TestRegistry secured = TestRegistry.start(htpasswd)) {
            TestLayers.Pusher p = new TestLayers.Pusher(secured.url(), "bob", "builder");
            TestLayers.Pushed img = p.image("team/app", "2", true, "amd64", Map.of(),
                    TestLayers.layers(new TestLayers.Layer().file("x", "y")));
            try (ImageService s = service()) {
                String ref = secured.hostPort() + "/team/app:2";
                assertThatThrownBy(() -> s.pull(ref, null)).satisfies(e -> assertKind(e, Kind.FAILED_PRECONDITION))
                        .hasMessageContaining("requires credentials");
                assertThatThrownBy(() -> s.pull(ref, RegistryCredentials.basic("bob", "nope")))
                        .satisfies(e -> assertKind(e, Kind.FAILED_PRECONDITION)).hasMessageContaining("401");
                String auth = Base64.getEncoder().encodeToString("bob:builder".getBytes(StandardCharsets.UTF_8));
                Image got = s.pull(ref, new RegistryCredentials("", "", auth, "", ""));
                assertThat(got.id()).isEqualTo(img.configDigest());
            }
        }
    }

    /** bcrypt through the system's libcrypt (libxcrypt), since htpasswd is not installed. */
    @SuppressWarnings("restricted")
    static String bcrypt(String password) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup lib = SymbolLookup.libraryLookup("libcrypt.so.1", arena);
            Linker linker = Linker.nativeLinker();
            MethodHandle gensalt = linker.downcallHandle(lib.find("crypt_gensalt").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                            ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            MethodHandle crypt = linker.downcallHandle(lib.find("crypt").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
            MemorySegment salt = (MemorySegment) gensalt.invokeExact(arena.allocateFrom("$2y$"), 5L,
                    MemorySegment.NULL, 0);
            String saltText = salt.reinterpret(128).getString(0);
            MemorySegment hash = (MemorySegment) crypt.invokeExact(arena.allocateFrom(password),
                    arena.allocateFrom(saltText));
            String h = hash.reinterpret(128).getString(0);
            assertThat(h).startsWith("$2");
            return h;
        }
    }

    // ---------------------------------------------------------------------------------- dedup and restart

    @Test
    void concurrentPullsOfOneReferenceDownloadOnce() throws Exception {
        List<byte[][]> layers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            layers.add(TestLayers.gz(new TestLayers.Layer().file("f" + i, random(200_000, i + 10), 0644, 0, 0)));
        }
        TestLayers.Pushed img = pusher.image("dedup", "1", false, "amd64", Map.of(), layers);
        try (RegistryProxy proxy = new RegistryProxy(registry.url()); ImageService s = service();
             ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            proxy.throttle = 2_000_000;
            List<Future<Image>> pulls = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                pulls.add(pool.submit(() -> s.pull(proxy.hostPort() + "/dedup:1", null)));
            }
            for (Future<Image> f : pulls) {
                assertThat(f.get(120, TimeUnit.SECONDS).id()).isEqualTo(img.configDigest());
            }
            for (byte[][] l : layers) {
                assertThat(proxy.blobGets.get(TestLayers.sha(l[0])).get()).isEqualTo(1);
            }
            // the same layers under another name are not downloaded again
            pusher.image("dedup2", "1", true, "amd64", Map.of("User", "1:2"), layers);
            Image second = s.pull(proxy.hostPort() + "/dedup2:1", null);
            assertThat(second.uid()).hasValue(1);
            assertThat(second.username()).isEmpty();
            for (byte[][] l : layers) {
                assertThat(proxy.blobGets.get(TestLayers.sha(l[0])).get()).isEqualTo(1);
            }
            assertThat(s.list()).hasSize(2);
            assertNoLeftovers(s, 3);
        }
    }

    @Test
    void imagesSurviveARestartAndRemovalCollectsContent() throws Exception {
        TestLayers.Pushed img = pusher.image("restart", "1", false, "amd64", run(""),
                TestLayers.layers(new TestLayers.Layer().file("a", "1"), new TestLayers.Layer().file("b", "2")));
        ImageSettings settings = ImageSettings.defaults(tmp.resolve("store"));
        try (ImageService s = service(settings)) {
            s.pull(host + "/restart:1", null);
            s.prepareRootfs("c1", host + "/restart:1");
        }
        try (ImageService s = service(settings)) {
            Image again = s.find(host + "/restart:1").orElseThrow();
            assertThat(again.id()).isEqualTo(img.configDigest());
            assertThat(again.repoDigests()).containsExactly(host + "/restart@" + img.manifestDigest());
            assertThat(s.imageConfig(again.id(), "").cmd()).containsExactly("serve");
            assertThat(s.prepareRootfs("c1", again.id())).hasSize(1);
            s.remove(host + "/restart:1");
            s.remove(host + "/restart:1");
            s.remove(again.id());
            assertThat(s.list()).isEmpty();
            // the container still uses the layers
            assertNoLeftovers(s, 3);
            s.releaseRootfs("c1");
            s.garbageCollect();
            assertNoLeftovers(s, 0);
            try (Stream<Path> blobs = Files.list(s.root().resolve("content/blobs/sha256"))) {
                assertThat(blobs.toList()).isEmpty();
            }
        }
        try (ImageService s = service(settings)) {
            assertThat(s.list()).isEmpty();
            assertThat(s.pull(host + "/restart:1", null).id()).isEqualTo(img.configDigest());
        }
    }

    @Test
    void aPullKilledHalfWayLeavesNoPartialImage() throws Exception {
        List<byte[][]> layers = List.of(TestLayers.gz(new TestLayers.Layer().file("small", "s")),
                TestLayers.gz(new TestLayers.Layer().file("big", random(3_000_000, 7), 0644, 0, 0)));
        TestLayers.Pushed img = pusher.image("killed", "1", false, "amd64", Map.of(), layers);
        Path root = tmp.resolve("store");
        try (RegistryProxy proxy = new RegistryProxy(registry.url())) {
            proxy.throttle = 300_000;
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process child = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                    System.getProperty("java.class.path"), PullMain.class.getName(), root.toString(),
                    proxy.hostPort() + "/killed:1").redirectErrorStream(true)
                    .redirectOutput(tmp.resolve("child.log").toFile()).start();
            try {
                Path ingest = root.resolve("content/ingest");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                while (!partial(ingest)) {
                    assertThat(child.isAlive()).as("child still pulling: " + log()).isTrue();
                    assertThat(System.nanoTime()).as("the download never started").isLessThan(deadline);
                    Thread.sleep(20);
                }
            } finally {
                child.destroyForcibly();
                child.waitFor(30, TimeUnit.SECONDS);
            }
        }
        try (ImageService s = service(ImageSettings.defaults(root))) {
            assertThat(s.list()).isEmpty();
            try (Stream<Path> in = Files.list(root.resolve("content/ingest"))) {
                assertThat(in.toList()).isEmpty();
            }
            assertThat(s.pull(host + "/killed:1", null).id()).isEqualTo(img.configDigest());
            assertNoLeftovers(s, 2);
        }
    }

    private String log() {
        try {
            return Files.readString(tmp.resolve("child.log"));
        } catch (Exception e) {
            return "";
        }
    }

    private static boolean partial(Path ingest) throws Exception {
        if (!Files.isDirectory(ingest)) {
            return false;
        }
        try (Stream<Path> files = Files.list(ingest)) {
            return files.anyMatch(p -> {
                try {
                    return Files.size(p) > 100_000;
                } catch (Exception e) {
                    return false;
                }
            });
        }
    }

    // ------------------------------------------------------------------------------------ hostile content

    private void assertRejectedPull(ImageService s, String ref, Kind kind, String message) throws Exception {
        assertThatThrownBy(() -> s.pull(ref, null)).satisfies(e -> assertKind(e, kind))
                .hasMessageContaining(message);
        assertThat(s.find(ref)).isEmpty();
    }

    @Test
    void hostileArchivesAreRejectedAndNothingIsWrittenOutside() throws Exception {
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Path secret = Files.writeString(outside.resolve("secret"), "s");
        String escape = "../../../../../../../../.." + outside + "/pwned";
        Map<String, TestLayers.Layer> hostile = Map.of(
                "dotdot", new TestLayers.Layer().raw(escape, TarConstants.LF_NORMAL, null, new byte[4]),
                "absolute", new TestLayers.Layer().raw(outside + "/abs", TarConstants.LF_NORMAL, null, new byte[4]),
                "symlink", new TestLayers.Layer().symlink("evil", outside.toString()).file("evil/pwned", "x"),
                "hardlink", new TestLayers.Layer().raw("hl", TarConstants.LF_LINK, secret.toString(), null),
                "oversized", new TestLayers.Layer().file("big", new byte[2_000_000], 0644, 0, 0));
        Map<String, String> messages = Map.of("dotdot", "contains \"..\"", "absolute", "absolute path",
                "symlink", "goes through the symlink \"evil\"", "hardlink", "absolute path",
                "oversized", "limit of 1000000 bytes");
        for (var e : hostile.entrySet()) {
            pusher.image("hostile/" + e.getKey(), "1", false, "amd64", Map.of(), TestLayers.layers(
                    new TestLayers.Layer().file("fine", "ok"), e.getValue()));
        }
        // a truncated gzip stream, stored under its own (correct) digest
        byte[] tar = new TestLayers.Layer().file("f", random(100_000, 3), 0644, 0, 0).tar();
        byte[] gz = TestLayers.gzip(tar);
        pusher.image("hostile/truncated", "1", false, "amd64", Map.of(),
                List.<byte[][]>of(new byte[][] {java.util.Arrays.copyOf(gz, gz.length / 2), tar}));
        // a layer whose uncompressed content does not match the config's diff id
        byte[][] good = TestLayers.gz(new TestLayers.Layer().file("g", "g"));
        pusher.image("hostile/diffid", "1", false, "amd64", Map.of(),
                List.<byte[][]>of(new byte[][] {good[0], new TestLayers.Layer().file("other", "o").tar()}));
        // a blob corrupted in transit
        byte[][] tampered = TestLayers.gz(new TestLayers.Layer().file("t", random(50_000, 4), 0644, 0, 0));
        pusher.image("hostile/tampered", "1", false, "amd64", Map.of(), List.<byte[][]>of(tampered));

        ImageSettings settings = ImageSettings.defaults(tmp.resolve("store"))
                .withLimits(3, Duration.ofMinutes(1), 1_000_000);
        try (RegistryProxy proxy = new RegistryProxy(registry.url()); ImageService s = service(settings)) {
            for (var e : messages.entrySet()) {
                assertRejectedPull(s, host + "/hostile/" + e.getKey() + ":1", Kind.INVALID_ARGUMENT, e.getValue());
            }
            assertRejectedPull(s, host + "/hostile/truncated:1", Kind.INVALID_ARGUMENT, "corrupt");
            assertRejectedPull(s, host + "/hostile/diffid:1", Kind.INVALID_ARGUMENT, "uncompressed digest");
            proxy.tamper.add(TestLayers.sha(tampered[0]));
            assertRejectedPull(s, proxy.hostPort() + "/hostile/tampered:1", Kind.INVALID_ARGUMENT, "digest mismatch");
            assertThat(s.list()).isEmpty();
            try (Stream<Path> files = Files.list(outside)) {
                assertThat(files.toList()).containsExactly(secret);
            }
            assertThat(Files.getAttribute(secret, "unix:nlink")).isEqualTo(1);
            // each refused pull removed what it wrote, the harmless first layer included
            assertStoreEmpty(s, "after the hostile pulls");
        }
    }

    /** A hostile layer ({compressed, tar}), the rule it breaks, and what the refusal must say. */
    private record Refusal(String name, byte[][] layer, Kind kind, String entry, String rule) {
    }

    /** Nothing of a refused pull is left: no snapshot but the reserved empty one, no blob, nothing in ingest. */
    private static void assertStoreEmpty(ImageService s, String what) throws Exception {
        for (String dir : List.of("content/ingest", "content/blobs/sha256")) {
            try (Stream<Path> in = Files.list(s.root().resolve(dir))) {
                assertThat(in.toList()).as(what + ": " + dir).isEmpty();
            }
        }
        try (Stream<Path> snaps = Files.list(s.root().resolve("snapshots"))) {
            assertThat(snaps.map(p -> p.getFileName().toString()).toList()).as(what + ": snapshots")
                    .containsExactly("0");
        }
        assertThat(s.root().resolve("metadata.json.tmp")).as(what).doesNotExist();
    }

    private static boolean filesystemTakesXattr(Path dir, int bytes) throws Exception {
        Path probe = Files.createTempFile(Files.createDirectories(dir), "xattr", "");
        try {
            Files.getFileAttributeView(probe, java.nio.file.attribute.UserDefinedFileAttributeView.class)
                    .write("user.probe", java.nio.ByteBuffer.wrap(new byte[bytes]));
            return true;
        } catch (java.io.IOException e) {
            return false;
        } finally {
            Files.delete(probe);
        }
    }

    /** A layer that turns a directory into a symlink and then writes through it. */
    private static TestLayers.Layer symlinkedDir() {
        return new TestLayers.Layer().dir("lib", 0755, 0, 0).symlink("lib", "/etc").file("lib/x", "x");
    }

    @Test
    void aRefusedPullRemovesWhatItWroteBeforeAnsweringAndNamesTheEntry() throws Exception {
        // every hostile image has a harmless lower layer (unpacked and stored before the refusal), and one image
        // also a large layer still downloading when its hostile sibling is refused
        byte[][] lower = TestLayers.gz(new TestLayers.Layer().file("etc/secret", "s").file("fine", "ok"));
        byte[] nested = TestLayers.nestedDirs(4000); // paths of up to 8,000 bytes
        List<Refusal> cases = new ArrayList<>(List.of(
                new Refusal("symlinked-dir", TestLayers.gz(symlinkedDir()), Kind.INVALID_ARGUMENT, "\"lib/x\"",
                        "goes through the symlink \"lib\""),
                new Refusal("hardlink-whiteout", TestLayers.gz(new TestLayers.Layer().hardlink("bin/x", "etc/secret")
                        .whiteout("etc/secret")), Kind.INVALID_ARGUMENT, "\"bin/x\"", "not a file earlier in this layer"),
                new Refusal("deep", new byte[][] {TestLayers.gzip(nested), nested}, Kind.INVALID_ARGUMENT,
                        "\"d/d/d/", "levels deep")));
        Path store = tmp.resolve("store");
        if (filesystemTakesXattr(store, 8000)) {
            System.err.println("the test's file system takes an 8000-byte xattr: not testing the xattr limit");
        } else {
            cases.add(new Refusal("xattr", TestLayers.gz(new TestLayers.Layer().fileWithXattr("big-xattr", "x",
                    "user.big", "v".repeat(8000))), Kind.FAILED_PRECONDITION, "\"big-xattr\"", "xattr \"user.big\""));
        }
        Map<String, String> layerDigests = new java.util.HashMap<>();
        for (Refusal c : cases) {
            layerDigests.put(c.name(), TestLayers.sha(c.layer()[0]));
            pusher.image("refused/" + c.name(), "1", false, "amd64", Map.of(), List.of(lower, c.layer()));
        }
        byte[][] big = TestLayers.gz(new TestLayers.Layer().file("big", random(2_000_000, 11), 0644, 0, 0));
        byte[][] symlinked = TestLayers.gz(symlinkedDir());
        pusher.image("refused/slow", "1", false, "amd64", Map.of(),
                List.of(lower, big, symlinked));

        try (RegistryProxy proxy = new RegistryProxy(registry.url()); ImageService s = service(ImageSettings.defaults(store))) {
            for (Refusal c : cases) {
                String ref = host + "/refused/" + c.name() + ":1";
                assertThatThrownBy(() -> s.pull(ref, null)).satisfies(e -> assertKind(e, c.kind()))
                        .hasMessageContaining("\"" + ref + "\"")
                        .hasMessageContaining(layerDigests.get(c.name()))
                        .hasMessageContaining(c.entry())
                        .hasMessageContaining(c.rule());
                assertStoreEmpty(s, c.name());
            }
            proxy.throttle = 400_000;
            String slow = proxy.hostPort() + "/refused/slow:1";
            assertThatThrownBy(() -> s.pull(slow, null)).satisfies(e -> assertKind(e, Kind.INVALID_ARGUMENT))
                    .hasMessageContaining(TestLayers.sha(symlinked[0])).hasMessageContaining("goes through the symlink");
            assertStoreEmpty(s, "slow");
            assertThat(s.list()).isEmpty();
            // a good image sharing the lower layer still pulls, and a refusal leaves what an image uses alone
            proxy.throttle = 0;
            pusher.image("refused/good", "1", false, "amd64", Map.of(), List.<byte[][]>of(lower));
            s.pull(host + "/refused/good:1", null);
            assertThatThrownBy(() -> s.pull(host + "/refused/hardlink-whiteout:1", null))
                    .satisfies(e -> assertKind(e, Kind.INVALID_ARGUMENT));
            assertNoLeftovers(s, 1);
            try (Stream<Path> blobs = Files.list(s.root().resolve("content/blobs/sha256"))) {
                assertThat(blobs.toList()).as("the good image's manifest, config and layer").hasSize(3);
            }
            assertThat(s.pull(host + "/refused/good:1", null).repoTags()).hasSize(1);
        }
    }

    @Test
    void aPullWaitingForALayerOfARefusedPullTakesTheWorkOver() throws Exception {
        byte[][] shared = TestLayers.gz(new TestLayers.Layer().file("shared", random(3_000_000, 21), 0644, 0, 0));
        // refused only at its end, after a download long enough for the second pull to start waiting
        byte[][] hostile = TestLayers.gz(new TestLayers.Layer().file("pad", random(800_000, 22), 0644, 0, 0)
                .symlink("lib", "/etc").file("lib/x", "x"));
        pusher.image("takeover/refused", "1", false, "amd64", Map.of(), List.of(shared, hostile));
        pusher.image("takeover/good", "1", false, "amd64", Map.of(),
                List.of(shared, TestLayers.gz(new TestLayers.Layer().file("app", "a"))));
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        try (RegistryProxy proxy = new RegistryProxy(registry.url()); ImageService s = service()) {
            proxy.throttle = 400_000;
            Future<Image> refused = pool.submit(() -> s.pull(proxy.hostPort() + "/takeover/refused:1", null));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!partial(s.root().resolve("content/ingest"))) {
                assertThat(System.nanoTime()).as("the download never started").isLessThan(deadline);
                Thread.sleep(10);
            }
            Future<Image> good = pool.submit(() -> s.pull(proxy.hostPort() + "/takeover/good:1", null));
            assertThatThrownBy(refused::get).cause().satisfies(e -> assertKind(e, Kind.INVALID_ARGUMENT))
                    .hasMessageContaining("goes through the symlink \"lib\"");
            assertThat(good.get(120, TimeUnit.SECONDS).repoTags()).containsExactly(proxy.hostPort() + "/takeover/good:1");
            assertThat(s.list()).hasSize(1);
            assertNoLeftovers(s, 2);
            try (Stream<Path> blobs = Files.list(s.root().resolve("content/blobs/sha256"))) {
                assertThat(blobs.toList()).as("the good image's manifest, config and two layers").hasSize(4);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aStalledDownloadFailsWithDeadlineExceeded() throws Exception {
        pusher.image("stall", "1", false, "amd64", Map.of(),
                TestLayers.layers(new TestLayers.Layer().file("f", random(400_000, 9), 0644, 0, 0)));
        ImageSettings settings = ImageSettings.defaults(tmp.resolve("store")).withLimits(2, Duration.ofSeconds(2), 1L << 30);
        try (RegistryProxy proxy = new RegistryProxy(registry.url()); ImageService s = service(settings)) {
            proxy.stallAfter = 100_000;
            assertRejectedPull(s, proxy.hostPort() + "/stall:1", Kind.DEADLINE_EXCEEDED, "no progress for 2s");
            assertNoLeftovers(s, 0);
            proxy.stallAfter = -1;
            assertThat(s.pull(proxy.hostPort() + "/stall:1", null).repoTags()).hasSize(1);
        }
    }
}
