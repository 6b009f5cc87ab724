package dev.berth.core.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.Daemon;
import dev.berth.core.config.ConfigLoader;
import dev.berth.core.cri.CriTestHarness;
import dev.berth.core.cri.container.ContainerEnvironment;
import dev.berth.core.cri.sandbox.SandboxEnvironment;
import dev.berth.core.environment.Node;
import dev.berth.core.image.ImageService;
import dev.berth.core.image.ImageSettings;
import dev.berth.core.plugin.PluginHost;
import dev.berth.core.streaming.StreamingSettings;
import dev.berth.cri.v1.CreateContainerRequest;
import dev.berth.cri.v1.RemovePodSandboxRequest;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.StartContainerRequest;
import dev.berth.cri.v1.StatusRequest;
import dev.berth.cri.v1.StopContainerRequest;
import dev.berth.cri.v1.StopPodSandboxRequest;
import dev.berth.spi.BackendException;
import dev.berth.spi.testing.FakeBackendFactory;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/metrics.md cannot drift from the code: every metric family the registry of a daemon with an image service
 * and a streaming server holds after a pod lifecycle is in the document's tables with exactly its labels, and the
 * document lists nothing the registry does not have.
 */
class MetricsDocTest {
    private static final Path DOC = Path.of("..", "docs", "metrics.md");
    /** A table row: the metric cell, the type cell, the labels cell. */
    private static final Pattern ROW = Pattern.compile("^\\|([^|]+)\\|([^|]+)\\|([^|]*)\\|");
    private static final Pattern TICKED = Pattern.compile("`([^`]+)`");
    private static final Pattern LABEL = Pattern.compile("[{,]([a-zA-Z_][a-zA-Z0-9_]*)=\"");

    @TempDir
    Path dir;

    @Test
    void docsMetricsListsEveryFamilyOfTheRegistryWithItsLabels() throws Exception {
        Map<String, String> documentedTypes = new TreeMap<>();
        Map<String, Set<String>> documented = documented(documentedTypes);
        assertThat(documented).as("metric families in docs/metrics.md").hasSizeGreaterThan(30);

        Path file = dir.resolve("config.toml");
        Files.writeString(file, "state = \"" + dir.resolve("state") + "\"\nroot = \"" + dir.resolve("root") + "\"\n"
                + """
                default_runtime = "fake"
                [runtimes.fake]
                type = "fake"
                [metrics]
                address = "127.0.0.1:0"
                """);
        var loaded = ConfigLoader.load(file, true);
        try (Metrics metrics = Metrics.fromConfig(loaded.config().metrics());
             ImageService images = new ImageService(ImageSettings.defaults(dir.resolve("images")), metrics)) {
            Node node = new Node(SandboxEnvironment.NONE, ContainerEnvironment.NONE, images,
                    StreamingSettings.defaults(), List.of());
            Daemon daemon = Daemon.create(loaded, PluginHost.of(List.of(new FakeBackendFactory())), node, metrics);
            String name = InProcessServerBuilder.generateName();
            daemon.serve(InProcessServerBuilder.forName(name));
            ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
            try {
                lifecycle(RuntimeServiceGrpc.newBlockingStub(channel));
                // What a fake backend's lifecycle cannot reach (a registry pull, a layer, CNI) is recorded through
                // the same calls the image service and pod networking make, so that those families have series.
                metrics.imagePull(null, 1_000_000);
                metrics.imagePull(BackendException.Kind.NOT_FOUND, 1_000_000);
                metrics.imagePullBytes(1234);
                metrics.layerUnpacked(1_000_000);
                metrics.cni("add", "net", false, 1_000_000);
                metrics.cni("del", "net", true, 1_000_000);

                Map<String, Set<String>> registry = registryFamilies(metrics);
                assertThat(registry.keySet()).as("families of the registry, none missing from docs/metrics.md")
                        .isSubsetOf(documented.keySet());
                assertThat(documented.keySet()).as("families in docs/metrics.md, none the registry lacks")
                        .isSubsetOf(registry.keySet());
                List<String> wrongLabels = new ArrayList<>();
                registry.forEach((family, labels) -> {
                    if (labels != null && !labels.equals(documented.get(family))) {
                        wrongLabels.add(family + ": registry " + labels + ", docs " + documented.get(family));
                    }
                });
                assertThat(wrongLabels).as("families whose labels docs/metrics.md gets wrong").isEmpty();
                List<String> wrongTypes = new ArrayList<>();
                types(metrics).forEach((family, type) -> {
                    if (!type.equals(documentedTypes.get(family))) {
                        wrongTypes.add(family + ": registry " + type + ", docs " + documentedTypes.get(family));
                    }
                });
                assertThat(wrongTypes).as("families whose type docs/metrics.md gets wrong").isEmpty();
                // Every berth_ family has series after the lifecycle, so its labels were checked; but berth_plugin_up,
                // which has series only for plugin archives (the fake backend is built in; test/e2e/metrics.sh
                // checks it on the image's plugins).
                assertThat(registry).allSatisfy((family, labels) -> {
                    if (family.startsWith("berth_") && !family.equals("berth_plugin_up")) {
                        assertThat(labels).as("series of " + family).isNotNull();
                    }
                });
            } finally {
                channel.shutdownNow();
                daemon.close();
            }
        }
    }

