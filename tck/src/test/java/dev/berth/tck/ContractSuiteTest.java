package dev.berth.tck;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.spi.BackendEvent;
import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.ExecResult;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.SandboxStatus;
import dev.berth.spi.testing.FakeBackend;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The suite passes a backend that keeps the contract, and fails exactly the checks a broken one breaks. */
class ContractSuiteTest {
    @TempDir
    Path dir;

    @Test
    void theFakeBackendPassesEveryCheck() {
        var results = ContractSuite.runAll(fixture(new FakeBackend(context(), Map.of())), r -> {});
        assertThat(ContractSuite.notPassed(results)).isEmpty();
        // all but the checks of capabilities it lacks
        assertThat(results).extracting(ContractSuite.Result::name)
                .containsExactlyElementsOf(ContractSuite.checks().stream().filter(c -> c.capability() == null)
                        .map(ContractSuite.Check::name).toList())
                .doesNotHaveDuplicates();
        var withSpecs = ContractSuite.runAll(fixture(new SpecFake(context(), false)), r -> {});
        assertThat(ContractSuite.notPassed(withSpecs)).isEmpty();
        assertThat(withSpecs).hasSize(ContractSuite.checks().size());
    }

    @Test
    void aSpecReadingThatAnswersForARemovedContainerFailsOnlyItsCheck() {
        var results = ContractSuite.runAll(fixture(new SpecFake(context(), true)), r -> {});
        assertThat(ContractSuite.notPassed(results)).singleElement().satisfies(r -> {
            assertThat(r.name()).isEqualTo("spec-reading");
            assertThat(r.reason()).isEqualTo("containerRuntimeSpec after removeContainer succeeded, expected a "
                    + "BackendException of kind NOT_FOUND");
        });
    }

    /** The fake with {@link dev.berth.spi.SpecReading}; {@code stale} keeps answering for removed containers. */
    static final class SpecFake extends FakeBackend implements dev.berth.spi.SpecReading {
        private final boolean stale;

        SpecFake(ScratchBackendContext context, boolean stale) {
            super(context, Map.of());
            this.stale = stale;
        }

        private final java.util.Set<String> created = java.util.concurrent.ConcurrentHashMap.newKeySet();

        @Override
        public ContainerStatus createContainer(ContainerSpec spec) {
            ContainerStatus s = super.createContainer(spec);
            created.add(spec.id());
            return s;
        }

        @Override
        public Optional<String> containerRuntimeSpec(String containerId) {
            if (!stale || !created.contains(containerId)) {
                containerStatus(containerId); // NOT_FOUND for an unknown one
            }
            return Optional.of("{\"ociVersion\": \"1.0.2\", \"process\": {\"args\": [\"sleep\"]}}");
        }

        @Override
        public Optional<String> sandboxRuntimeSpec(String sandboxId) {
            sandboxStatus(sandboxId);
            return Optional.empty();
        }
    }

    @Test
    void withoutEventsTheEventCheckIsSkippedNotPassed() {
        FakeBackend backend = new FakeBackend(context(), Map.of());
        ContractFixture noEvents = new ContractFixture() {
            @Override
            public RuntimeBackend backend() {
                return backend;
            }

            @Override
            public SandboxSpec sandboxSpec(String id) {
                return FakeBackendContractTest.FakeSpecs.sandbox(id);
            }

            @Override
            public ContainerSpec longRunningContainer(String id, String sandboxId) {
                return FakeBackendContractTest.FakeSpecs.container(id, sandboxId);
            }
        };
        var r = ContractSuite.run(ContractSuite.check("container-stop-event").orElseThrow(), noEvents);
        assertThat(r.outcome()).isEqualTo(ContractSuite.Outcome.SKIPPED);
        assertThat(ContractSuite.allPassed(List.of(r))).isFalse();
    }

