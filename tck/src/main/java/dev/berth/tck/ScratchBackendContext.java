package dev.berth.tck;

import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendEvent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A {@link BackendContext} over a scratch directory ({@code state/} and {@code root/} below it) that keeps every
 * published event, so that the contract can check them.
 */
public final class ScratchBackendContext implements BackendContext {
    private final String handler;
    private final Path state;
    private final Path root;
    private final List<BackendEvent> events = new CopyOnWriteArrayList<>();

    public ScratchBackendContext(String handler, Path base) {
        this.handler = handler;
        this.state = base.resolve("state");
        this.root = base.resolve("root");
        try {
            Files.createDirectories(state);
            Files.createDirectories(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String handlerName() {
        return handler;
    }

    @Override
    public Path stateDir() {
        return state;
    }

    @Override
    public Path rootDir() {
        return root;
    }

    @Override
    public System.Logger logger() {
        return System.getLogger("berth.tck." + handler);
    }

    @Override
    public EventSink events() {
        return events::add;
    }

    /** Every event published so far. */
    public List<BackendEvent> published() {
        return List.copyOf(events);
    }
}
