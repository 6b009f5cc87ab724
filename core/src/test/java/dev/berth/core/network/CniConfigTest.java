package dev.berth.core.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CniConfigTest {
    @TempDir
    Path dir;

    @Test
    void missingOrEmptyDirHasNoConfig() throws Exception {
        assertThat(CniConfig.loadFirst(dir.resolve("absent"))).isEmpty();
        Files.writeString(dir.resolve("README"), "not a config");
        Files.writeString(dir.resolve(".hidden.conflist"), "{}");
        assertThat(CniConfig.loadFirst(dir)).isEmpty();
    }

    @Test
    void firstFileInLexicalOrderWins() throws Exception {
        Files.writeString(dir.resolve("20-b.conflist"),
                "{\"cniVersion\":\"1.0.0\",\"name\":\"b\",\"plugins\":[{\"type\":\"bridge\"}]}");
        Files.writeString(dir.resolve("10-a.conf"), "{\"cniVersion\":\"0.4.0\",\"name\":\"a\",\"type\":\"ptp\"}");
        CniConfig config = CniConfig.loadFirst(dir).orElseThrow();
        assertThat(config.name()).isEqualTo("a");
        assertThat(config.cniVersion()).isEqualTo("0.4.0");
        assertThat(config.pluginTypes()).containsExactly("ptp");
        // A single-plugin .conf becomes a list.
        assertThat(config.json().path("plugins").get(0).path("type").asText()).isEqualTo("ptp");
        assertThat(config.source()).isEqualTo(dir.resolve("10-a.conf"));
    }

    /**
     * The watcher's timed re-poll reads the config again only when the first file changed (another file, its size or
     * its modification time); a change it is told of (an inotify event) is always read. The test changes the file's
     * text but keeps its size and time, which only a read can see; its watcher has no inotify thread, whose event
     * would read the change before the re-poll is asked.
     */
    @Test
    void theTimedRepollReadsOnlyAChangedFile() throws Exception {
        Path file = dir.resolve("10-a.conflist");
        Files.writeString(file, "{\"cniVersion\":\"1.0.0\",\"name\":\"aaa\",\"plugins\":[{\"type\":\"bridge\"}]}");
        try (CniConfigWatcher watcher = new CniConfigWatcher(dir, false)) {
            CniConfigWatcher.Loaded first = watcher.loaded();
            assertThat(first.config().name()).isEqualTo("aaa");

            FileTime time = Files.getLastModifiedTime(file);
            Files.writeString(file, "{\"cniVersion\":\"1.0.0\",\"name\":\"bbb\",\"plugins\":[{\"type\":\"bridge\"}]}");
            Files.setLastModifiedTime(file, time);
            assertThat(watcher.reload(false)).as("same file, size and time: not read again").isSameAs(first);
            assertThat(watcher.reload(true).config().name()).as("told of a change: read").isEqualTo("bbb");

            Files.writeString(file, "{\"cniVersion\":\"1.0.0\",\"name\":\"cc\",\"plugins\":[{\"type\":\"bridge\"}]}");
            assertThat(watcher.reload(false).config().name()).as("another size: read").isEqualTo("cc");

            Files.writeString(dir.resolve("05-z.conflist"),
                    "{\"cniVersion\":\"1.0.0\",\"name\":\"zz\",\"plugins\":[{\"type\":\"ptp\"}]}");
            assertThat(watcher.reload(false).config().name()).as("another first file: read").isEqualTo("zz");

            Files.delete(dir.resolve("05-z.conflist"));
            Files.delete(file);
            assertThat(watcher.reload(false).config()).as("no file left").isNull();
        }
    }

    @Test
    void anInvalidFirstFileIsAnErrorNamingTheFile() throws Exception {
        Files.writeString(dir.resolve("00-bad.conflist"), "{ not json");
        Files.writeString(dir.resolve("10-good.conflist"),
                "{\"cniVersion\":\"1.0.0\",\"name\":\"g\",\"plugins\":[{\"type\":\"bridge\"}]}");
        assertThatThrownBy(() -> CniConfig.loadFirst(dir)).hasMessageContaining("00-bad.conflist");
    }

    @Test
    void pluginsNeedATypeAndAListNeedsPlugins() throws Exception {
        Files.writeString(dir.resolve("a.conflist"), "{\"cniVersion\":\"1.0.0\",\"name\":\"x\",\"plugins\":[{}]}");
        assertThatThrownBy(() -> CniConfig.load(dir.resolve("a.conflist"))).hasMessageContaining("no type");
        Files.writeString(dir.resolve("b.conflist"), "{\"cniVersion\":\"1.0.0\",\"name\":\"x\",\"plugins\":[]}");
        assertThatThrownBy(() -> CniConfig.load(dir.resolve("b.conflist"))).hasMessageContaining("no plugins");
        Files.writeString(dir.resolve("c.conflist"),
                "{\"cniVersion\":\"1.0.0\",\"name\":\"x\",\"plugins\":[{\"type\":\"../evil\"}]}");
        assertThatThrownBy(() -> CniConfig.load(dir.resolve("c.conflist"))).hasMessageContaining("bad plugin type");
    }

    @Test
    void versions() {
        assertThat(CniConfig.compareVersions("0.4.0", "1.0.0")).isNegative();
        assertThat(CniConfig.compareVersions("1.1.0", "1.0.0")).isPositive();
        assertThat(CniConfig.compareVersions("1.0", "1.0.0")).isZero();
        assertThat(CniConfig.compareVersions("0.3.1", "0.4.0")).isNegative();
    }

    @Test
    void pluginStdinGetsNameVersionPrevResultAndOnlyDeclaredCapabilities() throws Exception {
        Files.writeString(dir.resolve("n.conflist"), """
                {"cniVersion":"1.0.0","name":"net","plugins":[
                  {"type":"bridge","bridge":"br9"},
                  {"type":"portmap","capabilities":{"portMappings":true,"bandwidth":false}}]}
                """);
        CniConfig config = CniConfig.load(dir.resolve("n.conflist"));
        ObjectNode rc = (ObjectNode) CniConfig.JSON.readTree(
                "{\"portMappings\":[{\"hostPort\":1}],\"bandwidth\":{\"ingressRate\":1},\"dns\":{}}");
        JsonNode prev = CniConfig.JSON.readTree("{\"cniVersion\":\"1.0.0\",\"ips\":[]}");

        JsonNode bridge = CniConfig.JSON.readTree(CniClient.stdin(config, config.plugins().get(0), rc, null));
        assertThat(bridge.path("name").asText()).isEqualTo("net");
        assertThat(bridge.path("cniVersion").asText()).isEqualTo("1.0.0");
        assertThat(bridge.has("runtimeConfig")).isFalse();
        assertThat(bridge.has("prevResult")).isFalse();

        JsonNode portmap = CniConfig.JSON.readTree(CniClient.stdin(config, config.plugins().get(1), rc, prev));
        assertThat(portmap.path("runtimeConfig").toString()).isEqualTo("{\"portMappings\":[{\"hostPort\":1}]}");
        assertThat(portmap.path("prevResult")).isEqualTo(prev);
    }
}
