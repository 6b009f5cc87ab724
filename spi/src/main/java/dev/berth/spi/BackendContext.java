package dev.berth.spi;

import java.nio.file.Path;

/**
 * What core offers a backend it creates. Implemented by core; every method is thread-safe, cheap, returns the
 * same value for the backend's whole life and throws nothing. The backend may keep the context and use it from
 * any thread until {@link RuntimeBackend#close()} returns.
 */
public interface BackendContext {

    /** The handler this backend serves, as named in the operator's config. */
    String handlerName();

    /**
     * A directory for this backend instance's runtime state (bundles, sockets, pid files), on tmpfs, kept across
     * berth restarts but not across reboots. It is this instance's alone: when a reload changes the handler's
     * options, core creates a new instance (a new generation of the handler) with a directory of its own,
     * {@code <state>/handlers/<name>@<generation>}, keeps the old instance for the pods it created, and closes it
     * when their last one is removed. The first generation has {@code <state>/handlers/<name>}. After a restart,
     * core re-creates each generation that still owns pods over the same directory with the same options. It
     * exists when {@code create} runs.
     */
    Path stateDir();

    /**
     * A directory for this handler's persistent data: {@code <root>/handlers/<name>}, shared by all generations of
     * the handler. It exists.
     */
    Path rootDir();

    /** A logger named after the plugin and handler; what a backend logs goes to berth's log. */
    System.Logger logger();

    /**
     * Where the backend reports what it alone observes: {@link BackendEvent.Type#STOPPED} once each time a
     * container's process exits, whether stopped, killed or on its own. Core publishes CREATED, STARTED and
     * DELETED for the calls it serves, so a backend must not, or the kubelet sees them twice. A backend publishes
     * from any thread, also after a restart of berth for exits it finds while recovering.
     */
    EventSink events();

    /** Receives events from a backend. Implemented by core. */
    interface EventSink {
        /**
         * Hands an event to core. Thread-safe; never blocks for long (a slow CRI client loses events rather than
         * holding the backend up) and throws nothing. Not idempotent: each call is one event for the kubelet.
         */
        void publish(BackendEvent event);
    }
}
