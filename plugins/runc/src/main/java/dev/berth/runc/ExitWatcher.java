package dev.berth.runc;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.function.Consumer;

/**
 * Watches conmon's exit directory and reports each container id whose exit file appears; every event also wakes
 * the calls waiting for an exit ({@link ExitSignals}).
 */
final class ExitWatcher implements AutoCloseable {
    private final WatchService watch;
    private final Thread thread;

    ExitWatcher(Path exits, ExitSignals signals, Consumer<String> onExit, System.Logger log) {
        WatchService w;
        try {
            w = FileSystems.getDefault().newWatchService();
            exits.register(w, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
        } catch (IOException e) {
            log.log(Level.WARNING, "cannot watch {0} for container exits: {1}", exits, e.getMessage());
            w = null;
        }
        this.watch = w;
        if (w == null) {
            this.thread = null;
            return;
        }
        this.thread = Thread.ofPlatform().daemon().name("berth-runc-exits").start(() -> {
            try {
                while (true) {
                    WatchKey key = watch.take();
                    for (WatchEvent<?> ev : key.pollEvents()) {
                        if (ev.context() instanceof Path p && !p.getFileName().toString().startsWith(".")) {
                            signals.signal();
                            if (ev.kind() == StandardWatchEventKinds.ENTRY_CREATE) {
                                onExit.accept(p.getFileName().toString());
                            }
                        }
                    }
                    key.reset();
                }
            } catch (InterruptedException | ClosedWatchServiceException e) {
                // closed
            } catch (RuntimeException e) {
                log.log(Level.WARNING, "exit watcher stopped: {0}", e.getMessage());
            }
        });
    }

    @Override
    public void close() {
        if (watch != null) {
            try {
                watch.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }
}
