package dev.berth.core.dispatch;

import dev.berth.spi.BackendContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The {@link BackendContext} core hands each backend it creates. */
record CoreBackendContext(String handlerName, Path stateDir, Path rootDir, System.Logger logger, EventSink events)
        implements BackendContext {

    static CoreBackendContext create(String handler, String pluginId, Path state, Path root, EventSink events) {
        Path s = state.resolve("handlers").resolve(handler);
        Path r = root.resolve("handlers").resolve(handler);
        try {
            Files.createDirectories(s);
            Files.createDirectories(r);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create directories for handler " + handler, e);
        }
        return new CoreBackendContext(handler, s, r, System.getLogger("berth.plugin." + pluginId + "." + handler),
                events);
    }
}
