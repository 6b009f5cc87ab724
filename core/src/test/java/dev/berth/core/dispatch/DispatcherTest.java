package dev.berth.core.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.store.SandboxRecord;
import dev.berth.spi.BackendException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Routing by pod id to the generation that created the pod, never re-resolved from the config. */
class DispatcherTest {
    @TempDir
    Path dir;

    RegistryFixture f;
    Dispatcher dispatcher;

    @BeforeEach
    void open() throws Exception {
        f = new RegistryFixture(dir);
        f.registry.open(f.config(HandlerRegistryTest.ONE), List.of(), true);
        dispatcher = new Dispatcher(f.registry);
    }

    @AfterEach
    void close() {
        f.registry.close();
    }

    static SandboxRecord record(String id, String handler, int generation) {
        return new SandboxRecord(id, "k-" + id, id, "u", "default", 0, handler, "fake", "builtin", null, null,
                Instant.EPOCH, null, "", "", null, false, SandboxRecord.State.READY, generation);
    }

    @Test
    void aClaimedPodStaysOnItsGenerationAfterAReload() throws Exception {
        Handler first = dispatcher.claim("p1", "a");
        f.registry.apply(f.config(HandlerRegistryTest.TWO));
        assertThat(dispatcher.forSandbox(record("p1", "a", 0))).isSameAs(first);
        assertThat(dispatcher.claim("p2", "a")).isNotSameAs(first);
    }

    @Test
    void aRecordIsAdoptedByItsHandlerAndGeneration() {
        Handler b = f.registry.resolve("b");
        assertThat(dispatcher.forSandbox(record("p9", "b", 0))).isSameAs(b);
        assertThat(f.registry.podCount(b)).isEqualTo(1);
        assertThat(dispatcher.forSandbox(record("p9", "b", 0))).isSameAs(b);
        assertThat(f.registry.podCount(b)).isEqualTo(1);
    }

    @Test
    void aRecordOfAnUnknownHandlerOrGenerationIsUnavailable() {
        assertThatThrownBy(() -> dispatcher.forSandbox(record("p1", "gone", 0)))
                .isInstanceOfSatisfying(BackendException.class, e -> {
                    assertThat(e.kind()).isEqualTo(BackendException.Kind.UNAVAILABLE);
                    assertThat(e.getMessage()).contains("\"gone\"").contains("\"p1\"");
                });
        assertThat(dispatcher.forSandboxOrNull(record("p2", "a", 7))).isNull();
    }

    @Test
    void unbindReleasesThePodAndClosesARetiredGeneration() throws Exception {
        Handler first = dispatcher.claim("p1", "a");
        f.registry.apply(f.config(HandlerRegistryTest.TWO));
        assertThat(f.log).doesNotContain("close a pause:1");
        dispatcher.unbind("p1");
        assertThat(f.log).contains("close a pause:1");
        assertThat(f.registry.podCount(first)).isZero();
        dispatcher.unbind("p1");
    }

    @Test
    void bindAtRecoveryCountsThePod() {
        Handler b = f.registry.resolve("b");
        dispatcher.bind("p5", b);
        assertThat(f.registry.podCount(b)).isEqualTo(1);
        assertThat(dispatcher.forSandbox(record("p5", "other", 3))).isSameAs(b);
    }
}
