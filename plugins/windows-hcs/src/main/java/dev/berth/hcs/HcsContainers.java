package dev.berth.hcs;

import static dev.berth.hcs.Failures.backend;

import dev.berth.hcs.handle.ComputeSystem;
import dev.berth.hcs.handle.HcsException;
import dev.berth.hcs.handle.HcsProcess;
import dev.berth.hcs.log.LogRelay;
import dev.berth.hcs.log.RelayRecord;
import dev.berth.hcs.schema.Documents;
import dev.berth.hcs.schema.Schema;
import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerMount;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.ContainerStatus;
import dev.berth.spi.DnsConfig;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Containers: each a compute system (a silo) naming its pod's HNS namespace. Start runs its init process; stop is
 * the init's stop (CtrlShutdown, then terminate after the grace period), then the system's shutdown, terminated if
 * it does not go within the handler's shutdown timeout.
 */
final class HcsContainers {
    private final HcsEnv env;
    private final HcsRegistry registry;
    private final HcsInit init;

    HcsContainers(HcsEnv env, HcsRegistry registry, HcsInit init) {
        this.env = env;
        this.registry = registry;
        this.init = init;
    }

    ContainerStatus create(ContainerSpec spec) {
        String what = "failed to create container \"" + spec.id() + "\"";
        env.requireAvailable(what);
        Pod pod = registry.pods.get(spec.sandboxId());
        if (pod == null) {
            throw BackendException.notFound("pod sandbox", spec.sandboxId());
        }
        if (!pod.ready) {
            throw new BackendException(BackendException.Kind.FAILED_PRECONDITION, what + ": pod sandbox \""
                    + spec.sandboxId() + "\" is not ready");
        }
        if (registry.containers.containsKey(spec.id())) {
            throw new BackendException(BackendException.Kind.ALREADY_EXISTS, "container \"" + spec.id()
                    + "\" already exists");
        }
        for (ContainerMount m : spec.mounts()) {
            if (m.selinuxRelabel()) {
                throw BackendException.unimplemented(what + ": SELinux relabelling of " + m.containerPath()
                        + " does not exist on Windows");
            }
            if (m.propagation() != ContainerMount.Propagation.PRIVATE) {
                throw BackendException.unimplemented(what + ": mount propagation of " + m.containerPath()
                        + " does not exist on Windows");
            }
        }
        WindowsLayers.Rootfs rootfs = WindowsLayers.parse(spec.rootfs(), what);
        Schema.Storage storage;
        try {
            storage = WindowsLayers.prepare(env.layerStore(), env.bindings().layers(), spec.id(), rootfs);
        } catch (RuntimeException e) {
            throw backend(what, e);
        }
        try {
            Schema.ComputeSystem doc = Documents.container(new Documents.ContainerInput(pod.rec.hostname(), storage,
                    spec.mounts(), spec.resources(), spec.annotations(), pod.rec.namespace(),
                    new DnsConfig(List.of(), pod.rec.dnsSearches(), List.of()), env.hostProcessors(), null));
            ComputeSystem system = ComputeSystem.create(env.hcs(), spec.id(), doc, env.options().operationTimeout());
            Ctr.CtrRecord rec = new Ctr.CtrRecord(spec.id(), spec.sandboxId(), rootfs.scratch(), env.clock().instant(),
                    null, 0, spec.logPath(), processOf(spec));
            Ctr c = new Ctr(rec);
            c.system = system;
            try {
                env.state().save("containers", spec.id(), rec);
            } catch (RuntimeException e) {
                system.terminate();
                system.close();
                throw e;
            }
            registry.containers.put(spec.id(), c);
            return status(c);
        } catch (RuntimeException e) {
            WindowsLayers.release(env.layerStore(), env.bindings().layers(), spec.id(), rootfs.scratch());
            throw backend(what, e);
        }
    }

    static Documents.ProcessInput processOf(ContainerSpec spec) {
        String user = spec.security().runAsUsername().isEmpty() ? spec.image().user()
                : spec.security().runAsUsername();
        String cwd = spec.workingDir().isEmpty() ? spec.image().workingDir() : spec.workingDir();
        List<String> env = new ArrayList<>(spec.image().env());
        env.addAll(spec.env());
        return new Documents.ProcessInput(spec.processArgs(), user, cwd, env, spec.tty(), spec.stdin(), true, 0, 0);
    }

    void start(String containerId) {
        Ctr c = registry.ctr(containerId);
        String what = "failed to start container \"" + containerId + "\"";
        c.lock.lock();
        try {
            if (c.state != ContainerStatus.State.CREATED) {
                throw new BackendException(BackendException.Kind.FAILED_PRECONDITION, what + ": it is "
                        + c.state.toString().toLowerCase(java.util.Locale.ROOT) + ", not created");
            }
            HcsProcess process;
            try {
                c.system.start(env.options().operationTimeout());
                if (c.rec.process().args().isEmpty()) {
                    throw BackendException.invalid(what + ": no command (the image has no entrypoint or cmd)");
                }
                process = c.system.createProcess(Documents.process(c.rec.process()), env.options().operationTimeout());
            } catch (RuntimeException e) {
                c.finishedAt = env.clock().instant();
                c.exitCode = 128;
                c.reason = "StartError";
                c.message = e.getMessage();
                c.state = ContainerStatus.State.EXITED; // last: a reader that sees EXITED sees the fields above
                throw backend(what, e);
            }
            RelayRecord relay;
            try {
                relay = init.startRelay(c, process);
            } catch (IOException | RuntimeException e) {
                // no half-started container: without its relay the init's output would go nowhere
                rollBack(c, process, "cannot start its log relay: " + e.getMessage());
                throw new BackendException(BackendException.Kind.INTERNAL, what + ": cannot start its log relay: "
                        + e.getMessage(), e);
            }
            c.relay = relay;
            c.init = process;
            c.startedAt = env.clock().instant();
            c.state = ContainerStatus.State.RUNNING;
            c.rec = c.rec.started(c.startedAt, process.pid());
            env.state().save("containers", containerId, c.rec);
            init.watch(c, process);
        } finally {
            c.lock.unlock();
        }
    }

