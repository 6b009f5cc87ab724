package dev.berth.oci;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BundleSpecsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path bundle;

    @Test
    void anUpdateIsMergedIntoTheSpecsResourcesAndNothingElseMoves() throws Exception {
        Files.writeString(bundle.resolve("config.json"), """
                {"ociVersion":"1.0.2","process":{"args":["sleep","1"]},
                 "linux":{"namespaces":[{"type":"pid"}],
                          "resources":{"memory":{"limit":134217728,"swap":134217728},"cpu":{"shares":2},
                                       "devices":[{"allow":false,"access":"rwm"}]}}}""");
        BundleSpecs.updateResources(bundle, Map.of("memory", Map.of("limit", 268435456L),
                "cpu", Map.of("quota", 50000, "period", 100000), "pids", Map.of("limit", 64)));
        JsonNode spec = JSON.readTree(BundleSpecs.read(bundle, "test").orElseThrow());
        JsonNode r = spec.path("linux").path("resources");
        assertThat(r.path("memory").path("limit").asLong()).isEqualTo(268435456L);
        assertThat(r.path("memory").path("swap").asLong()).as("a field the update left out").isEqualTo(134217728L);
        assertThat(r.path("cpu").path("shares").asInt()).isEqualTo(2);
        assertThat(r.path("cpu").path("quota").asInt()).isEqualTo(50000);
        assertThat(r.path("pids").path("limit").asInt()).isEqualTo(64);
        assertThat(r.path("devices").size()).isEqualTo(1);
        assertThat(spec.path("process").path("args").get(0).asText()).isEqualTo("sleep");
        assertThat(spec.path("linux").path("namespaces").size()).isEqualTo(1);
        try (var files = Files.list(bundle)) {
            assertThat(files.map(f -> f.getFileName().toString())).as("no temp file left").containsExactly("config.json");
        }
    }

    @Test
    void aSpecWithoutResourcesGetsThem() throws Exception {
        Files.writeString(bundle.resolve("config.json"), "{\"ociVersion\":\"1.0.2\"}");
        BundleSpecs.updateResources(bundle, Map.of("memory", Map.of("limit", 1L << 30)));
        assertThat(JSON.readTree(bundle.resolve("config.json").toFile()).path("linux").path("resources")
                .path("memory").path("limit").asLong()).isEqualTo(1L << 30);
    }

    @Test
    void aBundleWithoutASpecIsLeftAlone() throws Exception {
        BundleSpecs.updateResources(bundle, Map.of("memory", Map.of("limit", 1L << 30)));
        assertThat(bundle.resolve("config.json")).doesNotExist();
    }
}
