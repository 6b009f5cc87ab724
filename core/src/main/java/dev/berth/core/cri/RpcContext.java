package dev.berth.core.cri;

import dev.berth.core.dispatch.Handler;
import java.util.function.BooleanSupplier;

/**
 * Per-call facts an RPC records for its log line (which pod, container and handler it touched), and whether the
 * caller is still waiting for the answer.
 */
public final class RpcContext {
    private final BooleanSupplier callerGone;
    private String pod = "";
    private String container = "";
    private String handler = "";
    private String plugin = "";

    /** The context of a call whose caller waits for its answer to the end. */
    public RpcContext() {
        this(() -> false);
    }

    /** The context of a call whose caller has given up (its deadline passed, it cancelled) once {@code callerGone}. */
    public RpcContext(BooleanSupplier callerGone) {
        this.callerGone = callerGone;
    }

    /** Whether the caller has given up on this call, so that its answer reaches nobody. */
    public boolean callerGone() {
        return callerGone.getAsBoolean();
    }

    public RpcContext pod(String id) {
        this.pod = id == null ? "" : id;
        return this;
    }

    public RpcContext container(String id) {
        this.container = id == null ? "" : id;
        return this;
    }

    public RpcContext handler(Handler h) {
        if (h != null) {
            this.handler = h.name();
            this.plugin = h.pluginId();
        }
        return this;
    }

    /** The pod's id, or "" when the call touched none. */
    String podId() {
        return pod;
    }

    /** The container's id, or "" when the call touched none. */
    String containerId() {
        return container;
    }

    /** The handler's name, or "" when the call touched none. */
    String handlerName() {
        return handler;
    }

    /** The handler's plugin, or "" when the call touched none. */
    String pluginId() {
        return plugin;
    }

    String describe() {
        StringBuilder sb = new StringBuilder();
        if (!pod.isEmpty()) {
            sb.append(" pod=").append(shorten(pod));
        }
        if (!container.isEmpty()) {
            sb.append(" container=").append(shorten(container));
        }
        if (!handler.isEmpty()) {
            sb.append(" handler=").append(handler).append(" plugin=").append(plugin);
        }
        return sb.toString();
    }

    private static String shorten(String id) {
        return id.length() > 13 ? id.substring(0, 13) : id;
    }
}
