package dev.berth.kata;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.oci.FileTrees;
import dev.berth.spi.BackendEvent;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.ImageConfig;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.testing.RuntimeBackendContractTest;
import dev.berth.spi.testing.TestingBackendContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;

/**
 * The SPI contract against a real Kata VM. Runs only where {@code BERTH_KATA_SHIM} names an installed
 * {@code containerd-shim-kata-v2} (optional {@code BERTH_KATA_CONFIG}: a configuration.toml), on a host with
 * working KVM and /dev/vhost-vsock. Skipped everywhere else; see the README for the exact command.
 */
class KataVmContractTest extends RuntimeBackendContractTest {
    private static Path dir;
    private static Path busybox;
    private static TestingBackendContext context;
    private static RuntimeBackend backend;

    @BeforeAll
    static void setUp() throws Exception {
        String shim = System.getenv("BERTH_KATA_SHIM");
        Assumptions.assumeTrue(shim != null && !shim.isBlank() && ShimHost.usable(),
                "set BERTH_KATA_SHIM to a containerd-shim-kata-v2 on a KVM host (as root)");
        Map<String, Object> options = new HashMap<>(Map.of("shim", shim, "create_timeout", "180s",
                "start_timeout", "60s", "exec_timeout", "60s"));
        String config = System.getenv("BERTH_KATA_CONFIG");
        if (config != null && !config.isBlank()) {
            options.put("config_path", config);
        }
        dir = Files.createTempDirectory("berth-kata-vm");
        busybox = ShimHost.busyboxRootfs(dir);
        context = new TestingBackendContext("kata-test", dir);
        backend = new KataBackendFactory().create("kata-test", options, context);
        assertThat(backend.health().ready()).as(backend.health().toString()).isTrue();
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