    /** A start that failed after the init was created: the init terminated, the container exited unstarted. */
    private void rollBack(Ctr c, HcsProcess process, String message) {
        c.exitSeen.set(true);
        try {
            process.terminate();
        } catch (HcsException e) {
            env.context().logger().log(System.Logger.Level.WARNING, "container " + c.rec.id()
                    + ": cannot terminate its init after a failed start: " + e.getMessage());
        }
        process.close();
        c.finishedAt = env.clock().instant();
        c.exitCode = 128;
        c.reason = "StartError";
        c.message = message;
        c.state = ContainerStatus.State.EXITED;
    }

    void stop(String containerId, Duration timeout) {
        Ctr c = registry.containers.get(containerId);
        if (c == null) {
            return;
        }
        // The grace period is waited out without the container's lock: a stop with a shorter timeout, or a remove,
        // goes ahead meanwhile. A stop that finds another's CTRL_SHUTDOWN sent does not send it again.
        Duration left = timeout;
        HcsProcess running = c.init;
        if (running != null && !timeout.isZero() && c.state == ContainerStatus.State.RUNNING && !c.exitSeen.get()) {
            boolean sent = c.signalled.compareAndSet(false, true);
            try {
                if (!sent || running.signal(Schema.SignalOptions.CTRL_SHUTDOWN)) {
                    running.awaitExit(timeout);
                }
            } catch (HcsException e) {
                throw backend("failed to stop container \"" + containerId + "\"", e);
            } finally {
                if (sent) {
                    c.signalled.set(false);
                }
            }
            left = Duration.ZERO; // what is left: terminate, under the lock
        }
        c.lock.lock();
        try {
            if (c.state == ContainerStatus.State.CREATED) {
                c.finishedAt = env.clock().instant();
                c.reason = "Error";
                c.message = "stopped before it was started";
                c.state = ContainerStatus.State.EXITED;
            }
            HcsProcess process = c.init;
            if (process != null && !c.exitSeen.get()) {
                Integer code = process.stop(left);
                if (code != null) {
                    init.onExit(c, code);
                }
            }
            if (c.system != null) {
                c.system.shutdownThenTerminate(env.options().shutdownTimeout());
            }
            if (!c.exitSeen.get() && process != null) {
                init.onExit(c, 137);
            }
            HcsInit.awaitRecorded(c);
        } catch (HcsException e) {
            throw backend("failed to stop container \"" + containerId + "\"", e);
        } finally {
            c.lock.unlock();
        }
    }

    ContainerStatus status(String containerId) {
        return status(registry.ctr(containerId));
    }

    private ContainerStatus status(Ctr c) {
        HcsProcess process = c.init;
        return new ContainerStatus(c.rec.id(), c.state, c.rec.createdAt(), c.startedAt, c.finishedAt, c.exitCode,
                c.reason, c.message, process == null ? 0 : process.pid(), Map.of("isolation", "process"));
    }

    void remove(String containerId) {
        Ctr c = registry.containers.get(containerId);
        if (c == null) {
            env.state().delete("containers", containerId);
            return;
        }
        stop(containerId, Duration.ZERO);
        c.lock.lock();
        try {
            if (c.init != null) {
                c.init.close();
            }
            if (c.system != null) {
                c.system.close();
            }
            init.endRelay(c);
            HcsException layers = WindowsLayers.release(env.layerStore(), env.bindings().layers(), containerId,
                    c.rec.scratch());
            if (layers != null) {
                throw layers;
            }
            env.state().delete("containers", containerId);
            registry.containers.remove(containerId);
        } catch (HcsException e) {
            throw backend("failed to remove container \"" + containerId + "\"", e);
        } finally {
            c.lock.unlock();
        }
    }

    /** The log file opened again, by the container's log relay, which writes it. */
    void reopenLog(String containerId) {
        Ctr c = registry.ctr(containerId);
        String what = "failed to reopen the log of container \"" + containerId + "\"";
        if (c.state != ContainerStatus.State.RUNNING) {
            throw new BackendException(BackendException.Kind.FAILED_PRECONDITION, what + ": it is not running");
        }
        RelayRecord relay = c.relay;
        if (relay != null) {
            String answer;
            try {
                answer = LogRelay.send(relay.control(), "reopen");
            } catch (java.io.UncheckedIOException e) {
                throw new BackendException(BackendException.Kind.UNAVAILABLE, what + ": " + e.getMessage(), e);
            }
            if (!"ok".equals(answer)) {
                throw new BackendException(BackendException.Kind.UNAVAILABLE, what + ": the log relay answered "
                        + answer);
            }
            return;
        }
        // no relay: it was found gone after a restart, and the container's output is no longer logged
    }

    void update(String containerId) {
        registry.ctr(containerId);
        throw BackendException.unimplemented("updating the resources of Windows container \"" + containerId
                + "\" is not implemented by the windows-hcs plugin");
    }
}
