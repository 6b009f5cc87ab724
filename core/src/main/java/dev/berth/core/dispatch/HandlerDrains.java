package dev.berth.core.dispatch;

import dev.berth.core.store.AtomicFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The handlers an operator drained ({@code berth handler drain NAME}): RunPodSandbox on a drained handler is
 * refused with UNAVAILABLE while its existing pods keep working. The set is operator intent, not runtime state,
 * so it lives under berth's persistent root ({@code <root>/drained-handlers}, one name per line, written through
 * {@link AtomicFiles}) and survives restarts and reboots until the handler is undrained.
 */
public final class HandlerDrains {
    private static final System.Logger LOG = System.getLogger(HandlerDrains.class.getName());

    private final Path file;
    private volatile Set<String> drained;

    /** The drained handlers persisted under {@code root}. */
    public HandlerDrains(Path root) {
        this.file = root.resolve("drained-handlers");
        this.drained = read(file);
    }

    private static Set<String> read(Path file) {
        if (!Files.exists(file)) {
            return Set.of();
        }
        try {
            SortedSet<String> names = new TreeSet<>();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    names.add(line.strip());
                }
            }
            return Set.copyOf(names);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.ERROR, "cannot read the drained handlers from {0}: {1}", file, e.getMessage());
            return Set.of();
        }
    }

    public boolean isDrained(String handler) {
        return drained.contains(handler);
    }

    /** The drained handler names, sorted. */
    public SortedSet<String> names() {
        return new TreeSet<>(drained);
    }

    /**
     * Drains ({@code on}) or undrains a handler and persists the set before it takes effect. Returns whether
     * the state changed.
     */
    public synchronized boolean set(String handler, boolean on) {
        SortedSet<String> next = new TreeSet<>(drained);
        boolean changed = on ? next.add(handler) : next.remove(handler);
        if (!changed) {
            return false;
        }
        StringBuilder sb = new StringBuilder();
        next.forEach(n -> sb.append(n).append('\n'));
        try {
            if (next.isEmpty()) {
                Files.deleteIfExists(file);
                AtomicFiles.syncDirectory(file.toAbsolutePath().getParent());
            } else {
                AtomicFiles.write(file, sb.toString().getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot persist the drained handlers to " + file, e);
        }
        drained = Set.copyOf(next);
        return true;
    }
}
