package dev.berth.core.dispatch;

import dev.berth.spi.BackendContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The {@link BackendContext} core hands each backend it creates. */
record CoreBackendContext(String handlerName, Path stateDir, Path rootDir, System.Logger logger, EventSink events)
        implements BackendContext {

    /**
     * The context of one generation of a handler: its own state directory, and the handler's persistent root
     * directory, {@code <root>/handlers/<name>}, which all its generations share.
     */
    static CoreBackendContext create(String handler, String pluginId, Path stateDir, Path root, EventSink events) {
        Path r = root.resolve("handlers").resolve(handler);
        try {
            Files.createDirectories(stateDir);
            Files.createDirectories(r);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create directories for handler " + handler, e);
        }
        return new CoreBackendContext(handler, stateDir, r, System.getLogger("berth.plugin." + pluginId + "."
                + handler), events);
    }
}