    @Test
    void aBrokenBackendFailsTheChecksItBreaks() {
        var results = ContractSuite.runAll(fixture(new BrokenBackend(context())), r -> {});
        Map<String, ContractSuite.Result> byName = results.stream()
                .collect(Collectors.toMap(ContractSuite.Result::name, Function.identity()));
        assertThat(byName.entrySet().stream().filter(e -> !e.getValue().passed()).map(Map.Entry::getKey))
                .containsExactlyInAnyOrder(
                        // stopContainer of an unknown id throws NOT_FOUND instead of succeeding
                        "container-unknown-stop-remove",
                        // sandboxStatus of an unknown id answers a status instead of NOT_FOUND
                        "sandbox-unknown-status-not-found", "sandbox-lifecycle", "sandbox-stop-remove-idempotent",
                        "concurrent-pods",
                        // execSync loses the exit code
                        "exec-output-and-exit-code",
                        // execSync in an exited container throws INTERNAL instead of FAILED_PRECONDITION
                        "exec-not-running",
                        // the second stop publishes the exit again
                        "container-stop-event",
                        // removing a running container throws IllegalStateException (also in exec-timeout's
                        // cleanup, which removes the container it left running)
                        "container-remove-running", "exec-timeout",
                        // health reports no checks
                        "features-and-health");
        assertThat(byName.get("container-unknown-stop-remove").reason())
                .contains("stopContainer(unknown id) threw NOT_FOUND");
        assertThat(byName.get("sandbox-unknown-status-not-found").reason())
                .contains("succeeded, expected a BackendException of kind NOT_FOUND");
        assertThat(byName.get("exec-output-and-exit-code").reason())
                .contains("execSync(exit 3) returned exit code 0, expected 3");
        assertThat(byName.get("exec-not-running").reason())
                .contains("threw INTERNAL (exec failed: container not running), expected FAILED_PRECONDITION");
        assertThat(byName.get("container-stop-event").reason()).contains("2 STOPPED events for one exit");
        assertThat(byName.get("container-remove-running").reason())
                .contains("java.lang.IllegalStateException").contains("a backend throws only BackendException");
    }

    @Test
    void aHangingCallFailsItsCheckAfterTheTimeout() {
        FakeBackend hanging = new FakeBackend(context(), Map.of()) {
            @Override
            public dev.berth.spi.BackendHealth health() {
                try {
                    Thread.sleep(Duration.ofMinutes(10));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return super.health();
            }
        };
        var r = ContractSuite.runWithTimeout(ContractSuite.check("features-and-health").orElseThrow(),
                fixture(hanging), Duration.ofMillis(200));
        assertThat(r.outcome()).isEqualTo(ContractSuite.Outcome.FAILED);
        assertThat(r.reason()).contains("did not finish within");
    }

    /** The context of the backend created last; the fixture reads its events. */
    private ScratchBackendContext context;

    private ScratchBackendContext context() {
        context = new ScratchBackendContext("fake", dir);
        return context;
    }

    private ContractFixture fixture(RuntimeBackend backend) {
        ScratchBackendContext ctx = context;
        return new ContractFixture() {
            @Override
            public RuntimeBackend backend() {
                return backend;
            }

            @Override
            public SandboxSpec sandboxSpec(String id) {
                return FakeBackendContractTest.FakeSpecs.sandbox(id);
            }

            @Override
            public ContainerSpec longRunningContainer(String id, String sandboxId) {
                return FakeBackendContractTest.FakeSpecs.container(id, sandboxId);
            }

            @Override
            public Optional<List<BackendEvent>> publishedEvents() {
                return Optional.of(ctx.published());
            }
        };
    }

    /** The fake with six promises broken. */
    static final class BrokenBackend extends FakeBackend {
        private final ScratchBackendContext context;

        BrokenBackend(ScratchBackendContext context) {
            super(context, Map.of());
            this.context = context;
        }

        @Override
        public dev.berth.spi.BackendHealth health() {
            return new dev.berth.spi.BackendHealth(true, List.of());
        }

        @Override
        public SandboxStatus sandboxStatus(String sandboxId) {
            try {
                return super.sandboxStatus(sandboxId);
            } catch (BackendException e) {
                return new SandboxStatus(sandboxId, SandboxStatus.State.NOTREADY, java.time.Instant.now(), 0, Map.of());
            }
        }

        @Override
        public void stopContainer(String containerId, Duration timeout) {
            ContainerStatus c = super.containerStatus(containerId); // NOT_FOUND for an unknown id
            if (c.state() == ContainerStatus.State.EXITED) {
                context.events().publish(new BackendEvent(BackendEvent.Type.STOPPED, containerId, "",
                        java.time.Instant.now()));
            }
            super.stopContainer(containerId, timeout);
        }

        @Override
        public void removeContainer(String containerId) {
            ContainerStatus c;
            try {
                c = super.containerStatus(containerId);
            } catch (BackendException e) {
                return;
            }
            if (c.state() == ContainerStatus.State.RUNNING) {
                throw new IllegalStateException("container is running");
            }
            super.removeContainer(containerId);
        }

        @Override
        public ExecResult execSync(String containerId, List<String> command, Duration timeout) {
            if (containerStatus(containerId).state() != ContainerStatus.State.RUNNING) {
                throw new BackendException(BackendException.Kind.INTERNAL, "exec failed: container not running");
            }
            ExecResult r = super.execSync(containerId, command, timeout);
            return new ExecResult(r.stdout(), r.stderr(), 0);
        }
    }
}
