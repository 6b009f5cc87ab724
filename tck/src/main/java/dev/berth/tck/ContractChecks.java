package dev.berth.tck;

import static dev.berth.tck.ContractSuite.EVENT_WAIT;
import static dev.berth.tck.ContractSuite.call;
import static dev.berth.tck.ContractSuite.describe;
import static dev.berth.tck.ContractSuite.expect;
import static dev.berth.tck.ContractSuite.expectKind;
import static dev.berth.tck.ContractSuite.newId;

import dev.berth.spi.BackendEvent;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendFeatures;
import dev.berth.spi.BackendHealth;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.ExecResult;
import dev.berth.spi.SandboxStatus;
import dev.berth.spi.SpecReading;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/** The bodies of {@link ContractSuite#checks()}: each one drives a backend through one promise of the contract. */
final class ContractChecks {
    private ContractChecks() {}

    static void featuresAndHealth(ContractSuite.Run r) {
        BackendFeatures f = call("features()", () -> r.backend().features());
        expect(f != null, "features() returned null");
        BackendHealth h = call("health()", () -> r.backend().health());
        expect(h != null, "health() returned null");
        expect(!h.checks().isEmpty(), "health() reports no checks; it should say what it looked at");
    }

    static void sandboxLifecycle(ContractSuite.Run r) {
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

    static void sandboxStopRemoveIdempotent(ContractSuite.Run r) {
        String id = r.runSandbox();
        call("stopSandbox", () -> r.backend().stopSandbox(id, Duration.ZERO));
        call("stopSandbox (second time)", () -> r.backend().stopSandbox(id, Duration.ZERO));
        call("removeSandbox", () -> r.backend().removeSandbox(id));
        call("removeSandbox (second time)", () -> r.backend().removeSandbox(id));
        expectKind(BackendException.Kind.NOT_FOUND, "sandboxStatus after removeSandbox",
                () -> r.backend().sandboxStatus(id));
    }

    static void containerLifecycle(ContractSuite.Run r) {
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

    static void containerStartTwice(ContractSuite.Run r) {
        String sb = r.runSandbox();
        String id = r.runContainer(sb);
        expectKind(BackendException.Kind.FAILED_PRECONDITION, "startContainer of a RUNNING container",
                () -> r.backend().startContainer(id));
        call("stopContainer", () -> r.backend().stopContainer(id, Duration.ZERO));
        expectKind(BackendException.Kind.FAILED_PRECONDITION, "startContainer of an EXITED container",
                () -> r.backend().startContainer(id));
    }

    static void containerStopRemoveIdempotent(ContractSuite.Run r) {
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

    static void containerRemoveRunning(ContractSuite.Run r) {
        String sb = r.runSandbox();
        String id = r.runContainer(sb);
        call("removeContainer of a RUNNING container", () -> r.backend().removeContainer(id));
        expectKind(BackendException.Kind.NOT_FOUND, "containerStatus after removeContainer",
                () -> r.backend().containerStatus(id));
    }

    /** The grace period of the first stop in the two checks below: far longer than either waits for anything. */
    static final Duration LONG_GRACE = Duration.ofSeconds(100);
    /** How long the calls after it may take: well inside {@link #LONG_GRACE}. */
    static final Duration BOUND = Duration.ofSeconds(30);

    static void containerStopShortened(ContractSuite.Run r) throws Exception {
        String sb = r.runSandbox();
        String id = r.runContainer(sb);
        java.util.concurrent.CompletableFuture<Throwable> first = waitingStop(r, id);
        Instant t0 = Instant.now();
        call("stopContainer with a 1 s timeout while a stop with a " + LONG_GRACE.toSeconds() + " s timeout waits",
                () -> r.backend().stopContainer(id, Duration.ofSeconds(1)));
        Duration took = Duration.between(t0, Instant.now());
        expect(took.compareTo(BOUND) < 0, "a stop with a 1 s timeout returned after " + took.toSeconds() + " s while "
                + "a stop with a " + LONG_GRACE.toSeconds() + " s timeout waited: a stop must not wait behind "
                + "another's grace period");
        expectContainer(r, id, ContainerStatus.State.EXITED, "after the stop with the shorter timeout");
        expectReturned(first, "the stop with the " + LONG_GRACE.toSeconds() + " s timeout, once the container "
                + "had exited,");
    }

    static void containerRemoveDuringStop(ContractSuite.Run r) throws Exception {
        String sb = r.runSandbox();
        String id = r.runContainer(sb);
        java.util.concurrent.CompletableFuture<Throwable> first = waitingStop(r, id);
        Instant t0 = Instant.now();
        call("removeContainer while a stop with a " + LONG_GRACE.toSeconds() + " s timeout waits",
                () -> r.backend().removeContainer(id));
        Duration took = Duration.between(t0, Instant.now());
        expect(took.compareTo(BOUND) < 0, "removeContainer returned after " + took.toSeconds() + " s while a stop "
                + "with a " + LONG_GRACE.toSeconds() + " s timeout waited: a remove kills the container at once");
        expectKind(BackendException.Kind.NOT_FOUND, "containerStatus after removeContainer",
                () -> r.backend().containerStatus(id));
        expectReturned(first, "the stop with the " + LONG_GRACE.toSeconds() + " s timeout, once the container "
                + "was removed,");
    }

    /** A stop with {@link #LONG_GRACE} on a thread of its own, given half a second to send its stop signal. */
    private static java.util.concurrent.CompletableFuture<Throwable> waitingStop(ContractSuite.Run r, String id)
            throws InterruptedException {
        java.util.concurrent.CompletableFuture<Throwable> done = new java.util.concurrent.CompletableFuture<>();
        Thread.ofPlatform().daemon().name("tck-waiting-stop").start(() -> {
            try {
                r.backend().stopContainer(id, LONG_GRACE);
                done.complete(null);
            } catch (Throwable e) {
                done.complete(e);
            }
        });
        Thread.sleep(500);
        return done;
    }

    private static void expectReturned(java.util.concurrent.CompletableFuture<Throwable> stop, String what)
            throws Exception {
        Throwable t;
        try {
            t = stop.get(BOUND.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new ContractSuite.Failure(what + " had not returned " + BOUND.toSeconds() + " s later");
        }
        expect(t == null, what + " " + (t == null ? "" : describe(t)));
    }

    static void containerStopEvent(ContractSuite.Run r) throws InterruptedException {
        if (r.fixture().publishedEvents().isEmpty()) {
            throw new ContractSuite.Skip("the fixture does not expose the events the backend publishes");
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

    static long stoppedEvents(ContractSuite.Run r, String id) {
        return r.fixture().publishedEvents().orElseThrow().stream()
                .filter(e -> e.type() == BackendEvent.Type.STOPPED && id.equals(e.containerId())).count();
    }

    static void sandboxStopStopsContainers(ContractSuite.Run r) {
        String sb = r.runSandbox();
        String id = r.runContainer(sb);
        call("stopSandbox", () -> r.backend().stopSandbox(sb, Duration.ofSeconds(1)));
        expectContainer(r, id, ContainerStatus.State.EXITED, "after stopSandbox of its sandbox");
        expectSandbox(r, sb, SandboxStatus.State.NOTREADY, "after stopSandbox");
    }

    static void createInUnknownSandbox(ContractSuite.Run r) {
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
        throw new ContractSuite.Failure("createContainer in an unknown sandbox succeeded; expected a BackendException");
    }

    static void execOutputAndExitCode(ContractSuite.Run r) {
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

    static void execTimeout(ContractSuite.Run r) {
        String sb = r.runSandbox();
        String id = r.runContainer(sb);
        expectKind(BackendException.Kind.DEADLINE_EXCEEDED, "execSync(sleep 30) with a 1 s timeout",
                () -> r.backend().execSync(id, r.fixture().sleepCommand(30), Duration.ofSeconds(1)));
        expectContainer(r, id, ContainerStatus.State.RUNNING, "after an exec timed out");
    }

    static void execNotRunning(ContractSuite.Run r) {
        String sb = r.runSandbox();
        String id = r.runContainer(sb);
        call("stopContainer", () -> r.backend().stopContainer(id, Duration.ZERO));
        expectKind(BackendException.Kind.FAILED_PRECONDITION, "execSync in an EXITED container",
                () -> r.backend().execSync(id, r.fixture().echoCommand("x"), Duration.ofSeconds(10)));
    }

    static void concurrentPods(ContractSuite.Run r) throws InterruptedException {
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
                } catch (ContractSuite.Failure f) {
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

    static void specReading(ContractSuite.Run r) {
        SpecReading specs = (SpecReading) r.backend();
        String sb = r.runSandbox();
        String id = r.runContainer(sb);
        Optional<String> container = call("containerRuntimeSpec", () -> specs.containerRuntimeSpec(id));
        expect(container != null, "containerRuntimeSpec returned null; it returns Optional.empty() when it kept no spec");
        container.ifPresent(json -> expectSpec(json, "containerRuntimeSpec of a running container"));
        Optional<String> sandbox = call("sandboxRuntimeSpec", () -> specs.sandboxRuntimeSpec(sb));
        expect(sandbox != null, "sandboxRuntimeSpec returned null; it returns Optional.empty() when it kept no spec");
        sandbox.ifPresent(json -> expectSpec(json, "sandboxRuntimeSpec of a ready sandbox"));
        expectKind(BackendException.Kind.NOT_FOUND, "containerRuntimeSpec(unknown id)",
                () -> specs.containerRuntimeSpec(newId()));
        expectKind(BackendException.Kind.NOT_FOUND, "sandboxRuntimeSpec(unknown id)",
                () -> specs.sandboxRuntimeSpec(newId()));
        call("removeContainer", () -> r.backend().removeContainer(id));
        expectKind(BackendException.Kind.NOT_FOUND, "containerRuntimeSpec after removeContainer",
                () -> specs.containerRuntimeSpec(id));
    }

    /** An OCI runtime spec as JSON text: one object, naming its {@code ociVersion} as every such spec does. */
    private static void expectSpec(String json, String what) {
        String t = json.strip();
        expect(t.startsWith("{") && t.endsWith("}") && t.contains("\"ociVersion\""), what + " is not an OCI "
                + "runtime spec (a JSON object with its ociVersion): \"" + escape(t.length() > 80 ? t.substring(0, 80)
                + "..." : t) + "\"");
    }

    static SandboxStatus expectSandbox(ContractSuite.Run r, String id, SandboxStatus.State want, String when) {
        SandboxStatus s = call("sandboxStatus", () -> r.backend().sandboxStatus(id));
        expect(s != null && s.state() == want, "sandbox is " + (s == null ? "null" : s.state()) + " " + when
                + ", expected " + want);
        return s;
    }

    static ContainerStatus expectContainer(ContractSuite.Run r, String id, ContainerStatus.State want, String when) {
        ContainerStatus s = call("containerStatus", () -> r.backend().containerStatus(id));
        expect(s != null && s.state() == want, "container is " + state(s) + " " + when + ", expected " + want);
        return s;
    }

    static String state(ContainerStatus s) {
        return s == null ? "null" : s.state().toString();
    }

    static String shortId(String id) {
        return id.length() > 12 ? id.substring(0, 12) : id;
    }

    static String escape(String s) {
        return s.replace("\n", "\\n");
    }
}
