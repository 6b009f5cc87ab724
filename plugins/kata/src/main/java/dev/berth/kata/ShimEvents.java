package dev.berth.kata;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.berth.kata.proto.events.Envelope;
import dev.berth.kata.proto.events.TaskExit;
import dev.berth.kata.proto.events.TaskOOM;
import dev.berth.kata.shim.ShimLauncher;
import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendEvent;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the shims publish to the events server: only task exits and OOM kills concern berth. A container's exit
 * is published as its STOPPED; the exit of a pod's sandbox task as the sandbox's (the SPI's
 * {@code SandboxEventSource}: container id and sandbox id both the pod's).
 *
 * <p>A shim that goes away (it crashed or was killed: its connection closed while berth was not tearing the pod
 * down) publishes nothing more, so {@link #shimLost} publishes for it: the sandbox's end, and a STOPPED for each
 * of its containers whose exit berth had not heard of, whose status from then on says the shim is gone. A
 * container that had exited keeps the exit the shim reported ({@link Container#exit}, also kept in its bundle).
 *
 * <p>A shim sends an OOM kill's {@code /tasks/oom} and the process's {@code /tasks/exit} from two watchers that do
 * not wait for each other (containerd's runc shim: the cgroup's {@code memory.events} and the reaper; Kata's shim:
 * the agent's OOM events and its wait for the process), each as a call of its own, so the OOM can arrive after the
 * exit. Core keeps a container's status from its STOPPED on, so a STOPPED published before the OOM would leave
 * the reason at {@code Error}. A failed exit is therefore held until its container's OOM arrives, or for
 * {@link #OOM_WAIT} at most; a clean exit, or one whose OOM came first, is published at once. An OOM that comes
 * after the wait ended publishes the exit again, so that core reads the status once more. Whether the host
 * could tell by itself is no help: a VM's container cgroups are in the guest.
 */
final class ShimEvents implements AutoCloseable {
    /** How long a failed exit waits for an OOM event that has not come yet (they come milliseconds apart). */
    static final Duration OOM_WAIT = Duration.ofMillis(500);

    /** Runs a task once after a delay. */
    interface Timer {
        void after(Duration delay, Runnable task);
    }

    /** Virtual threads that sleep: a held exit is rare and short. */
    static final Timer SLEEPING = (delay, task) -> Thread.ofVirtual().name("berth-kata-oom-wait").start(() -> {
        try {
            Thread.sleep(delay);
        } catch (InterruptedException e) {
            return;
        }
        task.run();
    });

    /** An exit waiting for its container's OOM event. */
    private record Held(Container container, Instant exitedAt) {}

    private final BackendContext context;
    private final System.Logger log;
    private final Map<String, Container> containers;
    private final Map<String, Pod> pods;
    private final Timer timer;
    private final Map<String, Held> held = new ConcurrentHashMap<>();
    private volatile boolean closed;

    ShimEvents(BackendContext context, ShimRegistry registry) {
        this(context, registry, SLEEPING);
    }

    ShimEvents(BackendContext context, ShimRegistry registry, Timer timer) {
        this.context = context;
        this.log = context.logger();
        this.containers = registry.containers;
        this.pods = registry.pods;
        this.timer = timer;
    }

    /** The shim's events: a container's exit is published once as STOPPED, an OOM kill is remembered. */
    void accept(Envelope env) {
        if (!ShimLauncher.NAMESPACE.equals(env.getNamespace())) {
            return;
        }
        try {
            switch (env.getTopic()) {
                case "/tasks/exit" -> {
                    TaskExit e = TaskExit.parseFrom(env.getEvent().getValue());
                    if (!e.getId().isEmpty() && !e.getId().equals(e.getContainerId())) {
                        return; // an exec process's exit
                    }
                    Instant at = Instant.ofEpochSecond(e.getExitedAt().getSeconds(), e.getExitedAt().getNanos());
                    Container c = containers.get(e.getContainerId());
                    if (c != null) {
                        exited(c, e.getExitStatus(), at);
                    } else {
                        Pod pod = pods.get(e.getContainerId());
                        if (pod != null) {
                            sandboxEnded(pod, at);
                        }
                    }
                }
                case "/tasks/oom" -> {
                    Container c = containers.get(TaskOOM.parseFrom(env.getEvent().getValue()).getContainerId());
                    if (c != null) {
                        oomKilled(c);
                    }
                }
                default -> { }
            }
        } catch (InvalidProtocolBufferException e) {
            log.log(System.Logger.Level.WARNING, "malformed " + env.getTopic() + " event: " + e.getMessage());
        }
    }

    private void exited(Container c, int status, Instant at) {
        Container.Exit exit = new Container.Exit(status, at);
        c.exit = exit;
        exit.putInto(c.props);
        try {
            c.record(); // the exit outlives the shim, also across a restart
        } catch (IOException e) {
            log.log(System.Logger.Level.DEBUG, "cannot record exit of " + c.id + ": " + e.getMessage());
        }
        if (status == 0 || c.oomKilled) {
            publish(c, at); // an OOM kill never exits 0; a known one is in the status already
            return;
        }
        Held h = new Held(c, at);
        held.put(c.id, h);
        if (c.oomKilled) {
            release(c.id, h); // the OOM came while this was being held: it found nothing to release
            return;
        }
        timer.after(OOM_WAIT, () -> release(c.id, h));
    }

    private void oomKilled(Container c) {
        c.oomKilled = true;
        c.props.setProperty("oomKilled", "true"); // survives a berth restart
        try {
            c.record();
        } catch (IOException e) {
            log.log(System.Logger.Level.DEBUG, "cannot record OOM of " + c.id + ": " + e.getMessage());
        }
        Held h = held.get(c.id);
        if (h != null) {
            release(c.id, h);
            return;
        }
        Instant published = c.failedExitPublished;
        if (published != null) {
            // Later than the wait: STOPPED again, so that core reads the status once more and finds OOMKilled
            // (the kubelet's events see the exit twice, which it takes as the same state).
            c.failedExitPublished = null;
            publish(c, published);
        }
    }

    /** Publishes a held exit once, whichever of its OOM event and the end of the wait comes first. */
    private void release(String id, Held h) {
        if (held.remove(id, h)) {
            if (!h.container().oomKilled) {
                h.container().failedExitPublished = h.exitedAt();
            }
            publish(h.container(), h.exitedAt());
        }
    }

    private void publish(Container c, Instant at) {
        if (closed || containers.get(c.id) != c) {
            return; // the backend is closed, or the container was removed while its exit was held
        }
        context.events().publish(new BackendEvent(BackendEvent.Type.STOPPED, c.id, c.sandboxId, at));
    }

    /** Publishes the end of the pod's sandbox task, once, unless berth is removing the pod. */
    private void sandboxEnded(Pod pod, Instant at) {
        if (closed || pod.closing || pods.get(pod.id) != pod || !pod.endPublished.compareAndSet(false, true)) {
            return;
        }
        context.events().publish(new BackendEvent(BackendEvent.Type.STOPPED, pod.id, pod.id, at));
    }

    /**
     * The pod's shim closed its connection (it exited, crashed or was killed) while the pod was not being removed:
     * nothing in the pod runs any more as far as berth can manage it. The pod is marked lost, and the end of its
     * containers that had not exited and of its sandbox is published, as the shim itself no longer can.
     */
    void shimLost(Pod pod, String reason) {
        if (closed || pod.closing || pods.get(pod.id) != pod) {
            return;
        }
        if (pod.lost == null) {
            pod.lost = "the shim exited or closed its connection (" + reason + ")";
        }
        log.log(System.Logger.Level.WARNING, "the shim of pod " + pod.id + " is gone: " + reason);
        Instant at = Instant.now();
        for (String id : pod.containerIds) {
            Container c = containers.get(id);
            if (c != null && c.exit == null) {
                publish(c, at);
            }
        }
        sandboxEnded(pod, at);
    }

    /** Drops the exits still held: a closed backend publishes nothing. */
    @Override
    public void close() {
        closed = true;
        held.clear();
    }
}
