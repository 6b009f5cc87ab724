package dev.berth.core.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.config.ConfigException;
import dev.berth.spi.BackendException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The handler table on its own: resolving, claiming, reloads into generations, retiring, drains. */
class HandlerRegistryTest {
    static final String ONE = """
            default_runtime = "a"
            [runtimes.a]
            type = "fake"
            [runtimes.a.options]
            sandbox_image = "pause:1"
            [runtimes.b]
            type = "fake"
            """;
    static final String TWO = ONE.replace("pause:1", "pause:2");

    @TempDir
    Path dir;

    RegistryFixture f;
    HandlerRegistry registry;

    @BeforeEach
    void open() throws Exception {
        f = new RegistryFixture(dir);
        registry = f.registry;
        registry.open(f.config(ONE), List.of(), true);
    }

    @AfterEach
    void close() {
        registry.close();
    }

    @Test
    void anEmptyHandlerIsTheDefaultAndAnUnknownOneIsInvalid() {
        assertThat(registry.resolve("").name()).isEqualTo("a");
        assertThat(registry.resolve(null).name()).isEqualTo("a");
        assertThat(registry.resolve("b").name()).isEqualTo("b");
        assertThatThrownBy(() -> registry.resolve("nope")).isInstanceOfSatisfying(BackendException.class, e -> {
            assertThat(e.kind()).isEqualTo(BackendException.Kind.INVALID_ARGUMENT);
            assertThat(e.getMessage()).contains("unknown runtime handler \"nope\"").contains("a, b")
                    .contains("default: a");
        });
    }

    @Test
    void claimBindsAPodAndReleaseUnbindsIt() {
        Handler a = registry.claim("p1", "a");
        registry.claim("p2", "");
        assertThat(registry.podCount(a)).isEqualTo(2);
        registry.release(a, "p1");
        assertThat(registry.podCount(a)).isEqualTo(1);
        registry.release(a, "p1");
        assertThat(registry.podCount(a)).isEqualTo(1);
    }

    @Test
    void anUnchangedHandlerKeepsItsBackendOnReload() throws Exception {
        Handler before = registry.resolve("b");
        registry.apply(f.config(TWO));
        assertThat(registry.resolve("b")).isSameAs(before);
        assertThat(f.log).doesNotContain("close b");
    }

    @Test
    void aChangedHandlerGetsANewGenerationAndTheOldOneIsClosedWithItsLastPod() throws Exception {
        Handler old = registry.claim("p1", "a");
        registry.apply(f.config(TWO));
        Handler now = registry.resolve("a");
        assertThat(now).isNotSameAs(old);
        assertThat(List.of(old.generation(), now.generation())).containsExactly(0, 1);
        assertThat(registry.generations()).contains(old, now);
        assertThat(f.log).doesNotContain("close a pause:1");
        assertThat(Files.isDirectory(dir.resolve("state/handlers/a@1"))).isTrue();

        registry.release(old, "p1");
        assertThat(f.log).contains("close a pause:1");
        assertThat(registry.generations()).doesNotContain(old).contains(now);
        assertThat(registry.podCount(old)).isZero();
    }

    @Test
    void aGenerationOwnedOnlyByAnotherOwnerIsReopenedAfterARestartNotDeleted() throws Exception {
        registry.claim("p1", "a"); // keeps generation 0 through the reload
        registry.apply(f.config(TWO));
        assertThat(Files.isDirectory(dir.resolve("state/handlers/a@1"))).isTrue();
        registry.close();

        // A restart with no pod record left on generation 0, but a container of the containerd 0.2 API on it.
        f = new RegistryFixture(dir);
        registry = f.registry;
        registry.open(f.config(TWO), List.of(), true, List.of(new HandlerRegistry.Owner("a", 0)));
        assertThat(registry.generations()).filteredOn(h -> h.name().equals("a")).extracting(Handler::generation)
                .containsExactlyInAnyOrder(0, 1);
        assertThat(registry.resolve("a").generation()).isEqualTo(1);
        registry.close();

        // Without that owner the retired generation goes, with its state.
        f = new RegistryFixture(dir);
        registry = f.registry;
        registry.open(f.config(TWO), List.of(), true);
        assertThat(registry.generations()).filteredOn(h -> h.name().equals("a")).extracting(Handler::generation)
                .containsExactly(1);
    }

    @Test
    void aRetiredGenerationWithoutPodsClosesAtOnce() throws Exception {
        Handler old = registry.resolve("a");
        registry.apply(f.config(TWO));
        assertThat(f.log).contains("close a pause:1");
        assertThat(registry.generations()).doesNotContain(old);
    }

    @Test
    void aReloadNamingAnUnknownTypeChangesNothing() throws Exception {
        Handler a = registry.resolve("a");
        var bad = f.config(ONE + "[runtimes.c]\ntype = \"nosuch\"\n");
        assertThatThrownBy(() -> registry.apply(bad)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("no loaded plugin provides backend type \"nosuch\"")
                .hasMessageContaining("available types: fake");
        assertThat(registry.resolve("a")).isSameAs(a);
        assertThat(registry.active().keySet()).containsExactly("a", "b");
    }

    @Test
    void aDrainedHandlerTakesNoNewPods() {
        registry.drains().set("b", true);
        assertThatThrownBy(() -> registry.claim("p1", "b")).isInstanceOfSatisfying(BackendException.class, e -> {
            assertThat(e.kind()).isEqualTo(BackendException.Kind.UNAVAILABLE);
            assertThat(e.getMessage()).contains("\"b\" is drained");
        });
        assertThat(registry.podCount(registry.resolve("b"))).isZero();
        registry.drains().set("b", false);
        assertThat(registry.claim("p1", "b").name()).isEqualTo("b");
    }

    @Test
    void handlersGetProxiedBackendsAndLoadersAreTracked() {
        Handler a = registry.resolve("a");
        assertThat(java.lang.reflect.Proxy.isProxyClass(a.backend().getClass())).isTrue();
        assertThat(registry.loaderOf(a)).isSameAs(RegistryFixture.class.getClassLoader());
        assertThat(registry.loadersInUse()).containsExactly(RegistryFixture.class.getClassLoader());
    }

    @Test
    void closeClosesEveryGeneration() {
        registry.close();
        assertThat(f.log).contains("close a pause:1", "close b");
        assertThat(registry.generations()).isEmpty();
    }
}
