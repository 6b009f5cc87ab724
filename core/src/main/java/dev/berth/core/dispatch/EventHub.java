package dev.berth.core.dispatch;

import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendEvent;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.function.Consumer;

/**
 * Fans container lifecycle events out to {@code GetContainerEvents} subscribers. Each subscriber has a bounded
 * queue; a subscriber that does not keep up loses events rather than making berth buffer without bound.
 */
public final class EventHub implements BackendContext.EventSink {
    private static final int QUEUE = 1024;
    private final Set<BlockingQueue<BackendEvent>> subscribers = new CopyOnWriteArraySet<>();
    private final List<Consumer<BackendEvent>> listeners = new CopyOnWriteArrayList<>();

    @Override
    public void publish(BackendEvent event) {
        for (Consumer<BackendEvent> l : listeners) {
            l.accept(event);
        }
        for (BlockingQueue<BackendEvent> q : subscribers) {
            q.offer(event);
        }
    }

    /**
     * Hands {@code event} to {@code GetContainerEvents}' subscribers alone, not to core's listeners: a pod's own
     * lifecycle (created and started, stopped, deleted), which core follows from the pods' records.
     */
    public void announce(BackendEvent event) {
        for (BlockingQueue<BackendEvent> q : subscribers) {
            q.offer(event);
        }
    }

    /** Calls {@code listener} with every event, on the publishing thread (it must be quick and not throw). */
    public void listen(Consumer<BackendEvent> listener) {
        listeners.add(listener);
    }

    public BlockingQueue<BackendEvent> subscribe() {
        BlockingQueue<BackendEvent> q = new ArrayBlockingQueue<>(QUEUE);
        subscribers.add(q);
        return q;
    }

    public void unsubscribe(BlockingQueue<BackendEvent> q) {
        subscribers.remove(q);
    }
}
