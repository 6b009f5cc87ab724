package dev.berth.spi.testing;

import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendEvent;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendFeatures;
import dev.berth.spi.BackendHealth;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.ExecResult;
import dev.berth.spi.LinuxResources;
import dev.berth.spi.Recoverable;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.SandboxStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An in-memory backend for tests. It runs no processes: a "container" is a state machine. It keeps a small
 * file per object under the context's state dir so that it can {@link Recoverable recover} after a restart of
 * the daemon, which makes it usable for crash tests.
 *
 * <p>{@code execSync} understands a tiny command language: {@code echo WORDS...} prints, {@code exit N}
 * (or {@code sh -c "exit N"}) returns N, {@code sleep SECONDS} waits (and honours the timeout), {@code spew OUT ERR}
 * writes OUT bytes of {@code o} and ERR bytes of {@code e} (as much as a backend may keep). Option
 * {@code fail_create = "true"} makes every sandbox create fail, for rollback tests; {@code network_before_create =
 * false} lets core connect the pod network while the sandbox is created, as the runc backend does. For cleanup tests, {@code fail_stop = true}
 * makes every stop of a container or sandbox throw an unexpected exception (a removal still works), and
 * {@code fail_remove_while = "<file>"} makes every removal fail while that file exists. {@code unhealthy_while =
 * "<file>"} makes its health not ready while that file exists.
 */
public class FakeBackend implements RuntimeBackend, Recoverable {
    private final BackendContext context;
    private final boolean failCreate;
    private final boolean networkBeforeCreate;
    private final boolean failStop;
    private final Path failRemoveWhile;
    private final Path unhealthyWhile;
    private final Map<String, SandboxStatus> sandboxes = new ConcurrentHashMap<>();
    private final Map<String, ContainerStatus> containers = new ConcurrentHashMap<>();
    private final Map<String, String> containerSandbox = new ConcurrentHashMap<>();

    public FakeBackend(BackendContext context, Map<String, Object> options) {
        this.context = context;
        Object fail = options.getOrDefault("fail_create", false);
        this.failCreate = Boolean.parseBoolean(String.valueOf(fail));
        this.networkBeforeCreate = Boolean.parseBoolean(String.valueOf(
                options.getOrDefault("network_before_create", true)));
        this.failStop = Boolean.parseBoolean(String.valueOf(options.getOrDefault("fail_stop", false)));
        Object removeFlag = options.get("fail_remove_while");
        this.failRemoveWhile = removeFlag == null ? null : Path.of(String.valueOf(removeFlag));
        Object unhealthyFlag = options.get("unhealthy_while");
        this.unhealthyWhile = unhealthyFlag == null ? null : Path.of(String.valueOf(unhealthyFlag));
        for (String key : options.keySet()) {
            if (!List.of("fail_create", "sandbox_image", "network_before_create", "fail_stop", "fail_remove_while",
                    "unhealthy_while")
                    .contains(key)) {
                throw BackendException.invalid("unknown option \"" + key + "\" for a fake handler");
            }
        }
    }

    /** The fake runs no processes, so it needs no images. */
    @Override
    public BackendFeatures features() {
        return new BackendFeatures(true, false, BackendFeatures.CgroupDriver.CGROUPFS, false, "");
    }

    @Override
    public BackendFeatures.Pod podFeatures(SandboxSpec spec) {
        return new BackendFeatures.Pod(features().usesImages(), networkBeforeCreate);
    }

    @Override
    public BackendHealth health() {
        if (unhealthyWhile != null && java.nio.file.Files.exists(unhealthyWhile)) {
            return BackendHealth.of(List.of(new BackendHealth.Check(false, "fake readiness",
                    "unhealthy while " + unhealthyWhile.getFileName() + " exists")));
        }
        return BackendHealth.of(List.of(new BackendHealth.Check(true, "fake backend needs nothing", "")));
    }

    @Override
    public SandboxStatus createSandbox(SandboxSpec spec) {
        if (failCreate) {
            throw new BackendException(BackendException.Kind.UNAVAILABLE,
                    "failed to create sandbox \"" + spec.id() + "\": fake failure requested by fail_create");
        }
        if (sandboxes.containsKey(spec.id())) {
            throw new BackendException(BackendException.Kind.ALREADY_EXISTS, "sandbox \"" + spec.id() + "\" exists");
        }
        var status = new SandboxStatus(spec.id(), SandboxStatus.State.NOTREADY, Instant.now(), 0,
                Map.of("fake", "true"));
        sandboxes.put(spec.id(), status);
        persist("sandbox-" + spec.id(), status.state().name(), "");
        return status;
    }

