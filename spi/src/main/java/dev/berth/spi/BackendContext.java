package dev.berth.spi;

import java.nio.file.Path;

/** What core offers a backend it creates. Implemented by core; thread-safe. */
public interface BackendContext {

    /** The handler this backend serves. */
    String handlerName();

    /**
     * A directory for this handler's runtime state (bundles, sockets, pid files), on tmpfs, kept across berth
     * restarts but not across reboots: {@code <state>/handlers/<name>}. It exists when {@code create} runs.
     */
    Path stateDir();

    /** A directory for this handler's persistent data: {@code <root>/handlers/<name>}. It exists. */
    Path rootDir();

    /** A logger named after the plugin and handler. */
    System.Logger logger();

    /** Where the backend reports container lifecycle events it observes on its own, e.g. exits. */
    EventSink events();

    /** Receives events from a backend. Implemented by core; never blocks for long; thread-safe. */
    interface EventSink {
        void publish(BackendEvent event);
    }
}
