package dev.berth.core.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.config.BerthConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** {@code berth version} names every API berth serves with its socket; {@code berth config} shows [legacy]. */
class VersionCommandTest {
    @Test
    void everyApiIsListedWithItsSocket() {
        assertThat(VersionCommand.lines())
                .anySatisfy(l -> assertThat(l).contains("runtime.v1,", "runtime.v1alpha2", "CRI socket"))
                .anySatisfy(l -> assertThat(l).contains("containerd 0.2 API", "[legacy] containerd_api_socket"));
    }

    @Test
    void theConfigShowsTheContainerdSocketWhenSet() {
        BerthConfig d = BerthConfig.defaults();
        assertThat(dev.berth.core.config.EffectiveConfig.toMap(d)).doesNotContainKey("legacy");
        BerthConfig withSocket = new BerthConfig(d.socket(), d.root(), d.state(), d.defaultRuntime(), d.runtimes(),
                d.pluginsDir(), d.images(), d.network(), d.streaming(), d.logLevel(), d.healthInterval(), d.metrics(),
                d.tracing(), d.logFormat(), new BerthConfig.Legacy(Path.of("/run/berth/containerd.sock"), ""),
                d.warmUpRounds(), d.cdiSpecDirs());
        assertThat(dev.berth.core.config.EffectiveConfig.toMap(withSocket)).containsKey("legacy");
    }
}
