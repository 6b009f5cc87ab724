package dev.berth.hcs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.dispatch.Handler;
import dev.berth.core.dispatch.HandlerHealth;
import dev.berth.core.plugin.BackendType;
import dev.berth.core.plugin.PluginHost;
import dev.berth.core.testing.RealBackendDaemon;
import dev.berth.spi.BackendHealth;
import dev.berth.spi.testing.HostRequirements;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The windows-hcs plugin in berth's core on a host that is not Windows: its archive loads with JNA and Jackson in
 * its own class loader; the daemon starts with a handler of the type; the handler's health says why it cannot
 * serve; RunPodSandbox on it fails UNAVAILABLE naming the reason, through core's one error mapping.
 */
class WindowsHcsOnLinuxTest {
    private static final String REASON = "the Host Compute Service exists only on Windows";

    @TempDir
    Path dir;

    @Test
    void theArchiveLoadsInItsOwnClassLoader() throws Exception {
        Path archive = Path.of("../../plugins/windows-hcs/target/windows-hcs.zip");
        assertThat(archive).as("built by the plugin's module before this one").isRegularFile();
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        Files.copy(archive, plugins.resolve("windows-hcs.zip"));
        try (PluginHost host = PluginHost.load(plugins)) {
            assertThat(host.plugins()).singleElement().satisfies(p -> assertThat(p.state()).as(p.error())
                    .isEqualTo("started"));
            BackendType type = host.types().get("windows-hcs");
            assertThat(type).isNotNull();
            assertThat(Class.forName("com.sun.jna.Native", false, type.classLoader()).getClassLoader())
                    .as("JNA from the archive's lib/").isSameAs(type.classLoader());
        }
    }

    @Test
    void theDaemonServesTheHandlerAsUnavailableWithTheReason() throws Exception {
        HostRequirements.require(!System.getProperty("os.name").startsWith("Windows"),
                "runs on a host that is not Windows");
        try (RealBackendDaemon berth = new RealBackendDaemon(dir, dir.resolve("rootfs"),
                List.of(new HcsBackendFactory()))) {
            berth.start("""
                    default_runtime = "windows"
                    [runtimes.windows]
                    type = "windows-hcs"
                    """);
            Handler windows = berth.daemon().registry().active().get("windows");
            assertThat(windows).as("the handler is active").isNotNull();
            HandlerHealth.Result health = berth.daemon().health().health(windows);
            BackendHealth h = health.health();
            assertThat(h.ready()).isFalse();
            assertThat(h.checks()).anySatisfy(c -> assertThat(c.advice()).isEqualTo(REASON));

            assertThatThrownBy(() -> berth.runPod("win", "windows")).isInstanceOfSatisfying(
                    StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                        assertThat(e.getStatus().getDescription()).contains(REASON);
                    });
        }
    }
}