    @Override
    public void startSandbox(String sandboxId) {
        SandboxStatus s = sandbox(sandboxId);
        sandboxes.put(sandboxId, new SandboxStatus(sandboxId, SandboxStatus.State.READY, s.createdAt(), 1, s.info()));
        persist("sandbox-" + sandboxId, "READY", "");
    }

    @Override
    public void stopSandbox(String sandboxId, Duration timeout) {
        if (failStop) {
            throw new IllegalStateException("fake stop failure requested by fail_stop");
        }
        doStopSandbox(sandboxId, timeout);
    }

    private void doStopSandbox(String sandboxId, Duration timeout) {
        SandboxStatus s = sandboxes.get(sandboxId);
        if (s == null) {
            return;
        }
        containerSandbox.forEach((c, sb) -> {
            if (sb.equals(sandboxId)) {
                doStopContainer(c, timeout);
            }
        });
        sandboxes.put(sandboxId, new SandboxStatus(sandboxId, SandboxStatus.State.NOTREADY, s.createdAt(), 0, s.info()));
        persist("sandbox-" + sandboxId, "NOTREADY", "");
    }

    @Override
    public SandboxStatus sandboxStatus(String sandboxId) {
        return sandbox(sandboxId);
    }

    @Override
    public void removeSandbox(String sandboxId) {
        checkRemovable("sandbox", sandboxId);
        doStopSandbox(sandboxId, Duration.ZERO);
        sandboxes.remove(sandboxId);
        forget("sandbox-" + sandboxId);
    }

    @Override
    public ContainerStatus createContainer(ContainerSpec spec) {
        SandboxStatus sb = sandbox(spec.sandboxId());
        if (sb.state() != SandboxStatus.State.READY) {
            throw new BackendException(BackendException.Kind.FAILED_PRECONDITION,
                    "sandbox \"" + spec.sandboxId() + "\" is not ready");
        }
        var status = new ContainerStatus(spec.id(), ContainerStatus.State.CREATED, Instant.now(), null, null, 0, "",
                "", 0, Map.of());
        containers.put(spec.id(), status);
        containerSandbox.put(spec.id(), spec.sandboxId());
        persist("container-" + spec.id(), "CREATED", spec.sandboxId());
        return status;
    }

    @Override
    public void startContainer(String containerId) {
        ContainerStatus c = container(containerId);
        if (c.state() != ContainerStatus.State.CREATED) {
            throw new BackendException(BackendException.Kind.FAILED_PRECONDITION,
                    "container \"" + containerId + "\" is " + c.state() + ", not CREATED");
        }
        containers.put(containerId, new ContainerStatus(containerId, ContainerStatus.State.RUNNING, c.createdAt(),
                Instant.now(), null, 0, "", "", 2, c.info()));
        persist("container-" + containerId, "RUNNING", containerSandbox.get(containerId));
    }

    @Override
    public void stopContainer(String containerId, Duration timeout) {
        if (failStop) {
            throw new IllegalStateException("fake stop failure requested by fail_stop");
        }
        doStopContainer(containerId, timeout);
    }

    private void doStopContainer(String containerId, Duration timeout) {
        ContainerStatus c = containers.get(containerId);
        if (c == null || c.state() == ContainerStatus.State.EXITED) {
            return;
        }
        containers.put(containerId, new ContainerStatus(containerId, ContainerStatus.State.EXITED, c.createdAt(),
                c.startedAt() == null ? Instant.now() : c.startedAt(), Instant.now(), 137, "Error", "", 0, c.info()));
        persist("container-" + containerId, "EXITED", containerSandbox.get(containerId));
        context.events().publish(new BackendEvent(BackendEvent.Type.STOPPED, containerId,
                containerSandbox.get(containerId), Instant.now()));
    }

    @Override
    public ContainerStatus containerStatus(String containerId) {
        return container(containerId);
    }

    @Override
    public void removeContainer(String containerId) {
        checkRemovable("container", containerId);
        doStopContainer(containerId, Duration.ZERO);
        containers.remove(containerId);
        containerSandbox.remove(containerId);
        forget("container-" + containerId);
    }

    @Override
    public void updateContainer(String containerId, LinuxResources resources) {
        container(containerId);
    }

