package dev.berth.kata;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.oci.FileTrees;
import dev.berth.spi.BackendEvent;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.ImageConfig;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.testing.HostRequirements;
import dev.berth.spi.testing.RuntimeBackendContractTest;
import dev.berth.spi.testing.TestingBackendContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The SPI contract, run against the real containerd-shim-runc-v2 as handler {@code shimv2-runc} of type kata:
 * the same Task API, start protocol and bundle conventions as Kata's shim, minus the VM.
 */
class KataShimContractTest extends RuntimeBackendContractTest {
    private static Path dir;
    private static Path busybox;
    private static TestingBackendContext context;
    private static RuntimeBackend backend;

    @BeforeAll
    static void setUp() throws Exception {
        HostRequirements.require(ShimHost.usable(), "needs root, busybox, runc and containerd-shim-runc-v2");
        dir = Files.createTempDirectory("berth-kata-contract");
        busybox = ShimHost.busyboxRootfs(dir);
        context = new TestingBackendContext("shimv2-runc", dir);
        backend = new KataBackendFactory().create("shimv2-runc", Map.of("shim", ShimHost.RUNC_SHIM), context);
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (backend == null) {
            return;
        }
        backend.close();
        List<Long> left = ShimHost.processesWith(context.stateDir().toString());
        ShimHost.sweep(context.stateDir(), dir);
        assertThat(left).as("shim processes left behind").isEmpty();
        assertThat(FileTrees.mountsUnder(dir)).as("mounts left behind").isEmpty();
        FileTrees.deleteTree(dir);
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
        return ShimHost.sandbox(id, busybox);
    }

    @Override
    protected ContainerSpec longRunningContainer(String id, String sandboxId) {
        ImageConfig image = new ImageConfig("sha256:busybox", "busybox", List.of(), List.of("sleep", "3600"),
                List.of(), "", "", 0, 0, List.of(), "", Map.of());
        return new ContainerSpec(id, sandboxId, "sleeper", 0, image, List.of(), List.of(), "", List.of(), List.of(),
                List.of(), Map.of(), Map.of(), "", false, false, false, null, null, ShimHost.rootfsOf(busybox), null);
    }
}
