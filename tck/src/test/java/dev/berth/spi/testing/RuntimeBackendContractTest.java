package dev.berth.spi.testing;

import dev.berth.spi.BackendEvent;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxSpec;
import dev.berth.tck.ContractFixture;
import dev.berth.tck.ContractSuite;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The SPI contract ({@link ContractSuite}, the checks {@code berth tck} runs) as JUnit tests: one dynamic test
 * per check. A plugin's test class extends this, supplies a backend and specs that work on its host, and inherits
 * the checks. It lives in the {@code berth-tck} test-jar (the SPI's test-jar cannot depend on the tck, which
 * depends on the SPI); its package is the one plugin tests have always imported it from.
 */
public abstract class RuntimeBackendContractTest {
    private final List<String> sandboxes = new ArrayList<>();

    /** The backend under test; the same instance for the whole test. */
    protected abstract RuntimeBackend backend();

    /** A sandbox spec that can run on this host, with the given id. */
    protected abstract SandboxSpec sandboxSpec(String id);

    /** A container spec whose process keeps running until stopped (e.g. {@code sleep 3600}). */
    protected abstract ContainerSpec longRunningContainer(String id, String sandboxId);

    /** A command that prints {@code text} and a newline on stdout and exits 0. */
    protected List<String> echoCommand(String text) {
        return List.of("echo", text);
    }

    /** A command that exits with {@code code}. */
    protected List<String> exitCommand(int code) {
        return List.of("sh", "-c", "exit " + code);
    }

    /** A command that runs for {@code seconds}. */
    protected List<String> sleepCommand(int seconds) {
        return List.of("sleep", String.valueOf(seconds));
    }

    /**
     * The events the backend published so far (e.g. {@link TestingBackendContext#published()}); null when the
     * test cannot see them, which skips the event checks (visibly, as aborted tests).
     */
    protected List<BackendEvent> publishedEvents() {
        return null;
    }

    /** The fixture the suite runs with: this class's methods. */
    protected ContractFixture fixture() {
        return new ContractFixture() {
            @Override
            public RuntimeBackend backend() {
                return RuntimeBackendContractTest.this.backend();
            }

            @Override
            public SandboxSpec sandboxSpec(String id) {
                return RuntimeBackendContractTest.this.sandboxSpec(id);
            }

            @Override
            public ContainerSpec longRunningContainer(String id, String sandboxId) {
                return RuntimeBackendContractTest.this.longRunningContainer(id, sandboxId);
            }

            @Override
            public List<String> echoCommand(String text) {
                return RuntimeBackendContractTest.this.echoCommand(text);
            }

            @Override
            public List<String> exitCommand(int code) {
                return RuntimeBackendContractTest.this.exitCommand(code);
            }

            @Override
            public List<String> sleepCommand(int seconds) {
                return RuntimeBackendContractTest.this.sleepCommand(seconds);
            }

            @Override
            public Optional<List<BackendEvent>> publishedEvents() {
                return Optional.ofNullable(RuntimeBackendContractTest.this.publishedEvents());
            }
        };
    }

    @TestFactory
    Stream<DynamicTest> contract() {
        // A check of a capability the backend lacks is not run (nor shown as skipped): there is nothing to check.
        return ContractSuite.checksFor(backend()).stream().map(check -> DynamicTest.dynamicTest(check.name(), () -> {
            ContractSuite.Result r = ContractSuite.run(check, fixture());
            switch (r.outcome()) {
                case PASSED -> { }
                case SKIPPED -> Assumptions.abort(check.name() + ": " + r.reason());
                case FAILED -> Assertions.fail(check.name() + " (" + check.description() + "): " + r.reason(),
                        r.error());
            }
        }));
    }

    protected static String newId() {
        return ContractSuite.newId();
    }

    /** Creates and starts a sandbox for a subclass's own test; it is removed after the test. */
    protected String runSandbox() {
        String id = newId();
        sandboxes.add(id);
        backend().createSandbox(sandboxSpec(id));
        backend().startSandbox(id);
        return id;
    }

    @AfterEach
    void removeSandboxes() {
        for (String id : sandboxes) {
            backend().removeSandbox(id);
        }
        sandboxes.clear();
    }
}