    @Override
    public ExecResult execSync(String containerId, List<String> command, Duration timeout) {
        ContainerStatus c = container(containerId);
        if (c.state() != ContainerStatus.State.RUNNING) {
            throw new BackendException(BackendException.Kind.FAILED_PRECONDITION,
                    "container \"" + containerId + "\" is not running");
        }
        if (command.isEmpty()) {
            throw BackendException.invalid("empty command");
        }
        switch (command.getFirst()) {
            case "echo" -> {
                return new ExecResult((String.join(" ", command.subList(1, command.size())) + "\n")
                        .getBytes(StandardCharsets.UTF_8), new byte[0], 0);
            }
            case "exit" -> {
                return new ExecResult(new byte[0], new byte[0], Integer.parseInt(command.get(1)));
            }
            case "spew" -> {
                byte[] out = new byte[Integer.parseInt(command.get(1))];
                byte[] err = new byte[Integer.parseInt(command.get(2))];
                Arrays.fill(out, (byte) 'o');
                Arrays.fill(err, (byte) 'e');
                return new ExecResult(out, err, 3);
            }
            case "sh" -> {
                if (command.size() == 3 && command.get(1).equals("-c") && command.get(2).matches("exit \\d+")) {
                    return execSync(containerId, List.of(command.get(2).split(" ")), timeout);
                }
                return new ExecResult(new byte[0], "sh: only -c \"exit N\" is understood\n"
                        .getBytes(StandardCharsets.UTF_8), 2);
            }
            case "sleep" -> {
                Duration d = Duration.ofMillis((long) (Double.parseDouble(command.get(1)) * 1000));
                if (!timeout.isZero() && d.compareTo(timeout) > 0) {
                    sleep(timeout);
                    throw new BackendException(BackendException.Kind.DEADLINE_EXCEEDED,
                            "command timed out after " + timeout.toSeconds() + "s");
                }
                sleep(d);
                return new ExecResult(new byte[0], new byte[0], 0);
            }
            default -> {
                return new ExecResult(new byte[0], (command.getFirst() + ": not found\n").getBytes(StandardCharsets.UTF_8),
                        127);
            }
        }
    }

    @Override
    public Report recover(List<String> sandboxIds, List<String> containerIds) {
        List<String> lost = new ArrayList<>();
        for (String id : sandboxIds) {
            Properties p = load("sandbox-" + id);
            if (p == null) {
                lost.add(id);
                continue;
            }
            var state = SandboxStatus.State.valueOf(p.getProperty("state"));
            sandboxes.put(id, new SandboxStatus(id, state, Instant.now(), 0, Map.of("fake", "true", "recovered", "true")));
        }
        for (String id : containerIds) {
            Properties p = load("container-" + id);
            if (p == null) {
                lost.add(id);
                continue;
            }
            var state = ContainerStatus.State.valueOf(p.getProperty("state"));
            Instant now = Instant.now();
            containers.put(id, new ContainerStatus(id, state, now, state == ContainerStatus.State.CREATED ? null : now,
                    state == ContainerStatus.State.EXITED ? now : null, 0, "", "", 0, Map.of("recovered", "true")));
            containerSandbox.put(id, p.getProperty("sandbox"));
        }
        return new Report(lost);
    }

    @Override
    public void close() {}

    private void checkRemovable(String what, String id) {
        if (failRemoveWhile != null && Files.exists(failRemoveWhile)) {
            throw new BackendException(BackendException.Kind.INTERNAL, "failed to remove " + what + " \"" + id
                    + "\": fake failure requested by fail_remove_while");
        }
    }

    private SandboxStatus sandbox(String id) {
        SandboxStatus s = sandboxes.get(id);
        if (s == null) {
            throw BackendException.notFound("sandbox", id);
        }
        return s;
    }

    private ContainerStatus container(String id) {
        ContainerStatus c = containers.get(id);
        if (c == null) {
            throw BackendException.notFound("container", id);
        }
        return c;
    }

    private void persist(String name, String state, String sandbox) {
        Properties p = new Properties();
        p.setProperty("state", state);
        p.setProperty("sandbox", sandbox == null ? "" : sandbox);
        try {
            Path tmp = context.stateDir().resolve(name + ".tmp");
            try (var out = Files.newOutputStream(tmp)) {
                p.store(out, null);
            }
            Files.move(tmp, context.stateDir().resolve(name), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Properties load(String name) {
        Path f = context.stateDir().resolve(name);
        if (!Files.exists(f)) {
            return null;
        }
        Properties p = new Properties();
        try (var in = Files.newInputStream(f)) {
            p.load(in);
        } catch (IOException e) {
            return null;
        }
        return p;
    }

    private void forget(String name) {
        try {
            Files.deleteIfExists(context.stateDir().resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackendException(BackendException.Kind.INTERNAL, "interrupted");
        }
    }
}
