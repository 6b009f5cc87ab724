package __PACKAGE__;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.spi.ContainerSpec;
import dev.berth.spi.PodMetadata;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.testing.RuntimeBackendContractTest;
import dev.berth.spi.testing.TestingBackendContext;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * berth's SPI contract (lifecycle states, idempotent stop and remove, NOT_FOUND for unknown ids, exec exit codes)
 * against this plugin's backend. It fails until the skeleton's methods are implemented.
 *
 * <p>The specs below are the smallest valid ones. A backend that runs real containers needs a root file system
 * and a command that runs on it: see {@link dev.berth.spi.MountSpec} and the runc plugin's tests for one built
 * from busybox.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class __CLASS__ContractTest extends RuntimeBackendContractTest {
    @TempDir
    static Path dir;
    private RuntimeBackend backend;

    @BeforeAll
    void setUp() {
        backend = new __CLASS__BackendFactory().create("__PLUGIN_ID__", Map.of(),
                new TestingBackendContext("__PLUGIN_ID__", dir));
    }

    @AfterAll
    void tearDown() {
        if (backend != null) {
            backend.close();
        }
    }

    /** Besides the contract: on a host that has what the backend needs, it says it is ready to run pods. */
    @Test
    void theBackendIsReadyOnThisHost() {
        assertThat(backend.health().ready()).as("health: %s", backend.health().checks()).isTrue();
    }

    @Override
    protected RuntimeBackend backend() {
        return backend;
    }

    @Override
    protected SandboxSpec sandboxSpec(String id) {
        return new SandboxSpec(id, new PodMetadata("pod", "uid", "default", 0), "pod", "", null, null, null, null,
                "", null, null, null, null, null, null, null, null, null, null, null);
    }

    @Override
    protected ContainerSpec longRunningContainer(String id, String sandboxId) {
        return new ContainerSpec(id, sandboxId, "c", 0, null, List.of("sleep", "3600"), null, "", null, null, null,
                null, null, "", false, false, false, null, null, null, null);
    }
}
