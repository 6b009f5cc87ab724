package dev.berth.tck;

import dev.berth.spi.BackendEvent;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxSpec;
import java.util.List;
import java.util.Optional;

/**
 * What {@link ContractSuite} needs to exercise one backend: the backend, and specs and commands that work on this
 * host with it. {@link RootfsFixture} is one for backends that run Linux containers from a root file system;
 * a plugin's tests supply their own through the JUnit adapter ({@code RuntimeBackendContractTest}).
 */
public interface ContractFixture {

    /** The backend under test; the same instance for the whole run. */
    RuntimeBackend backend();

    /** A sandbox spec that can run on this host, with the given id. */
    SandboxSpec sandboxSpec(String id);

    /** A container spec whose process keeps running until stopped (e.g. {@code sleep 3600}). */
    ContainerSpec longRunningContainer(String id, String sandboxId);

    /** A command that prints {@code text} and a newline on stdout and exits 0. */
    default List<String> echoCommand(String text) {
        return List.of("echo", text);
    }

    /** A command that exits with {@code code}. */
    default List<String> exitCommand(int code) {
        return List.of("sh", "-c", "exit " + code);
    }

    /** A command that runs for {@code seconds} and exits 0. */
    default List<String> sleepCommand(int seconds) {
        return List.of("sleep", String.valueOf(seconds));
    }

    /**
     * Every event the backend published so far through its context's {@code EventSink}; empty when the fixture
     * cannot see them (the event checks are then reported as skipped, never passed).
     */
    default Optional<List<BackendEvent>> publishedEvents() {
        return Optional.empty();
    }
}
