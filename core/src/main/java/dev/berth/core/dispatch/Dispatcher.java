package dev.berth.core.dispatch;

import dev.berth.core.store.SandboxRecord;
import dev.berth.spi.BackendException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Routes every call for an existing pod to the handler that created it. The binding is made once, at
 * RunPodSandbox (or at recovery, from the handler name on the record), and never re-resolved from config, so a
 * reload cannot move a running pod to another backend.
 */
public final class Dispatcher {
    private final HandlerRegistry registry;
    private final Map<String, Handler> owners = new ConcurrentHashMap<>();

    public Dispatcher(HandlerRegistry registry) {
        this.registry = registry;
    }

    public HandlerRegistry registry() {
        return registry;
    }

    /** Records that {@code sandboxId} belongs to {@code handler}. */
    public void bind(String sandboxId, Handler handler) {
        owners.put(sandboxId, handler);
    }

    public void unbind(String sandboxId) {
        owners.remove(sandboxId);
    }

    /**
     * The handler owning a sandbox. UNAVAILABLE when the record names a handler that is no longer configured
     * (e.g. after a restart with a changed config): the pod stays listed, in an unknown state.
     */
    public Handler forSandbox(SandboxRecord sandbox) {
        Handler h = owners.get(sandbox.id());
        if (h != null) {
            return h;
        }
        h = registry.byName(sandbox.handler());
        if (h == null) {
            throw new BackendException(BackendException.Kind.UNAVAILABLE, "runtime handler \"" + sandbox.handler()
                    + "\" of pod sandbox \"" + sandbox.id() + "\" is not configured");
        }
        Handler prev = owners.putIfAbsent(sandbox.id(), h);
        return prev == null ? h : prev;
    }

    /** The handler if the sandbox's backend is reachable, or null. */
    public Handler forSandboxOrNull(SandboxRecord sandbox) {
        try {
            return forSandbox(sandbox);
        } catch (BackendException e) {
            return null;
        }
    }
}
