package dev.berth.tck;

import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SpecReading;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * The behaviour every backend owes core ({@link RuntimeBackend}'s Javadoc), as named checks in plain Java, so
 * that {@code berth tck} runs them in the image (which has no JUnit) and plugin tests run them through the JUnit
 * adapter. Each check creates what it needs through the {@link ContractFixture} and removes it afterwards; a
 * check fails on a broken promise, on any exception that is not the {@link BackendException} the contract names,
 * and when removing what it created fails.
 */
public final class ContractSuite {
    /** How long one check may take before it counts as failed (a stop or exec that hangs). */
    public static final Duration CHECK_TIMEOUT = Duration.ofMinutes(2);
    /** How long the event checks wait for the backend's asynchronous STOPPED event. */
    static final Duration EVENT_WAIT = Duration.ofSeconds(15);

    private ContractSuite() {}

    /**
     * One check: a stable name (for reports and {@code --check} filters), what it asserts, and the optional
     * capability it checks ({@code null} for {@link RuntimeBackend}'s own contract). A check of a capability applies
     * only to a backend that implements it; core does without it for the others (it answers UNIMPLEMENTED for what
     * needs it, or leaves out what it would show), and there is nothing to check.
     */
    public record Check(String name, String description, Body body, Class<?> capability) {
        public Check(String name, String description, Body body) {
            this(name, description, body, null);
        }

        /** Whether the check applies to {@code backend}: it checks the core contract or a capability it has. */
        public boolean appliesTo(RuntimeBackend backend) {
            return capability == null || capability.isInstance(backend);
        }
    }

    /** A check's body. Throws {@link Failure} for a broken promise; anything else thrown also fails the check. */
    @FunctionalInterface
    public interface Body {
        void run(Run run) throws Exception;
    }

    public enum Outcome { PASSED, FAILED, SKIPPED }

    /** A check's outcome with the reason it failed or was skipped (empty when it passed). */
    public record Result(String name, Outcome outcome, String reason, Throwable error) {
        public boolean passed() {
            return outcome == Outcome.PASSED;
        }
    }

    /** A broken promise of the contract; its message is the reason shown to the plugin author. */
    public static final class Failure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public Failure(String message) {
            super(message);
        }
    }

    /** Thrown by a check that cannot run with this fixture (e.g. it cannot see events). */
    public static final class Skip extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public Skip(String message) {
            super(message);
        }
    }

    /** The checks, in the order they run. */
    public static List<Check> checks() {
        return List.of(
                new Check("features-and-health", "features() and health() answer; health has at least one check",
                        ContractChecks::featuresAndHealth),
                new Check("sandbox-lifecycle", "a sandbox is created, READY after start, NOTREADY after stop, and "
                        + "NOT_FOUND after remove", ContractChecks::sandboxLifecycle),
                new Check("sandbox-stop-remove-idempotent", "stopping and removing a sandbox twice succeeds",
                        ContractChecks::sandboxStopRemoveIdempotent),
                new Check("sandbox-unknown-status-not-found", "the status of an unknown sandbox is NOT_FOUND",
                        r -> expectKind(BackendException.Kind.NOT_FOUND, "sandboxStatus(unknown id)",
                                () -> r.backend().sandboxStatus(newId()))),
                new Check("sandbox-unknown-stop-remove", "stopping and removing an unknown sandbox succeeds",
                        r -> {
                            String id = newId();
                            call("stopSandbox(unknown id)", () -> r.backend().stopSandbox(id, Duration.ZERO));
                            call("removeSandbox(unknown id)", () -> r.backend().removeSandbox(id));
                        }),
                new Check("container-unknown-status-not-found", "the status of an unknown container is NOT_FOUND",
                        r -> expectKind(BackendException.Kind.NOT_FOUND, "containerStatus(unknown id)",
                                () -> r.backend().containerStatus(newId()))),
                new Check("container-unknown-stop-remove", "stopping and removing an unknown container succeeds",
                        r -> {
                            String id = newId();
                            call("stopContainer(unknown id)", () -> r.backend().stopContainer(id, Duration.ZERO));
                            call("removeContainer(unknown id)", () -> r.backend().removeContainer(id));
                        }),
                new Check("container-lifecycle", "a container is CREATED, RUNNING with a start time, EXITED with a "
                        + "finish time after stop, and NOT_FOUND after remove", ContractChecks::containerLifecycle),
                new Check("container-start-twice", "starting a container that is not CREATED is FAILED_PRECONDITION",
                        ContractChecks::containerStartTwice),
                new Check("container-stop-remove-idempotent", "stopping and removing a container twice succeeds",
                        ContractChecks::containerStopRemoveIdempotent),
                new Check("container-remove-running", "removing a running container stops it; it is NOT_FOUND after",
                        ContractChecks::containerRemoveRunning),
                new Check("container-stop-shortened", "a stop with a shorter timeout kills a container that another "
                        + "stop is still giving its grace period, and both return", ContractChecks::containerStopShortened),
                new Check("container-remove-during-stop", "removing a container while a stop gives it a grace period "
                        + "kills it at once, and the stop returns", ContractChecks::containerRemoveDuringStop),
                new Check("container-stop-event", "a container's exit is published once as a STOPPED event",
                        ContractChecks::containerStopEvent),
                new Check("sandbox-stop-stops-containers", "stopping a sandbox stops its running containers",
                        ContractChecks::sandboxStopStopsContainers),
                new Check("container-create-unknown-sandbox", "creating a container in an unknown sandbox fails with a "
                        + "BackendException and leaves no container behind", ContractChecks::createInUnknownSandbox),
                new Check("exec-output-and-exit-code", "execSync returns the command's stdout and its exit code",
                        ContractChecks::execOutputAndExitCode),
                new Check("exec-timeout", "execSync past its timeout is DEADLINE_EXCEEDED and the container keeps "
                        + "running", ContractChecks::execTimeout),
                new Check("exec-not-running", "execSync in an exited container fails with FAILED_PRECONDITION "
                        + "(core relies on it: it is ExecSync's running check)",
                        ContractChecks::execNotRunning),
                new Check("concurrent-pods", "three pods created, started, exec'd into, stopped and removed at once "
                        + "(core calls a backend concurrently)", ContractChecks::concurrentPods),
                new Check("spec-reading", "SpecReading: a running container's and its sandbox's specs are OCI specs "
                        + "(or empty), and an unknown or removed id is NOT_FOUND", ContractChecks::specReading,
                        SpecReading.class));
    }

    /** The checks that apply to {@code backend}, in the order they run. */
    public static List<Check> checksFor(RuntimeBackend backend) {
        return checks().stream().filter(c -> c.appliesTo(backend)).toList();
    }

    /**
     * Runs every check that applies to the fixture's backend ({@link #checksFor}) in order, reporting each result to
     * {@code progress} as it finishes.
     */
    public static List<Result> runAll(ContractFixture fixture, Consumer<Result> progress) {
        List<Result> results = new ArrayList<>();
        for (Check c : checksFor(fixture.backend())) {
            Result r = runWithTimeout(c, fixture, CHECK_TIMEOUT);
            results.add(r);
            progress.accept(r);
        }
        return results;
    }

    /**
     * Runs one check on a thread of its own (inheriting the caller's context class loader), failing it when it
     * takes longer than {@code timeout}; the stuck thread is interrupted and left behind.
     */
    public static Result runWithTimeout(Check check, ContractFixture fixture, Duration timeout) {
        Result[] out = new Result[1];
        Thread t = Thread.ofPlatform().daemon().name("tck-" + check.name()).start(() -> out[0] = run(check, fixture));
        try {
            if (!t.join(timeout)) {
                t.interrupt();
                return new Result(check.name(), Outcome.FAILED, "did not finish within " + timeout.toSeconds()
                        + " s (a call into the backend hangs)", null);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(check.name(), Outcome.FAILED, "interrupted", e);
        }
        return out[0];
    }

    /** Runs one check on this thread, then removes what it created. */
    public static Result run(Check check, ContractFixture fixture) {
        Run run = new Run(fixture);
        Result result;
        try {
            check.body().run(run);
            result = new Result(check.name(), Outcome.PASSED, "", null);
        } catch (Failure f) {
            result = new Result(check.name(), Outcome.FAILED, f.getMessage(), f);
        } catch (Skip s) {
            result = new Result(check.name(), Outcome.SKIPPED, s.getMessage(), null);
        } catch (Throwable e) {
            result = new Result(check.name(), Outcome.FAILED, describe(e), e);
        }
        String cleanup = run.cleanup();
        if (!cleanup.isEmpty() && result.outcome() != Outcome.FAILED) {
            result = new Result(check.name(), Outcome.FAILED, "cleanup: " + cleanup, null);
        }
        return result;
    }

    /** A random id of 64 hex characters, as core's. */
    public static String newId() {
        byte[] b = new byte[32];
        ThreadLocalRandom.current().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** One check's run: the fixture, and the sandboxes and containers to remove afterwards. */
    public static final class Run {
        private final ContractFixture fixture;
        final List<String> sandboxes = new CopyOnWriteArrayList<>();
        final List<String> containers = new CopyOnWriteArrayList<>();

        Run(ContractFixture fixture) {
            this.fixture = fixture;
        }

        public ContractFixture fixture() {
            return fixture;
        }

        public RuntimeBackend backend() {
            return fixture.backend();
        }

        /** Creates and starts a sandbox, removed after the check. */
        public String runSandbox() {
            String id = newId();
            sandboxes.add(id);
            call("createSandbox", () -> backend().createSandbox(fixture.sandboxSpec(id)));
            call("startSandbox", () -> backend().startSandbox(id));
            return id;
        }

        /** Creates a long-running container in {@code sandbox}, removed after the check. */
        public String createContainer(String sandbox) {
            String id = newId();
            containers.add(id);
            ContainerStatus s = call("createContainer",
                    () -> backend().createContainer(fixture.longRunningContainer(id, sandbox)));
            expect(s != null && s.state() == ContainerStatus.State.CREATED,
                    "createContainer returned " + ContractChecks.state(s) + ", expected a status in state CREATED");
            return id;
        }

        /** Creates and starts a long-running container. */
        public String runContainer(String sandbox) {
            String id = createContainer(sandbox);
            call("startContainer", () -> backend().startContainer(id));
            return id;
        }

        /** Removes every container, then every sandbox; the failures, or "" when all went. */
        String cleanup() {
            List<String> failed = new ArrayList<>();
            for (String c : containers.reversed()) {
                try {
                    backend().removeContainer(c);
                } catch (Throwable e) {
                    failed.add("removeContainer(" + ContractChecks.shortId(c) + ") " + describe(e));
                }
            }
            for (String s : sandboxes.reversed()) {
                try {
                    backend().removeSandbox(s);
                } catch (Throwable e) {
                    failed.add("removeSandbox(" + ContractChecks.shortId(s) + ") " + describe(e));
                }
            }
            return String.join("; ", failed);
        }
    }

    // ---- helpers for the checks ({@link ContractChecks})

    /** Fails the check with {@code reason} unless {@code ok}. */
    public static void expect(boolean ok, String reason) {
        if (!ok) {
            throw new Failure(reason);
        }
    }

    /** Fails unless {@code call} throws a {@link BackendException} of {@code kind}. */
    public static void expectKind(BackendException.Kind kind, String what, ThrowingRunnable call) {
        try {
            call.run();
        } catch (BackendException e) {
            expect(e.kind() == kind, what + " threw " + e.kind() + " (" + e.getMessage() + "), expected " + kind);
            return;
        } catch (Throwable e) {
            throw new Failure(what + " " + describe(e) + ", expected a BackendException of kind " + kind);
        }
        throw new Failure(what + " succeeded, expected a BackendException of kind " + kind);
    }

    /** Runs a call that must succeed; its exception, whatever it is, fails the check naming the call. */
    static <T> T call(String what, ThrowingSupplier<T> call) {
        try {
            return call.get();
        } catch (Failure | Skip f) {
            throw f;
        } catch (Throwable e) {
            throw new Failure(what + " " + describe(e));
        }
    }

    static void call(String what, ThrowingRunnable call) {
        call(what, () -> {
            call.run();
            return null;
        });
    }

    @FunctionalInterface
    public interface ThrowingRunnable {
        void run() throws Exception;
    }

    @FunctionalInterface
    public interface ThrowingSupplier<T> {
        T get() throws Exception;
    }

    static String describe(Throwable e) {
        if (e instanceof BackendException b) {
            return "threw " + b.kind() + ": " + b.getMessage();
        }
        return "threw " + e.getClass().getName() + ": " + e.getMessage()
                + " (a backend throws only BackendException)";
    }

    /** Whether every result passed (skipped ones do not count as passed). */
    public static boolean allPassed(List<Result> results) {
        return results.stream().allMatch(Result::passed);
    }

    /** The results that did not pass. */
    public static List<Result> notPassed(List<Result> results) {
        return results.stream().filter(r -> !r.passed()).toList();
    }

    static Optional<Check> check(String name) {
        return checks().stream().filter(c -> c.name().equals(name)).findFirst();
    }
}
