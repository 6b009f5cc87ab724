package dev.berth.core.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.spi.BackendException;
import dev.berth.spi.DnsConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** NetworkReady follows the conf dir without a restart; the default config installs only into an empty dir. */
class NetworkReadinessTest {
    private static final String LIST = """
            {"cniVersion":"%s","name":"fake","plugins":[{"type":"%s"}]}
            """;

    @TempDir
    Path temp;
    private PodNetworking networking;

    @AfterEach
    void close() {
        if (networking != null) {
            networking.close();
        }
    }

    private PodNetworking start(Path confDir, Path binDir) {
        networking = new PodNetworking(new NetworkSettings(confDir, List.of(binDir), temp.resolve("state"),
                Duration.ofSeconds(30)));
        return networking;
    }

    private NetworkReadiness awaitReadiness(Predicate<NetworkReadiness> condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        NetworkReadiness r = networking.readiness();
        while (!condition.test(r) && System.nanoTime() < deadline) {
            Thread.sleep(50);
            r = networking.readiness();
        }
        return r;
    }

    @Test
    void notReadyUntilAConfigAppearsInADirThatDidNotExist() throws Exception {
        Path confDir = temp.resolve("etc/cni/net.d");
        Path binDir = temp.resolve("bin");
        CniTestSupport.installPlugin(binDir, "fakenet", "failing-plugin.sh", Map.of());
        PodNetworking net = start(confDir, binDir);

        NetworkReadiness initial = net.readiness();
        assertThat(initial.ready()).isFalse();
        assertThat(initial.reason()).isEqualTo("NetworkPluginNotReady");
        assertThat(initial.message()).isEqualTo("no network config found in " + confDir);
        assertThatThrownBy(() -> net.setUp(new PodNetworkRequest("p1", "p", "ns", "u", List.of(), DnsConfig.NONE,
                Map.of(), ""))).isInstanceOfSatisfying(BackendException.class, e -> {
                    assertThat(e.kind()).isEqualTo(BackendException.Kind.UNAVAILABLE);
                    assertThat(e.getMessage()).isEqualTo("failed to set up pod network \"p1\": no network config found in "
                            + confDir);
                });

        // The dir and its parents appear later, then a config is written into it.
        Files.createDirectories(confDir);
        Files.writeString(confDir.resolve("10-fake.conflist"), LIST.formatted("1.0.0", "fakenet"));
        assertThat(awaitReadiness(NetworkReadiness::ready).ready()).isTrue();
        assertThat(net.readiness().reason()).isEmpty();

        // A lexically earlier broken file takes over, as in containerd, and says so.
        Files.writeString(confDir.resolve("00-broken.conflist"), "{ nope");
        NetworkReadiness broken = awaitReadiness(r -> !r.ready());
        assertThat(broken.ready()).isFalse();
        assertThat(broken.message()).contains("00-broken.conflist");

        Files.delete(confDir.resolve("00-broken.conflist"));
        assertThat(awaitReadiness(NetworkReadiness::ready).ready()).isTrue();
        Files.delete(confDir.resolve("10-fake.conflist"));
        assertThat(awaitReadiness(r -> !r.ready()).message()).startsWith("no network config found");
    }

    @Test
    void aMissingPluginMakesTheNetworkNotReady() throws Exception {
        Path confDir = Files.createDirectories(temp.resolve("net.d"));
        Files.writeString(confDir.resolve("10-x.conflist"), LIST.formatted("1.0.0", "nosuchplugin"));
        NetworkReadiness r = start(confDir, Files.createDirectories(temp.resolve("bin"))).readiness();
        assertThat(r.ready()).isFalse();
        assertThat(r.message()).contains("\"nosuchplugin\"").contains("not found");
        assertThat(networking.doctor()).anyMatch(l -> l.startsWith("problem: CNI plugin \"nosuchplugin\""));
    }

    @Test
    void spec110StatusFailureMakesTheNetworkNotReady() throws Exception {
        Path confDir = temp.resolve("net.d");
        Path marker = installStatusPlugin(confDir);
        Files.writeString(marker, "");
        PodNetworking net = start(confDir, temp.resolve("bin"));
        NetworkReadiness r = net.readiness();
        assertThat(r.ready()).isFalse();
        assertThat(r.message()).contains("berth test plugin is not ready: marker present");
        Files.delete(marker);
        // The answer may be the cached one: a check runs again in the background every max age.
        assertThat(awaitReadiness(NetworkReadiness::ready).ready()).isTrue();

        // Before 1.1 there is no STATUS: the same plugin is not asked.
        Files.writeString(marker, "");
        Files.writeString(confDir.resolve("10-s.conflist"), LIST.formatted("1.0.0", "statusnet"));
        assertThat(awaitReadiness(NetworkReadiness::ready).ready()).isTrue();
    }

