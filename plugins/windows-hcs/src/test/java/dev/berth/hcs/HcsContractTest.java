package dev.berth.hcs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.spi.BackendEvent;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.testing.RuntimeBackendContractTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The SPI contract (berth's ContractSuite) against the windows-hcs backend over the recording fake of HCS, HNS
 * and the layer API. Afterwards the fake must have seen no breach of the HCS protocol and hold no open handle,
 * active layer or HNS namespace.
 */
class HcsContractTest extends RuntimeBackendContractTest {
    private static Path dir;
    private static Fixtures.Rig rig;
    private static HcsBackend backend;

    @BeforeAll
    static void setUp() throws Exception {
        dir = Files.createTempDirectory("berth-hcs-contract");
        rig = new Fixtures.Rig(dir);
        backend = rig.backend(Map.of("shutdown_timeout_seconds", 5));
    }

    @AfterAll
    static void tearDown() throws Exception {
        backend.close();
        assertThat(rig.hcs.violations()).as("breaches of the HCS call protocol").isEmpty();
        assertThat(rig.hcs.openHandles()).as("compute system and process handles left open").isZero();
        assertThat(rig.hcs.registeredCallbacks()).as("callbacks left registered").isZero();
        assertThat(rig.layers.active()).as("layers left active").isEmpty();
        assertThat(rig.layers.violations()).as("breaches of the layer API's order").isEmpty();
        assertThat(rig.layers.layers()).as("layers left after their last pod and container").isEmpty();
        assertThat(rig.hcn.namespaces()).as("HNS namespaces left behind").isEmpty();
        assertThat(rig.hcn.openHandles()).as("HNS handles left open").isZero();
        assertThat(ProcessHandle.current().children().filter(p -> p.isAlive() && p.info().commandLine()
                .map(c -> c.contains("LogRelayMain")).orElse(false)).toList()).as("log relays left running").isEmpty();
        Fixtures.deleteTree(dir);
    }

    @Override
    protected RuntimeBackend backend() {
        return backend;
    }

    @Override
    protected List<BackendEvent> publishedEvents() {
        return rig.context.published();
    }

    @Override
    protected SandboxSpec sandboxSpec(String id) {
        return Fixtures.sandbox(id);
    }

    @Override
    protected ContainerSpec longRunningContainer(String id, String sandboxId) {
        return Fixtures.container(id, sandboxId, Fixtures.PING, "");
    }

    @Override
    protected List<String> echoCommand(String text) {
        return List.of("cmd", "/c", "echo", text);
    }

    @Override
    protected List<String> exitCommand(int code) {
        return List.of("cmd", "/c", "exit", String.valueOf(code));
    }

    @Override
    protected List<String> sleepCommand(int seconds) {
        return List.of("ping", "-n", String.valueOf(seconds + 1), "127.0.0.1");
    }
}
