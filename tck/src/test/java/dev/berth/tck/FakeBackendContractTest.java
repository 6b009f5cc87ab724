package dev.berth.tck;

import dev.berth.spi.BackendEvent;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.PodMetadata;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.testing.FakeBackend;
import dev.berth.spi.testing.RuntimeBackendContractTest;
import dev.berth.spi.testing.TestingBackendContext;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** The fake backend honours the same contract as the real ones, through the JUnit adapter plugins use. */
class FakeBackendContractTest extends RuntimeBackendContractTest {
    @TempDir
    Path dir;

    private TestingBackendContext context;
    private FakeBackend backend;

    @BeforeEach
    void setUp() {
        context = new TestingBackendContext("fake", dir);
        backend = new FakeBackend(context, Map.of());
    }

    @Override
    protected RuntimeBackend backend() {
        return backend;
    }

    @Override
    protected SandboxSpec sandboxSpec(String id) {
        return FakeSpecs.sandbox(id);
    }

    @Override
    protected ContainerSpec longRunningContainer(String id, String sandboxId) {
        return FakeSpecs.container(id, sandboxId);
    }

    @Override
    protected List<BackendEvent> publishedEvents() {
        return context.published();
    }

    /** Specs the fake accepts, and its command language. */
    static final class FakeSpecs {
        private FakeSpecs() {}

        static SandboxSpec sandbox(String id) {
            return new SandboxSpec(id, new PodMetadata("pod", "uid", "default", 0), "pod", "", null, null, null, null,
                    "", null, null, null, null, null, null, null, null, null, null, null);
        }

        static ContainerSpec container(String id, String sandboxId) {
            return new ContainerSpec(id, sandboxId, "c", 0, null, List.of("sleep", "3600"), null, "", null, null,
                    null, null, null, "", false, false, false, null, null, null, null);
        }
    }
}
