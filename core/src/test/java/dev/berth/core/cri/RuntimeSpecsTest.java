package dev.berth.core.cri;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.core.dispatch.Handler;
import dev.berth.spi.BackendException;
import dev.berth.spi.SpecReading;
import dev.berth.spi.testing.FakeBackend;
import dev.berth.spi.testing.TestingBackendContext;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a verbose status takes of a backend's runtime spec, and what it leaves out. */
class RuntimeSpecsTest {
    @TempDir
    Path tmp;

    /** A fake whose spec for every id is what {@code answer} gives. */
    static final class Specs extends FakeBackend implements SpecReading {
        final Function<String, Optional<String>> answer;

        Specs(Path dir, Function<String, Optional<String>> answer) {
            super(new TestingBackendContext("h", dir), Map.of());
            this.answer = answer;
        }

        @Override
        public Optional<String> containerRuntimeSpec(String containerId) {
            return answer.apply("container " + containerId);
        }

        @Override
        public Optional<String> sandboxRuntimeSpec(String sandboxId) {
            return answer.apply("sandbox " + sandboxId);
        }
    }

    private Handler handler(Function<String, Optional<String>> answer) {
        return new Handler("h", "fake", "builtin", "0", Map.of(), new Specs(tmp, answer));
    }

    @Test
    void theBackendsSpecIsShownAsAJsonObject() {
        Handler h = handler(what -> Optional.of("{\"ociVersion\":\"1.0.2\",\"what\":\"" + what + "\"}"));
        assertThat(RuntimeSpecs.ofContainer(h, "c1")).hasValueSatisfying(spec -> {
            assertThat(spec.path("ociVersion").asText()).isEqualTo("1.0.2");
            assertThat(spec.path("what").asText()).isEqualTo("container c1");
        });
        assertThat(RuntimeSpecs.ofSandbox(h, "p1")).hasValueSatisfying(
                spec -> assertThat(spec.path("what").asText()).isEqualTo("sandbox p1"));
    }

    @Test
    void withoutTheCapabilityOrAHandlerThereIsNone() {
        Handler plain = new Handler("h", "fake", "builtin", "0", Map.of(),
                new FakeBackend(new TestingBackendContext("h", tmp), Map.of()));
        assertThat(RuntimeSpecs.ofContainer(plain, "c1")).isEmpty();
        assertThat(RuntimeSpecs.ofContainer(null, "c1")).isEmpty();
        assertThat(RuntimeSpecs.ofSandbox(null, "p1")).isEmpty();
    }

    @Test
    void whatIsNotOneJsonObjectOfBoundedSizeIsLeftOut() {
        assertThat(RuntimeSpecs.ofContainer(handler(what -> Optional.empty()), "c1")).isEmpty();
        assertThat(RuntimeSpecs.ofContainer(handler(what -> Optional.of("not json")), "c1")).isEmpty();
        assertThat(RuntimeSpecs.ofContainer(handler(what -> Optional.of("[1, 2]")), "c1")).isEmpty();
        assertThat(RuntimeSpecs.ofContainer(handler(what -> Optional.of("{\"a\": ")), "c1")).isEmpty();
        String big = "{\"pad\":\"" + "x".repeat(RuntimeSpecs.MAX_CHARS) + "\"}";
        assertThat(RuntimeSpecs.ofContainer(handler(what -> Optional.of(big)), "c1")).isEmpty();
        String deep = "[".repeat(5000) + "]".repeat(5000);
        assertThat(RuntimeSpecs.ofContainer(handler(what -> Optional.of("{\"a\":" + deep + "}")), "c1")).isEmpty();
    }

    @Test
    void aBackendThatFailsLeavesItOut() {
        Handler gone = handler(what -> {
            throw BackendException.notFound("container", "c1");
        });
        assertThat(RuntimeSpecs.ofContainer(gone, "c1")).isEmpty();
        assertThat(RuntimeSpecs.ofSandbox(gone, "p1")).isEmpty();
    }
}
