package dev.berth.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    @Test
    void missingDefaultFileMeansBuiltInDefaults() {
        var loaded = ConfigLoader.load(dir.resolve("config.toml"), false);
        assertThat(loaded.files()).isEmpty();
        assertThat(loaded.config()).isEqualTo(BerthConfig.defaults());
        assertThat(loaded.config().socket()).isEqualTo(new CriEndpoint.Unix(Path.of("/run/berth/berth.sock")));
        assertThat(loaded.config().defaultHandler().type()).isEqualTo("runc");
    }

    @Test
    void healthIntervalDefaultsToTenSecondsAndTakesADuration() throws Exception {
        assertThat(BerthConfig.defaults().healthInterval()).isEqualTo(Duration.ofSeconds(10));
        Path main = write("config.toml", "health_interval = \"2m\"\n");
        assertThat(ConfigLoader.load(main, true).config().healthInterval()).isEqualTo(Duration.ofMinutes(2));
    }

    @Test
    void warmUpRoundsDefaultTo250AndZeroTurnsTheWarmUpOff() throws Exception {
        assertThat(BerthConfig.defaults().warmUpRounds()).isEqualTo(250);
        Path main = write("config.toml", "warm_up_rounds = 0\n");
        assertThat(ConfigLoader.load(main, true).config().warmUpRounds()).isZero();
    }

    @Test
    void cdiSpecsAreReadFromTheSpecificationsDirectoriesUnlessTheConfigSaysOtherwise() throws Exception {
        assertThat(PlatformDefaults.of(HostOs.LINUX, java.util.Map.of()).cdiSpecDirs())
                .containsExactly(Path.of("/etc/cdi"), Path.of("/var/run/cdi"));
        assertThat(PlatformDefaults.of(HostOs.WINDOWS, java.util.Map.of()).cdiSpecDirs()).isEmpty();
        Path main = write("config.toml", "cdi_spec_dirs = [\"/opt/cdi\", \"/run/cdi\"]\n");
        assertThat(ConfigLoader.load(main, true).config().cdiSpecDirs())
                .containsExactly(Path.of("/opt/cdi"), Path.of("/run/cdi"));
        Path off = write("config.toml", "cdi_spec_dirs = []\n");
        assertThat(ConfigLoader.load(off, true).config().cdiSpecDirs()).isEmpty();
    }

    @Test
    void logFormatIsTextByDefaultAndTakesJson() throws Exception {
        assertThat(BerthConfig.defaults().logFormat()).isEqualTo("text");
        Path main = write("config.toml", "log_format = \"json\"\n");
        assertThat(ConfigLoader.load(main, true).config().logFormat()).isEqualTo("json");
    }

    @Test
    void unknownLogFormatIsAnErrorNamingTheKey() throws Exception {
        Path main = write("config.toml", "log_format = \"xml\"\n");
        assertThatThrownBy(() -> ConfigLoader.load(main, true))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("log_format")
                .hasMessageContaining("expected text or json, got \"xml\"");
    }

    @Test
    void missingExplicitFileIsAnError() {
        assertThatThrownBy(() -> ConfigLoader.load(dir.resolve("nope.toml"), true))
                .isInstanceOf(ConfigException.class).hasMessageContaining("nope.toml: no such file");
    }

    @Test
    void dropInsMergeInLexicalOrderOverTheMainFile() throws Exception {
        Path main = write("config.toml", """
                default_runtime = "runc"
                [runtimes.runc]
                type = "runc"
                [runtimes.runc.options]
                binary = "runc"
                [streaming]
                port = 10010
                """);
        Files.createDirectories(dir.resolve("config.d"));
        write("config.d/20-crun.toml", """
                [runtimes.crun]
                type = "runc"
                [runtimes.crun.options]
                binary = "crun"
                """);
        write("config.d/10-network.toml", """
                [network]
                cni_bin_dirs = ["/usr/lib/cni"]
                plugin_timeout = "30s"
                [streaming]
                port = 10011
                """);
        write("config.d/30-ignored.txt", "not toml");
        var loaded = ConfigLoader.load(main, true);
        assertThat(loaded.files()).extracting(p -> p.getFileName().toString())
                .containsExactly("config.toml", "10-network.toml", "20-crun.toml");
        BerthConfig c = loaded.config();
        assertThat(c.runtimes()).containsOnlyKeys("crun", "runc");
        assertThat(c.runtimes().get("crun").options()).containsEntry("binary", "crun");
        assertThat(c.network().cniBinDirs()).containsExactly(Path.of("/usr/lib/cni"));
        assertThat(c.network().pluginTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.streaming().port()).isEqualTo(10011);
        assertThat(loaded.where("streaming.port")).endsWith("10-network.toml:5: ");
    }

    @Test
    void metricsAreOffUnlessAnAddressIsGiven() throws Exception {
        assertThat(ConfigLoader.load(write("config.toml", ""), true).config().metrics().enabled()).isFalse();
        assertThat(ConfigLoader.load(write("config.toml", "[metrics]\naddress = \"\"\n"), true).config().metrics()
                .enabled()).isFalse();
        var m = ConfigLoader.load(write("config.toml", "[metrics]\naddress = \"127.0.0.1:9093\"\n"), true)
                .config().metrics();
        assertThat(m.enabled()).isTrue();
        assertThat(m.host()).isEqualTo("127.0.0.1");
        assertThat(m.port()).isEqualTo(9093);
        m = ConfigLoader.load(write("config.toml", "[metrics]\naddress = \"[::1]:0\"\n"), true).config().metrics();
        assertThat(m.host()).isEqualTo("::1");
        assertThat(m.port()).isZero();
        m = ConfigLoader.load(write("config.toml", "[metrics]\naddress = \":9093\"\n"), true).config().metrics();
        assertThat(m.host()).isEmpty();
    }

    @Test
    void writableLayersAreVolatileUnlessTheConfigSaysNot() throws Exception {
        assertThat(ConfigLoader.load(write("config.toml", "log_level = \"info\"\n"), true).config().images()
                .volatileRootfs()).isTrue();
        assertThat(ConfigLoader.load(write("config.toml", "[images]\nvolatile_rootfs = false\n"), true).config()
                .images().volatileRootfs()).isFalse();
    }

    @Test
    void runtimesInAFileReplaceTheBuiltInHandler() throws Exception {
        Path main = write("config.toml", """
                default_runtime = "fast"
                [runtimes.fast]
                type = "fake"
                """);
        assertThat(ConfigLoader.load(main, true).config().runtimes()).containsOnlyKeys("fast");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "sockett = '/x'|config.toml:1: sockett: unknown key",
        "[streaming]\\nport = 'ten'|config.toml:2: streaming.port: expected an integer, got the string \"ten\"",
        "[streaming]\\nport = 70000|config.toml:2: streaming.port: port must be between 0 and 65535",
        "default_runtime = 'kata'|config.toml:1: default_runtime: default_runtime \"kata\" is not a configured handler",
        "[runtimes.x]\\noptions = {}|runtimes.x: handler \"x\" needs a type",
        "[network]\\ncni_bin_dirs = '/opt'|config.toml:2: network.cni_bin_dirs: expected a list of paths",
        "[images]\\npull_progress_timeout = 'soon'|config.toml:2: images.pull_progress_timeout: expected a duration",
        "[images]\\nvolatile_rootfs = 'no'|config.toml:2: images.volatile_rootfs: expected true or false, got the string",
        "root = |config.toml:1: invalid TOML",
        "health_interval = '10ms'|config.toml:1: health_interval: must be at least 100ms",
        "[metrics]\\naddress = '127.0.0.1'|config.toml:2: metrics.address: expected host:port",
        "[metrics]\\naddress = '127.0.0.1:http'|config.toml:2: metrics.address: expected host:port",
        "[metrics]\\naddress = '::1:9093'|config.toml:2: metrics.address: expected host:port",
        "[metrics]\\naddress = ':70000'|config.toml:2: metrics.address: expected host:port",
        "[metrics]\\nport = 9093|config.toml:2: metrics.port: unknown key",
        "warm_up_rounds = -1|config.toml:1: warm_up_rounds: must be between 0 and 10000, got -1",
        "warm_up_rounds = 10001|config.toml:1: warm_up_rounds: must be between 0 and 10000, got 10001",
        "warm_up_rounds = 'many'|config.toml:1: warm_up_rounds: expected an integer, got the string",
        "cdi_spec_dirs = ['cdi']|config.toml:1: cdi_spec_dirs: expected absolute paths, got \"cdi\"",
        "cdi_spec_dirs = '/etc/cdi'|config.toml:1: cdi_spec_dirs: expected a list of paths",
    })
    void badConfigNamesFileLineAndKey(String toml, String expected) throws Exception {
        Path main = write("config.toml", toml.replace("\\n", "\n").replace('\'', '"'));
        assertThatThrownBy(() -> ConfigLoader.load(main, true))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(expected);
    }

    private Path write(String name, String content) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, content);
        return p;
    }
}