    private static void lifecycle(RuntimeServiceGrpc.RuntimeServiceBlockingStub runtime) {
        runtime.status(StatusRequest.getDefaultInstance());
        String pod = runtime.runPodSandbox(RunPodSandboxRequest.newBuilder()
                .setConfig(CriTestHarness.pod("web")).build()).getPodSandboxId();
        String ctr = runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                .setConfig(CriTestHarness.container("app")).setSandboxConfig(CriTestHarness.pod("web")).build())
                .getContainerId();
        runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(ctr).build());
        // A second pod keeps a running container, so that the gauges have series at the scrape.
        String pod2 = runtime.runPodSandbox(RunPodSandboxRequest.newBuilder()
                .setConfig(CriTestHarness.pod("db")).build()).getPodSandboxId();
        String ctr2 = runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod2)
                .setConfig(CriTestHarness.container("db")).setSandboxConfig(CriTestHarness.pod("db")).build())
                .getContainerId();
        runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(ctr2).build());
        runtime.stopContainer(StopContainerRequest.newBuilder().setContainerId(ctr).setTimeout(1).build());
        runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        // A call that fails in the backend, for the failure counter.
        try {
            runtime.startContainer(StartContainerRequest.newBuilder().setContainerId(ctr2).build());
        } catch (io.grpc.StatusRuntimeException expected) {
            // starting a running container is refused
        }
    }

    /**
     * Family name to its label names from the text format (without {@code le} and {@code quantile}), or null for
     * a family with no series yet.
     */
    private static Map<String, Set<String>> registryFamilies(Metrics metrics) {
        Map<String, Set<String>> out = new TreeMap<>();
        for (MetricSnapshot s : metrics.registry().scrape()) {
            String name = s.getMetadata().getPrometheusName();
            if (s instanceof CounterSnapshot) {
                name += "_total";
            } else if (s instanceof InfoSnapshot) {
                name += "_info";
            }
            out.put(name, null);
        }
        String text = MetricsScrape.text(metrics);
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String sample = line.substring(0, line.contains("{") ? line.indexOf('{') : line.indexOf(' '));
            String family = null;
            for (String f : out.keySet()) { // the longest family name the sample's name starts with
                if ((sample.equals(f) || sample.startsWith(f + "_") || f.equals(sample + "_total"))
                        && (family == null || f.length() > family.length())) {
                    family = f;
                }
            }
            assertThat(family).as("the family of sample " + line).isNotNull();
            Set<String> labels = new TreeSet<>();
            if (line.contains("{")) {
                Matcher m = LABEL.matcher(line.substring(line.indexOf('{'), line.lastIndexOf('}') + 1));
                while (m.find()) {
                    labels.add(m.group(1));
                }
            }
            labels.remove("le");
            labels.remove("quantile");
            Set<String> before = out.get(family);
            if (before == null) {
                out.put(family, labels);
            } else {
                before.addAll(labels);
            }
        }
        return out;
    }

    /** Family name to its type as the text format names it (an info metric is a gauge there). */
    private static Map<String, String> types(Metrics metrics) {
        Map<String, String> out = new TreeMap<>();
        for (String line : MetricsScrape.text(metrics).split("\n")) {
            if (line.startsWith("# TYPE ")) {
                String[] f = line.split(" ");
                out.put(f[2], f[3]);
            }
        }
        return out;
    }

    /**
     * The rows of docs/metrics.md's tables: each name in the first column (in back-quotes) to the label names in
     * the third (in back-quotes, leaving out the values in parentheses that follow a label); their type (the second)
 * into {@code types}.
     */
    private static Map<String, Set<String>> documented(Map<String, String> types) throws Exception {
        Map<String, Set<String>> out = new TreeMap<>();
        for (String line : Files.readAllLines(DOC)) {
            Matcher row = ROW.matcher(line);
            if (!row.find() || !row.group(1).contains("`")) {
                continue;
            }
            Set<String> labels = new TreeSet<>();
            Matcher l = TICKED.matcher(row.group(3).replaceAll("\\([^)]*\\)", ""));
            while (l.find()) {
                labels.add(l.group(1));
            }
            Matcher n = TICKED.matcher(row.group(1));
            while (n.find()) {
                assertThat(out.put(n.group(1), labels)).as("docs/metrics.md lists %s once", n.group(1)).isNull();
                types.put(n.group(1), row.group(2).strip());
            }
        }
        return out;
    }
}