    @Test
    void theAnswerIsCheckedAgainInTheBackgroundWithoutACallAskingForIt() throws Exception {
        Path confDir = temp.resolve("net.d");
        Path marker = installStatusPlugin(confDir);
        PodNetworking net = start(confDir, temp.resolve("bin"));
        assertThat(net.readiness().ready()).isTrue();
        Files.writeString(marker, "");
        // No call in between: the first one after more than the max age already has the new answer.
        Thread.sleep(CniReadiness.MAX_AGE.toMillis() * 2 + 2000);
        NetworkReadiness r = net.readiness();
        assertThat(r.ready()).isFalse();
        assertThat(r.message()).contains("marker present");
    }

    /**
     * A CNI 1.1 conflist in {@code confDir} whose one plugin, in {@code temp/bin}, answers STATUS with an error while
     * the returned marker file exists (it does not yet).
     */
    private Path installStatusPlugin(Path confDir) throws Exception {
        Files.createDirectories(confDir);
        Path marker = temp.resolve("not-ready");
        CniTestSupport.installPlugin(temp.resolve("bin"), "statusnet", "status-plugin.sh",
                Map.of("MARKER", marker.toString()));
        Files.writeString(confDir.resolve("10-s.conflist"), LIST.formatted("1.1.0", "statusnet"));
        return marker;
    }

    @Test
    void anUnchangedConfigKeepsItsLoadedRecordAndAChangedOneGetsANewOne() throws Exception {
        Path confDir = Files.createDirectories(temp.resolve("net.d"));
        Files.writeString(confDir.resolve("10-x.conflist"), LIST.formatted("1.0.0", "bridge"));
        try (CniConfigWatcher watcher = new CniConfigWatcher(confDir)) {
            CniConfigWatcher.Loaded first = watcher.reload();
            // What the watcher's re-poll does every few seconds: the same config is the same record, so that the
            // readiness answer kept for it stays current and a Status call does not check again.
            assertThat(watcher.reload()).isSameAs(first);
            assertThat(watcher.loaded()).isSameAs(first);
            Files.writeString(confDir.resolve("10-x.conflist"), LIST.formatted("1.0.0", "macvlan"));
            CniConfigWatcher.Loaded changed = watcher.reload();
            assertThat(changed).isNotSameAs(first);
            assertThat(changed.config().pluginTypes()).containsExactly("macvlan");
        }
    }

    @Test
    void defaultConfigInstallsOnlyIntoADirWithoutConfig() throws Exception {
        Path confDir = temp.resolve("net.d");
        assertThat(PodNetworking.installDefaultConfig(confDir)).isTrue();
        CniConfig config = CniConfig.loadFirst(confDir).orElseThrow();
        assertThat(config.source().getFileName().toString()).isEqualTo(PodNetworking.DEFAULT_CONFIG_NAME);
        assertThat(config.pluginTypes()).containsExactly("bridge", "portmap");
        assertThat(config.plugins().get(0).path("bridge").asText()).isEqualTo("berth0");
        assertThat(config.plugins().get(0).path("ipam").path("ranges").toString()).contains("10.88.0.0/16");
        assertThat(config.plugins().get(1).path("capabilities").path("portMappings").asBoolean()).isTrue();

        Files.writeString(confDir.resolve(PodNetworking.DEFAULT_CONFIG_NAME), "{\"operator\":\"edited\"}");
        assertThat(PodNetworking.installDefaultConfig(confDir)).isFalse();
        assertThat(Files.readString(confDir.resolve(PodNetworking.DEFAULT_CONFIG_NAME))).contains("edited");

        Path other = Files.createDirectories(temp.resolve("other"));
        Files.writeString(other.resolve("05-operator.conf"), "{}");
        assertThat(PodNetworking.installDefaultConfig(other)).isFalse();
        assertThat(other.resolve(PodNetworking.DEFAULT_CONFIG_NAME)).doesNotExist();
    }

    @Test
    void doctorReportsAMissingConfig() {
        PodNetworking net = start(temp.resolve("absent"), temp.resolve("nobin"));
        assertThat(net.doctor()).anyMatch(l -> l.startsWith("problem: no network config found in "))
                .anyMatch(l -> l.contains("CNI bin dir") && l.contains("does not exist"));
    }
}
