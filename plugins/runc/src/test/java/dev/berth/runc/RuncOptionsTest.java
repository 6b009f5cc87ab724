package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.spi.BackendException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RuncOptionsTest {
    static final Path STATE = Path.of("/state/handlers/runc");

    @Test
    void defaults() {
        RuncOptions o = RuncOptions.parse("runc", Map.of(), STATE);
        assertThat(o.binary().getFileName().toString()).isEqualTo("runc");
        assertThat(o.conmon().getFileName().toString()).isEqualTo("conmon");
        assertThat(o.root()).isEqualTo(STATE.resolve("runtime"));
        assertThat(o.systemdCgroup()).isFalse();
        assertThat(o.noPivot()).isFalse();
        assertThat(o.pauseImage()).isEmpty();
        assertThat(o.dropInfraContainer()).as("pods without a pause container by default").isTrue();
        // The build puts the program beside the classes (target/bin), as the plugin archive does (bin/).
        assertThat(o.logJoiner()).as("the plugin's own berth-logjoin").hasValueSatisfying(p -> {
            assertThat(p.getFileName().toString()).isEqualTo("berth-logjoin");
            assertThat(p).isExecutable();
        });
        assertThat(o.pauseProcess()).as("the plugin's own berth-pause").hasValueSatisfying(p -> {
            assertThat(p.getFileName().toString()).isEqualTo("berth-pause");
            assertThat(p).isExecutable();
        });
    }

    @Test
    void everyOption() {
        RuncOptions o = RuncOptions.parse("crun", Map.of("binary", "/opt/crun", "root", "/run/crun-berth",
                "systemd_cgroup", true, "conmon", "/opt/conmon", "pause_image", "registry.k8s.io/pause:3.10",
                "no_pivot", true, "drop_infra_container", false, "log_joiner", "/opt/berth-logjoin",
                "pause_process", "/opt/berth-pause", "privileged_without_host_devices", true), STATE);
        assertThat(o).isEqualTo(new RuncOptions(Path.of("/opt/crun"), Path.of("/run/crun-berth"), true,
                Path.of("/opt/conmon"), Optional.of("registry.k8s.io/pause:3.10"), true, false,
                Optional.of(Path.of("/opt/berth-logjoin")), Optional.of(Path.of("/opt/berth-pause")), List.of(),
                true));
        assertThat(RuncOptions.parse("runc", Map.of(), STATE).privilegedWithoutHostDevices())
                .as("a privileged container gets the host's devices by default").isFalse();
        assertThat(RuncOptions.parse("runc", Map.of("log_joiner", "none"), STATE).logJoiner())
                .as("conmon writes the log itself").isEmpty();
        assertThat(RuncOptions.parse("runc", Map.of("pause_process", "none"), STATE).pauseProcess())
                .as("shared-pid pods get a pause container").isEmpty();
        assertThat(o.runtimeName()).isEqualTo("crun");
    }

    @Test
    void runscFlagsReachEveryCallOfTheRuntime() {
        RuncOptions o = RuncOptions.parse("gvisor", Map.of("binary", "/opt/runsc", "platform", "ptrace",
                "network", "host", "debug_log", "/var/log/runsc/", "runtime_args", List.of("--overlay")), STATE);
        assertThat(o.runsc()).isTrue();
        assertThat(o.dropInfraContainer()).as("a gVisor pod needs its sandbox: the pause container").isFalse();
        assertThat(o.runtimeArgs()).containsExactly("--platform=ptrace", "--network=host", "--debug",
                "--debug-log=/var/log/runsc/", "--overlay", "--oci-seccomp");
        assertThat(o.runtimeFlag("network")).hasValue("host");
        RuntimeCli cli = new RuntimeCli(o);
        assertThat(cli.command(List.of("state", "x"))).containsExactly("/opt/runsc", "--root",
                STATE.resolve("runtime").toString(), "--platform=ptrace", "--network=host", "--debug",
                "--debug-log=/var/log/runsc/", "--overlay", "--oci-seccomp", "state", "x");
        assertThat(String.join(" ", cli.conmonArgs())).isEqualTo("--runtime-arg --root=" + STATE.resolve("runtime")
                + " --runtime-arg --platform=ptrace --runtime-arg --network=host --runtime-arg --debug"
                + " --runtime-arg --debug-log=/var/log/runsc/ --runtime-arg --overlay --runtime-arg --oci-seccomp");
        assertThat(RuncOptions.parse("gvisor", Map.of("binary", "runsc", "runtime_args",
                List.of("--oci-seccomp=false")), STATE).runtimeArgs()).as("seccomp left to gVisor alone")
                .containsExactly("--oci-seccomp=false");
        assertThat(RuncOptions.parse("gvisor", Map.of("binary", "runsc"), STATE).dropInfraContainer()).isFalse();
        assertThat(RuncOptions.parse("runc", Map.of("runtime_args", List.of("--debug")), STATE).runtimeArgs())
                .containsExactly("--debug");
    }

    static Stream<Arguments> bad() {
        return Stream.of(
                Arguments.of(Map.of("bianry", "runc"), "bianry"),
                Arguments.of(Map.of("binary", 3), "binary"),
                Arguments.of(Map.of("binary", ""), "binary"),
                Arguments.of(Map.of("systemd_cgroup", "yes"), "systemd_cgroup"),
                Arguments.of(Map.of("no_pivot", 1), "no_pivot"),
                Arguments.of(Map.of("drop_infra_container", "no"), "drop_infra_container"),
                Arguments.of(Map.of("root", "relative/dir"), "root"),
                Arguments.of(Map.of("pause_image", false), "pause_image"),
                Arguments.of(Map.of("log_joiner", ""), "log_joiner"),
                Arguments.of(Map.of("runtime_args", "--debug"), "runtime_args"),
                Arguments.of(Map.of("runtime_args", List.of("--debug", "")), "runtime_args"),
                Arguments.of(Map.of("runtime_args", List.of("--debug-log", "/var/log/x")), "runtime_args"),
                Arguments.of(Map.of("platform", "ptrace"), "platform"), // runc has no platform
                Arguments.of(Map.of("binary", "/opt/runsc", "network", "bridge"), "network"),
                Arguments.of(Map.of("binary", "/opt/runsc", "debug_log", "logs/"), "debug_log"),
                Arguments.of(Map.of("binary", "/opt/runsc", "drop_infra_container", true), "drop_infra_container"));
    }

    @ParameterizedTest
    @MethodSource("bad")
    void badOptionsNameTheKey(Map<String, Object> options, String key) {
        assertThatThrownBy(() -> RuncOptions.parse("h", options, STATE))
                .isInstanceOfSatisfying(BackendException.class, e -> {
                    assertThat(e.kind()).isEqualTo(BackendException.Kind.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).contains("\"" + key + "\"").contains("\"h\"");
                });
    }

    @Test
    void factoryTypeAndValidation(@org.junit.jupiter.api.io.TempDir Path dir) {
        RuncBackendFactory f = new RuncBackendFactory();
        assertThat(f.type()).isEqualTo("runc");
        assertThatThrownBy(() -> f.create("h", Map.of("nope", 1),
                new dev.berth.spi.testing.TestingBackendContext("h", dir)))
                .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.getMessage()).contains("\"nope\""));
    }
}
