package dev.berth.tck;

import dev.berth.spi.BackendEvent;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendFeatures;
import dev.berth.spi.BackendHealth;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.ExecResult;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxStatus;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
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

    /** One check: a stable name (for reports and {@code --check} filters) and what it asserts. */
    public record Check(String name, String description, Body body) {}

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
                        ContractSuite::featuresAndHealth),
                new Check("sandbox-lifecycle", "a sandbox is created, READY after start, NOTREADY after stop, and "
                        + "NOT_FOUND after remove", ContractSuite::sandboxLifecycle),
                new Check("sandbox-stop-remove-idempotent", "stopping and removing a sandbox twice succeeds",
                        ContractSuite::sandboxStopRemoveIdempotent),
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
                        + "finish time after stop, and NOT_FOUND after remove", ContractSuite::containerLifecycle),
                new Check("container-start-twice", "starting a container that is not CREATED is FAILED_PRECONDITION",
                        ContractSuite::containerStartTwice),
                new Check("container-stop-remove-idempotent", "stopping and removing a container twice succeeds",
                        ContractSuite::containerStopRemoveIdempotent),
                new Check("container-remove-running", "removing a running container stops it; it is NOT_FOUND after",
                        ContractSuite::containerRemoveRunning),
                new Check("container-stop-event", "a container's exit is published once as a STOPPED event",
                        ContractSuite::containerStopEvent),
                new Check("sandbox-stop-stops-containers", "stopping a sandbox stops its running containers",
                        ContractSuite::sandboxStopStopsContainers),
                new Check("container-create-unknown-sandbox", "creating a container in an unknown sandbox fails with a "
                        + "BackendException and leaves no container behind", ContractSuite::createInUnknownSandbox),
                new Check("exec-output-and-exit-code", "execSync returns the command's stdout and its exit code",
                        ContractSuite::execOutputAndExitCode),
                new Check("exec-timeout", "execSync past its timeout is DEADLINE_EXCEEDED and the container keeps "
                        + "running", ContractSuite::execTimeout),
                new Check("exec-not-running", "execSync in an exited container fails with a BackendException",
                        ContractSuite::execNotRunning),
                new Check("concurrent-pods", "three pods created, started, exec'd into, stopped and removed at once "
                        + "(core calls a backend concurrently)", ContractSuite::concurrentPods));
    }

    /** Runs every check in order, reporting each result to {@code progress} as it finishes. */
    public static List<Result> runAll(ContractFixture fixture, Consumer<Result> progress) {
        List<Result> results = new ArrayList<>();
        for (Check c : checks()) {
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
        private final List<String> sandboxes = new CopyOnWriteArrayList<>();
        private final List<String> containers = new CopyOnWriteArrayList<>();

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
                    "createContainer returned " + state(s) + ", expected a status in state CREATED");
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
                    failed.add("removeContainer(" + shortId(c) + ") " + describe(e));
                }
            }
            for (String s : sandboxes.reversed()) {
                try {
                    backend().removeSandbox(s);
                } catch (Throwable e) {
                    failed.add("removeSandbox(" + shortId(s) + ") " + describe(e));
                }
            }
            return String.join("; ", failed);
        }
    }

    // ---- the checks

    private static void featuresAndHealth(Run r) {
        BackendFeatures f = call("features()", () -> r.backend().features());
        expect(f != null, "features() returned null");
        BackendHealth h = call("health()", () -> r.backend().health());
        expect(h != null, "health() returned null");
        expect(!h.checks().isEmpty(), "health() reports no checks; it should say what it looked at");
    }

    private static void sandboxLifecycle(Run r) {
        String id = newId();
        r.sandboxes.add(id);
        SandboxStatus created = call("createSandbox", () -> r.backend().createSandbox(r.fixture().sandboxSpec(id)));
        expect(created != null && id.equals(created.id()), "createSandbox returned "
                + (created == null ? "null" : "a status for id " + created.id()) + ", expected its status");
        call("startSandbox", () -> r.backend().startSandbox(id));
        expectSandbox(r, id, SandboxStatus.State.READY, "after startSandbox");
        call("stopSandbox", () -> r.backend().stopSandbox(id, Duration.ofSeconds(2)));
        expectSandbox(r, id, SandboxStatus.State.NOTREADY, "after stopSandbox");
        call("removeSandbox", () -> r.backend().removeSandbox(id));
        expectKind(BackendException.Kind.NOT_FOUND, "sandboxStatus after removeSandbox",
                () -> r.backend().sandboxStatus(id));
    }

    private static void sandboxStopRemoveIdempotent(Run r) {
        String id = r.runSandbox();
        call("stopSandbox", () -> r.backend().stopSandbox(id, Duration.ZERO));
        call("stopSandbox (second time)", () -> r.backend().stopSandbox(id, Duration.ZERO));
        call("removeSandbox", () -> r.backend().removeSandbox(id));
        call("removeSandbox (second time)", () -> r.backend().removeSandbox(id));
        expectKind(BackendException.Kind.NOT_FOUND, "sandboxStatus after removeSandbox",
                () -> r.backend().sandboxStatus(id));
    }

    private static void containerLifecycle(Run r) {
        String sb = r.runSandbox();
        String id = r.createContainer(sb);
        expectContainer(r, id, ContainerStatus.State.CREATED, "after createContainer");
        call("startContainer", () -> r.backend().startContainer(id));
        ContainerStatus running = expectContainer(r, id, ContainerStatus.State.RUNNING, "after startContainer");
        expect(running.startedAt() != null, "a RUNNING container has no startedAt");
        call("stopContainer", () -> r.backend().stopContainer(id, Duration.ofSeconds(1)));
        ContainerStatus stopped = expectContainer(r, id, ContainerStatus.State.EXITED, "after stopContainer");
        expect(stopped.finishedAt() != null, "an EXITED container has no finishedAt");
        call("removeContainer", () -> r.backend().removeContainer(id));
        expectKind(BackendException.Kind.NOT_FOUND, "containerStatus after removeContainer",
                () -> r.backend().containerStatus(id));
    }

    private static void containerStartTwice(Run r) {
        String sb = r.runSandbox();
        String id = r.runContainer(sb);
        expectKind(BackendException.Kind.FAILED_PRECONDITION, "startContainer of a RUNNING container",
                () -> r.backend().startContainer(id));
        call("stopContainer", () -> r.backend().stopContainer(id, Duration.ZERO));
        expectKind(BackendException.Kind.FAILED_PRECONDITION, "startContainer of an EXITED container",
                () -> r.backend().startContainer(id));
    }

    private static void containerStopRemoveIdempotent(Run r) {
        String sb = r.runSandbox();
        String id = r.runContainer(sb);
        call("stopContainer", () -> r.backend().stopContainer(id, Duration.ZERO));
        call("stopContainer (second time)", () -> r.backend().stopContainer(id, Duration.ZERO));
        expectContainer(r, id, ContainerStatus.State.EXITED, "after stopContainer");
        call("removeContainer", () -> r.backend().removeContainer(id));
        call("removeContainer (second time)", () -> r.backend().removeContainer(id));
        expectKind(BackendException.Kind.NOT_FOUND, "containerStatus after removeContainer",
                () -> r.backend().containerStatus(id));
    }

    private static void containerRemoveRunning(Run r) {
        String sb = r.runSandbox();
        String id = r.runContainer(sb);
        call("removeContainer of a RUNNING container", () -> r.backend().removeContainer(id));
        expectKind(BackendException.Kind.NOT_FOUND, "containerStatus after removeContainer",
                () -> r.backend().containerStatus(id));
    }

    private static void containerStopEvent(Run r) throws InterruptedException {
        if (r.fixture().publishedEvents().isEmpty()) {
            throw new Skip("the fixture does not expose the events the backend publishes");
        }
        String sb = r.runSandbox();
        String id = r.runContainer(sb);
        call("stopContainer", () -> r.backend().stopContainer(id, Duration.ZERO));
        Instant deadline = Instant.now().plus(EVENT_WAIT);
        while (stoppedEvents(r, id) == 0 && Instant.now().isBefore(deadline)) {
            Thread.sleep(50);
        }
        expect(stoppedEvents(r, id) > 0, "no STOPPED event for the container within " + EVENT_WAIT.toSeconds()
                + " s of stopContainer");
        // A second stop and the removal must not report the one exit again.
        call("stopContainer (second time)", () -> r.backend().stopContainer(id, Duration.ZERO));
        call("removeContainer", () -> r.backend().removeContainer(id));
        long n = stoppedEvents(r, id);
        expect(n == 1, n + " STOPPED events for one exit; a backend publishes each exit once");
        List<BackendEvent> others = r.fixture().publishedEvents().orElseThrow().stream()
                .filter(e -> id.equals(e.containerId()) && e.type() != BackendEvent.Type.STOPPED).toList();
        expect(others.isEmpty(), "the backend published " + others.stream().map(e -> e.type().toString()).toList()
                + " for the container; core publishes CREATED, STARTED and DELETED itself");
    }

    private static long stoppedEvents(Run r, String id) {
        return r.fixture().publishedEvents().orElseThrow().stream()
                .filter(e -> e.type() == BackendEvent.Type.STOPPED && id.equals(e.containerId())).count();
    }

    private static void sandboxStopStopsContainers(Run r) {
        String sb = r.runSandbox();
        String id = r.runContainer(sb);
        call("stopSandbox", () -> r.backend().stopSandbox(sb, Duration.ofSeconds(1)));
        expectContainer(r, id, ContainerStatus.State.EXITED, "after stopSandbox of its sandbox");
        expectSandbox(r, sb, SandboxStatus.State.NOTREADY, "after stopSandbox");
    }

    private static void createInUnknownSandbox(Run r) {
        String sb = newId();
        String id = newId();
        r.containers.add(id);
        try {
            r.backend().createContainer(r.fixture().longRunningContainer(id, sb));
        } catch (BackendException e) {
            expectKind(BackendException.Kind.NOT_FOUND, "containerStatus after a failed createContainer",
                    () -> r.backend().containerStatus(id));
            return;
        }
        throw new Failure("createContainer in an unknown sandbox succeeded; expected a BackendException");
    }

    private static void execOutputAndExitCode(Run r) {
        String sb = r.runSandbox();
        String id = r.runContainer(sb);
        ExecResult echo = call("execSync(echo)",
                () -> r.backend().execSync(id, r.fixture().echoCommand("hello berth"), Duration.ofSeconds(30)));
        String out = new String(echo.stdout(), StandardCharsets.UTF_8);
        expect(out.equals("hello berth\n"), "execSync(echo hello berth) printed \"" + escape(out)
                + "\", expected \"hello berth\\n\"");
        expect(echo.exitCode() == 0, "execSync(echo) exited " + echo.exitCode() + ", expected 0");
        ExecResult exit = call("execSync(exit 3)",
                () -> r.backend().execSync(id, r.fixture().exitCommand(3), Duration.ofSeconds(30)));
        expect(exit.exitCode() == 3, "execSync(exit 3) returned exit code " + exit.exitCode() + ", expected 3");
    }

    private static void execTimeout(Run r) {
        String sb = r.runSandbox();
        String id = r.runContainer(sb);
        expectKind(BackendException.Kind.DEADLINE_EXCEEDED, "execSync(sleep 30) with a 1 s timeout",
                () -> r.backend().execSync(id, r.fixture().sleepCommand(30), Duration.ofSeconds(1)));
        expectContainer(r, id, ContainerStatus.State.RUNNING, "after an exec timed out");
    }

    private static void execNotRunning(Run r) {
        String sb = r.runSandbox();
        String id = r.runContainer(sb);
        call("stopContainer", () -> r.backend().stopContainer(id, Duration.ZERO));
        try {
            r.backend().execSync(id, r.fixture().echoCommand("x"), Duration.ofSeconds(10));
        } catch (BackendException e) {
            return;
        }
        throw new Failure("execSync in an EXITED container succeeded; expected a BackendException");
    }

    private static void concurrentPods(Run r) throws InterruptedException {
        int pods = 3;
        List<String> errors = new CopyOnWriteArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < pods; i++) {
            threads.add(Thread.ofPlatform().daemon().name("tck-pod-" + i).start(() -> {
                try {
                    String sb = r.runSandbox();
                    String c = r.runContainer(sb);
                    ExecResult echo = call("execSync(echo)", () -> r.backend().execSync(c,
                            r.fixture().echoCommand("pod " + sb.substring(0, 6)), Duration.ofSeconds(30)));
                    String out = new String(echo.stdout(), StandardCharsets.UTF_8);
                    expect(out.equals("pod " + sb.substring(0, 6) + "\n"), "execSync(echo) in one of "
                            + pods + " concurrent pods printed \"" + escape(out) + "\"");
                    call("stopSandbox", () -> r.backend().stopSandbox(sb, Duration.ofSeconds(1)));
                    call("removeContainer", () -> r.backend().removeContainer(c));
                    call("removeSandbox", () -> r.backend().removeSandbox(sb));
                    expectKind(BackendException.Kind.NOT_FOUND, "sandboxStatus after removeSandbox",
                            () -> r.backend().sandboxStatus(sb));
                } catch (Failure f) {
                    errors.add(f.getMessage());
                } catch (Throwable e) {
                    errors.add(describe(e));
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        expect(errors.isEmpty(), String.join("; ", errors));
    }

    // ---- helpers

    private static SandboxStatus expectSandbox(Run r, String id, SandboxStatus.State want, String when) {
        SandboxStatus s = call("sandboxStatus", () -> r.backend().sandboxStatus(id));
        expect(s != null && s.state() == want, "sandbox is " + (s == null ? "null" : s.state()) + " " + when
                + ", expected " + want);
        return s;
    }

    private static ContainerStatus expectContainer(Run r, String id, ContainerStatus.State want, String when) {
        ContainerStatus s = call("containerStatus", () -> r.backend().containerStatus(id));
        expect(s != null && s.state() == want, "container is " + state(s) + " " + when + ", expected " + want);
        return s;
    }

    private static String state(ContainerStatus s) {
        return s == null ? "null" : s.state().toString();
    }

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

    private static String shortId(String id) {
        return id.length() > 12 ? id.substring(0, 12) : id;
    }

    private static String escape(String s) {
        return s.replace("\n", "\\n");
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
