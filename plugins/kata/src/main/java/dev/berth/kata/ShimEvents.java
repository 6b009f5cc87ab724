package dev.berth.kata;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.berth.kata.proto.events.Envelope;
import dev.berth.kata.proto.events.TaskExit;
import dev.berth.kata.proto.events.TaskOOM;
import dev.berth.kata.shim.ShimLauncher;
import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendEvent;
import java.io.IOException;
import java.time.Instant;
import java.util.Map;

/** What the shims publish to the events server: only container exits and OOM kills concern berth. */
final class ShimEvents {
    private final BackendContext context;
    private final System.Logger log;
    private final Map<String, Container> containers;

    ShimEvents(BackendContext context, ShimRegistry registry) {
        this.context = context;
        this.log = context.logger();
        this.containers = registry.containers;
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
                        context.events().publish(new BackendEvent(BackendEvent.Type.STOPPED, c.id, c.sandboxId, at));
                    }
                }
                case "/tasks/oom" -> {
                    Container c = containers.get(TaskOOM.parseFrom(env.getEvent().getValue()).getContainerId());
                    if (c != null) {
                        c.oomKilled = true;
                        c.props.setProperty("oomKilled", "true"); // survives a berth restart
                        try {
                            BundleProperties.store(c.bundle, c.props);
                        } catch (IOException e) {
                            log.log(System.Logger.Level.DEBUG, "cannot record OOM of " + c.id + ": " + e.getMessage());
                        }
                    }
                }
                default -> { }
            }
        } catch (InvalidProtocolBufferException e) {
            log.log(System.Logger.Level.WARNING, "malformed " + env.getTopic() + " event: " + e.getMessage());
        }
    }

}
