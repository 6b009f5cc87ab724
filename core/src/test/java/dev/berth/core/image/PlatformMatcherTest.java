package dev.berth.core.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.spi.BackendException;
import org.junit.jupiter.api.Test;

class PlatformMatcherTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** An index whose entries are "os/arch[/variant][@os.version]"; entry i has digest sha256:<i repeated>. */
    private static JsonNode index(String... entries) {
        ObjectNode idx = JSON.createObjectNode();
        ArrayNode manifests = idx.putArray("manifests");
        for (int i = 0; i < entries.length; i++) {
            String e = entries[i];
            String version = "";
            int at = e.indexOf('@');
            if (at >= 0) {
                version = e.substring(at + 1);
                e = e.substring(0, at);
            }
            String[] p = e.split("/");
            ObjectNode m = manifests.addObject();
            m.put("mediaType", "application/vnd.oci.image.manifest.v1+json");
            m.put("digest", digest(i));
            ObjectNode platform = m.putObject("platform");
            platform.put("os", p[0]);
            platform.put("architecture", p[1]);
            if (p.length > 2) {
                platform.put("variant", p[2]);
            }
            if (!version.isEmpty()) {
                platform.put("os.version", version);
            }
        }
        return idx;
    }

    private static String digest(int i) {
        return "sha256:" + Integer.toHexString(i).repeat(64).substring(0, 64);
    }

    /** A pause-like index: linux images and Windows builds 17763, 20348 (two revisions) and 26100. */
    private static final JsonNode MIXED = index("linux/amd64", "linux/arm64/v8", "linux/arm/v7",
            "windows/amd64@10.0.17763.5329", "windows/amd64@10.0.20348.2113", "windows/amd64@10.0.20348.2227",
            "windows/amd64@10.0.26100.1742");

    @Test
    void linuxPicksItsArchitectureAndVariant() {
        assertThat(PlatformMatcher.of("linux", "amd64", "", "").select("r", MIXED)).isEqualTo(digest(0));
        assertThat(PlatformMatcher.of("linux", "arm64", "v8", "").select("r", MIXED)).isEqualTo(digest(1));
        // A linux node never takes a windows entry, and ignores os.version.
        assertThat(PlatformMatcher.of("linux", "amd64", "", "10.0.17763.1").select("r", MIXED)).isEqualTo(digest(0));
    }

    @Test
    void anEntryWithoutVariantIsTheFallbackForAVariantNode() {
        JsonNode idx = index("linux/arm64", "linux/arm64/v8");
        assertThat(PlatformMatcher.of("linux", "arm64", "v8", "").select("r", idx)).isEqualTo(digest(1));
        assertThat(PlatformMatcher.of("linux", "arm64", "v8", "").select("r", index("linux/arm64")))
                .isEqualTo(digest(0));
        assertThatThrownBy(() -> PlatformMatcher.of("linux", "arm64", "v8", "").select("r", index("linux/arm64/v9")))
                .isInstanceOf(BackendException.class);
    }

    @Test
    void anOlderWindowsHostTakesExactlyItsBuild() {
        var m = PlatformMatcher.of("windows", "amd64", "", "10.0.17763.6054");
        assertThat(m.select("r", MIXED)).isEqualTo(digest(3));
        assertThatThrownBy(() -> m.select("pause", index("windows/amd64@10.0.20348.1", "linux/amd64")))
                .isInstanceOfSatisfying(BackendException.class, e -> {
                    assertThat(e.kind()).isEqualTo(BackendException.Kind.FAILED_PRECONDITION);
                    assertThat(e.getMessage()).contains("windows/amd64 (os.version 10.0.17763.6054)")
                            .contains("windows/amd64 10.0.20348.1").contains("linux/amd64");
                });
    }

    @Test
    void aServer2022HostPrefersItsOwnBuildsNewestRevision() {
        assertThat(PlatformMatcher.of("windows", "amd64", "", "10.0.20348.100").select("r", MIXED))
                .isEqualTo(digest(5));
    }

    @Test
    void aNewerHostRunsServer2022ImagesWhenItsOwnBuildIsMissing() {
        JsonNode idx = index("windows/amd64@10.0.17763.1", "windows/amd64@10.0.20348.9");
        assertThat(PlatformMatcher.of("windows", "amd64", "", "10.0.26100.1").select("r", idx)).isEqualTo(digest(1));
        // ... but prefers its own build when there is one.
        assertThat(PlatformMatcher.of("windows", "amd64", "", "10.0.26100.1").select("r", MIXED)).isEqualTo(digest(6));
        // A build newer than the host never runs.
        assertThatThrownBy(() -> PlatformMatcher.of("windows", "amd64", "", "10.0.20348.1")
                .select("r", index("windows/amd64@10.0.26100.1"))).isInstanceOf(BackendException.class);
    }

    @Test
    void anUnknownHostVersionTakesTheNewestWindowsEntry() {
        assertThat(PlatformMatcher.of("windows", "amd64", "", "").select("r", MIXED)).isEqualTo(digest(6));
    }

    @Test
    void anEntryWithoutOsVersionIsAcceptedBelowVersionedMatches() {
        assertThat(PlatformMatcher.of("windows", "amd64", "", "10.0.20348.1")
                .select("r", index("windows/amd64", "windows/amd64@10.0.20348.5"))).isEqualTo(digest(1));
        assertThat(PlatformMatcher.of("windows", "amd64", "", "10.0.20348.1")
                .select("r", index("windows/amd64", "windows/amd64@10.0.17763.5"))).isEqualTo(digest(0));
    }

    private static JsonNode config(String os, String version) {
        ObjectNode c = JSON.createObjectNode().put("os", os).put("architecture", "amd64");
        if (!version.isEmpty()) {
            c.put("os.version", version);
        }
        return c;
    }

    @Test
    void aSingleManifestsConfigIsCheckedWithTheSameBuildRule() {
        var ltsc2022 = PlatformMatcher.of("windows", "amd64", "", "10.0.20348.2340");
        ltsc2022.checkConfig("r", config("windows", "10.0.20348.1"));
        ltsc2022.checkConfig("r", config("windows", "")); // no os.version: accepted, as in an index
        for (String refused : new String[] {"10.0.17763.5329", "10.0.26100.1", "6.3.20348.1"}) {
            assertThatThrownBy(() -> ltsc2022.checkConfig("r", config("windows", refused)))
                    .isInstanceOf(BackendException.class)
                    .hasMessageContaining(refused).hasMessageContaining("10.0.20348.2340")
                    .satisfies(e -> assertThat(((BackendException) e).kind())
                            .isEqualTo(BackendException.Kind.FAILED_PRECONDITION));
        }
        var ltsc2019 = PlatformMatcher.of("windows", "amd64", "", "10.0.17763.6054");
        ltsc2019.checkConfig("r", config("windows", "10.0.17763.1"));
        assertThatThrownBy(() -> ltsc2019.checkConfig("r", config("windows", "10.0.20348.1")))
                .hasMessageContaining("runs only its own build");
        // an unknown host version checks nothing; a Linux node refuses Windows by os
        PlatformMatcher.of("windows", "amd64", "", "").checkConfig("r", config("windows", "10.0.17763.1"));
        assertThatThrownBy(() -> PlatformMatcher.of("linux", "amd64", "", "").checkConfig("r", config("windows", "")))
                .hasMessageContaining("windows/amd64");
    }

    @Test
    void versionsParse() {
        assertThat(PlatformMatcher.version("10.0.20348.2227")).containsExactly(10, 0, 20348, 2227);
        assertThat(PlatformMatcher.version("10.0.17763")).containsExactly(10, 0, 17763);
        assertThat(PlatformMatcher.version("10.0")).isEmpty();
        assertThat(PlatformMatcher.version("a.b.c")).isEmpty();
    }
}
