package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.spi.BackendEvent;
import dev.berth.spi.BackendFeatures;
import dev.berth.spi.ContainerSecurity;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.PodSecurity;
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

/** The SPI contract against real runc and conmon. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RuncContractTest extends RuntimeBackendContractTest {
    Path base;
    Path rootfs;
    RuntimeBackend backend;
    TestingBackendContext context;

    protected String binary() {
        return "runc";
    }

    @BeforeAll
    void setUp() throws Exception {
        Host.assumeRuntime(binary());
        if (binary().equals("crun")) {
            Host.applyCrunHybridFix();
        }
        base = Host.tempDir();
        rootfs = Host.busyboxRootfs(base.resolve("rootfs"));
        context = new TestingBackendContext(binary(), base.resolve("ctx"));
        backend = new RuncBackendFactory().create(binary(), Map.of("binary", binary()), context);
    }

    @AfterAll
    void tearDown() throws Exception {
        if (backend != null) {
            backend.close();
        }
        Host.deleteTree(base);
    }

    @Override
    protected RuntimeBackend backend() {
        return backend;
    }

    @Override
    protected List<BackendEvent> publishedEvents() {
        return context.published();
    }

    @Override
    protected SandboxSpec sandboxSpec(String id) {
        return Host.sandbox(id, rootfs, PodSecurity.DEFAULT);
    }

    /** Beyond the SPI contract: this handler is healthy here and reports the driver it was configured with. */
    @Test
    void reportsTheCgroupfsDriverAndAHealthyHost() {
        assertThat(backend.features().cgroupDriver()).isEqualTo(BackendFeatures.CgroupDriver.CGROUPFS);
        assertThat(backend.health().ready()).as("health: %s", backend.health().checks()).isTrue();
        assertThat(backend.health().checks()).anySatisfy(c -> assertThat(c.what()).contains(binary()));
    }

    @Override
    protected ContainerSpec longRunningContainer(String id, String sandboxId) {
        return Host.container(id, sandboxId, rootfs, List.of("sleep", "3600"), null, null, ContainerSecurity.DEFAULT);
    }
}
