package dev.berth.core.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.config.ConfigLoader;
import dev.berth.core.plugin.PluginHost;
import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendHealth;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.testing.FakeBackend;
import dev.berth.spi.testing.FakeBackendFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Handler health is the backend's own check, run by the timer and cached for readers. */
class HandlerHealthTest {
    @TempDir
    Path dir;

    private final AtomicInteger checks = new AtomicInteger();
    private final AtomicInteger featureAsks = new AtomicInteger();
    private volatile Object answer = Boolean.TRUE;

    private final FakeBackendFactory factory = new FakeBackendFactory() {
        @Override
        public RuntimeBackend create(String handlerName, Map<String, Object> options, BackendContext context) {
            return new FakeBackend(context, options) {
                @Override
                public dev.berth.spi.BackendFeatures features() {
                    featureAsks.incrementAndGet();
                    return super.features();
                }

                @Override
                public BackendHealth health() {
                    checks.incrementAndGet();
                    if (answer instanceof RuntimeException e) {
                        throw e;
                    }
                    return BackendHealth.of(List.of(new BackendHealth.Check((Boolean) answer, "shim present",
                            "install the shim")));
                }
            };
        }
    };

    private HandlerRegistry registry() throws Exception {
        Path file = dir.resolve("config.toml");
        Files.writeString(file, "state = \"" + dir.resolve("state") + "\"\nroot = \"" + dir.resolve("root")
                + "\"\ndefault_runtime = \"f\"\n[runtimes.f]\ntype = \"fake\"\n");
        var registry = new HandlerRegistry(PluginHost.of(List.of(factory)).types(), dir.resolve("state"),
                dir.resolve("root"), e -> {});
        registry.apply(ConfigLoader.load(file, true));
        return registry;
    }

    @Test
    void readersGetTheCachedResultAndOnlyTheTimerRoundChecksAgain() throws Exception {
        try (var registry = registry(); var health = new HandlerHealth(registry)) {
            Handler h = registry.active().get("f");
            var first = health.health(h);
            assertThat(first.health().ready()).isTrue();
            assertThat(health.health(h)).isSameAs(first);
            assertThat(checks).hasValue(1);

            answer = Boolean.FALSE;
            assertThat(health.health(h).health().ready()).as("still the cached result").isTrue();
            health.checkAll();
            assertThat(checks).hasValue(2);
            var now = health.health(h).health();
            assertThat(now.ready()).isFalse();
            assertThat(now.checks()).singleElement().satisfies(c -> assertThat(c.advice()).isEqualTo("install the shim"));
        }
    }

    @Test
    void aCheckThatThrowsIsNotReadyWithTheReason() throws Exception {
        try (var registry = registry(); var health = new HandlerHealth(registry)) {
            answer = new IllegalStateException("socket gone");
            var r = health.health(registry.active().get("f")).health();
            assertThat(r.ready()).isFalse();
            assertThat(r.checks()).singleElement().satisfies(c -> assertThat(c.advice()).contains("socket gone"));
        }
    }

    @Test
    void featuresAreAskedOnceWithTheFirstRoundAndNeverOnAThreadThatMustNotBlock() throws Exception {
        try (var registry = registry(); var health = new HandlerHealth(registry)) {
            Handler h = registry.active().get("f");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> dev.berth.core.util.NonBlocking.call(
                    () -> health.features(h))).isInstanceOf(dev.berth.core.util.NonBlocking.WouldBlock.class);
            assertThat(featureAsks).hasValue(0);

            health.checkAll();
            assertThat(featureAsks).hasValue(1);
            var f = dev.berth.core.util.NonBlocking.call(() -> health.features(h));
            assertThat(f).isEqualTo(h.backend().features());
            health.checkAll();
            health.features(h);
            assertThat(featureAsks).as("asked once by the rounds, once by this test").hasValue(2);
        }
    }
}
