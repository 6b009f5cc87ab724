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
 * What the shims publish to the events server: only container exits and OOM kills concern berth.
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
                    Container c = containers.get(e.getContainerId());
                    if (c != null && (e.getId().isEmpty() || e.getId().equals(e.getContainerId()))) {
                        Instant at = Instant.ofEpochSecond(e.getExitedAt().getSeconds(), e.getExitedAt().getNanos());
                        exited(c, e.getExitStatus(), at);
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
            BundleProperties.store(c.bundle, c.props);
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

    /** Drops the exits still held: a closed backend publishes nothing. */
    @Override
    public void close() {
        closed = true;
        held.clear();
    }
}
