package dev.berth.core.dispatch;

import dev.berth.core.store.SandboxRecord;
import dev.berth.core.util.NonBlocking;
import dev.berth.spi.BackendException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Routes every call for an existing pod to the handler generation that created it. The binding is made once, when
 * RunPodSandbox picks the handler ({@link #claim}) or at recovery (from the handler name and generation on the
 * record), and never re-resolved from config, so a reload cannot move a running pod to another backend. Unbinding
 * the last pod of a retired generation closes that generation (see {@link HandlerRegistry#release}).
 */
public final class Dispatcher {
    private final HandlerRegistry registry;
    private final Map<String, Handler> owners = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong changes = new java.util.concurrent.atomic.AtomicLong();

    public Dispatcher(HandlerRegistry registry) {
        this.registry = registry;
    }

    public HandlerRegistry registry() {
        return registry;
    }

    /**
     * Picks the handler for a new pod ({@code runtimeHandler}, empty for the default) and binds {@code sandboxId}
     * to its newest generation. INVALID_ARGUMENT for an unknown handler.
     */
    public Handler claim(String sandboxId, String runtimeHandler) {
        Handler h = registry.claim(sandboxId, runtimeHandler);
        owners.put(sandboxId, h);
        changes.incrementAndGet();
        return h;
    }

    /** Records that {@code sandboxId} belongs to {@code handler} (at recovery). */
    public void bind(String sandboxId, Handler handler) {
        registry.attach(handler, sandboxId);
        owners.put(sandboxId, handler);
        changes.incrementAndGet();
    }

    /** Forgets a removed (or never created) pod; its generation is closed if it was the last pod of a retired one. */
    public void unbind(String sandboxId) {
        Handler h = owners.remove(sandboxId);
        if (h != null) {
            registry.release(h, sandboxId);
            changes.incrementAndGet();
        }
    }

    /**
     * The handler owning a sandbox. UNAVAILABLE when no open generation matches the record (its handler's plugin
     * is gone, or the record predates generations and names a handler that is no longer configured): the pod stays
     * listed, in an unknown state.
     */
    public Handler forSandbox(SandboxRecord sandbox) {
        Handler h = owners.get(sandbox.id());
        if (h != null) {
            return h;
        }
        NonBlocking.beforeBlocking(); // the registry's lock is held while handlers are created
        h = registry.adopt(sandbox.id(), sandbox.handler(), sandbox.generation());
        if (h == null) {
            throw new BackendException(BackendException.Kind.UNAVAILABLE, "runtime handler \"" + sandbox.handler()
                    + "\" of pod sandbox \"" + sandbox.id() + "\" is not configured");
        }
        Handler prev = owners.putIfAbsent(sandbox.id(), h);
        changes.incrementAndGet();
        return prev == null ? h : prev;
    }

    /**
     * A number that grows with every change of which pods are bound: a list built from the bindings (a pod with no
     * reachable handler aside) is still true while it stays the same.
     */
    public long changes() {
        return changes.get();
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
