package dev.berth.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CriEndpointTest {
    @TempDir
    Path dir;

    @Test
    void aPathOrUnixUrlIsAUnixSocket() {
        assertThat(CriEndpoint.parse("/run/berth/berth.sock"))
                .isEqualTo(new CriEndpoint.Unix(Path.of("/run/berth/berth.sock")));
        assertThat(CriEndpoint.parse("unix:///run/x.sock")).isEqualTo(new CriEndpoint.Unix(Path.of("/run/x.sock")));
        assertThat(CriEndpoint.parse("unix:///run/x.sock")).hasToString("/run/x.sock");
    }

    @Test
    void npipeUrlsInTheKubeletsSpellingsAreLocalPipes() {
        var p = (CriEndpoint.NamedPipe) CriEndpoint.parse("npipe:////./pipe/berth");
        assertThat(p.pipe()).isEqualTo("\\\\.\\pipe\\berth");
        assertThat(p.name()).isEqualTo("berth");
        assertThat(p).hasToString("npipe:////./pipe/berth");
        assertThat(CriEndpoint.parse("npipe://./pipe/berth")).isEqualTo(p);
        assertThat(CriEndpoint.parse("npipe:\\\\.\\pipe\\berth".replace(":", "://"))).isEqualTo(p);
        assertThat(((CriEndpoint.NamedPipe) CriEndpoint.parse("npipe:////./pipe/a/b")).pipe())
                .isEqualTo("\\\\.\\pipe\\a\\b");
    }

    @ParameterizedTest
    @ValueSource(strings = {"npipe:////server/pipe/berth", "npipe:////./pipe/", "npipe://", "tcp://localhost",
            "tcp://:99999", "tcp://:x", "unix://", "http://localhost:80", "tcp://a/b:1"})
    void malformedEndpointsAreRefused(String value) {
        assertThatThrownBy(() -> CriEndpoint.parse(value)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void tcpWithoutAHostIsLoopbackOnly() {
        var t = (CriEndpoint.Tcp) CriEndpoint.parse("tcp://:10010");
        assertThat(t.host()).isEmpty();
        assertThat(t.bindHost()).isEqualTo("127.0.0.1");
        assertThat(t.port()).isEqualTo(10010);
        assertThat(CriEndpoint.parse("tcp://0.0.0.0:1")).isEqualTo(new CriEndpoint.Tcp("0.0.0.0", 1));
        assertThat(CriEndpoint.parse("tcp://[::1]:7")).isEqualTo(new CriEndpoint.Tcp("::1", 7));
        assertThat(CriEndpoint.parse("tcp://[::1]:7")).hasToString("tcp://[::1]:7");
    }

    @Test
    void theConfigsSocketKeyTakesEveryForm() throws Exception {
        Path f = dir.resolve("config.toml");
        Files.writeString(f, "socket = \"npipe:////./pipe/berth-test\"\n");
        assertThat(ConfigLoader.load(f, true).config().socket())
                .isEqualTo(new CriEndpoint.NamedPipe("\\\\.\\pipe\\berth-test"));
        Files.writeString(f, "socket = \"tcp://:10010\"\n");
        assertThat(ConfigLoader.load(f, true).config().socket()).isEqualTo(new CriEndpoint.Tcp("", 10010));
        Files.writeString(f, "socket = \"ftp://x\"\n");
        assertThatThrownBy(() -> ConfigLoader.load(f, true)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("socket").hasMessageContaining("unknown scheme \"ftp\"");
    }
}
