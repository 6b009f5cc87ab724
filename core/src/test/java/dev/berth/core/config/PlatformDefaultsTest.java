package dev.berth.core.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PlatformDefaultsTest {
    @Test
    void osNameDecidesTheHost() {
        assertThat(HostOs.of("Linux")).isEqualTo(HostOs.LINUX);
        assertThat(HostOs.of("Windows Server 2022")).isEqualTo(HostOs.WINDOWS);
        assertThat(HostOs.of("Windows 11")).isEqualTo(HostOs.WINDOWS);
        assertThat(HostOs.of("Mac OS X")).isEqualTo(HostOs.OTHER);
        assertThat(HostOs.WINDOWS.imageOs()).isEqualTo("windows");
        assertThat(HostOs.LINUX.imageOs()).isEqualTo("linux");
    }

    @Test
    void linuxKeepsItsPaths() {
        PlatformDefaults d = PlatformDefaults.of(HostOs.LINUX, Map.of());
        assertThat(d.socket()).isEqualTo(new CriEndpoint.Unix(Path.of("/run/berth/berth.sock")));
        assertThat(d.root()).isEqualTo(Path.of("/var/lib/berth"));
        assertThat(d.state()).isEqualTo(Path.of("/run/berth"));
        assertThat(d.configFile()).isEqualTo(Path.of("/etc/berth/config.toml"));
        assertThat(d.cniConfDir()).isEqualTo(Path.of("/etc/cni/net.d"));
        assertThat(d.cniBinDirs()).containsExactly(Path.of("/opt/cni/bin"), Path.of("/usr/lib/cni"));
    }

    @Test
    void thisLinuxHostGetsTheLinuxDefaults() {
        assertThat(HostOs.current()).isEqualTo(HostOs.LINUX);
        assertThat(BerthConfig.defaults().socket()).isEqualTo(new CriEndpoint.Unix(Path.of("/run/berth/berth.sock")));
        assertThat(ConfigLoader.DEFAULT_FILE).isEqualTo(Path.of("/etc/berth/config.toml"));
    }

    @Test
    void windowsUsesProgramDataANamedPipeAndContainerdsCniDirectories() {
        PlatformDefaults d = PlatformDefaults.of(HostOs.WINDOWS, Map.of());
        assertThat(d.socket()).hasToString("npipe:////./pipe/berth");
        assertThat(d.root()).hasToString("C:\\ProgramData\\berth\\root");
        assertThat(d.state()).hasToString("C:\\ProgramData\\berth\\state");
        assertThat(d.configFile()).hasToString("C:\\ProgramData\\berth\\config.toml");
        assertThat(d.registryConfigPath()).hasToString("C:\\ProgramData\\berth\\certs.d");
        assertThat(d.cniConfDir()).hasToString("C:\\Program Files\\containerd\\cni\\conf");
        assertThat(d.cniBinDirs()).extracting(Path::toString)
                .containsExactly("C:\\Program Files\\containerd\\cni\\bin");
    }

    @Test
    void windowsFoldersComeFromTheEnvironmentInAnyCase() {
        PlatformDefaults d = PlatformDefaults.of(HostOs.WINDOWS,
                Map.of("PROGRAMDATA", "D:\\Data\\", "programfiles", "D:\\Programs"));
        assertThat(d.root()).hasToString("D:\\Data\\berth\\root");
        assertThat(d.cniBinDirs()).extracting(Path::toString).containsExactly("D:\\Programs\\containerd\\cni\\bin");
        assertThat(List.of(d.state(), d.configFile())).extracting(Path::toString)
                .allMatch(s -> s.startsWith("D:\\Data\\berth\\"));
    }
}
