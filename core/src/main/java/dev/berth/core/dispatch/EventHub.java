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
import java.util.function.Predicate;

/**
 * Fans container lifecycle events out to {@code GetContainerEvents} subscribers. Each subscriber has a bounded
 * queue; a subscriber that does not keep up loses events rather than making berth buffer without bound.
 */
public final class EventHub implements BackendContext.EventSink {
    private static final int QUEUE = 1024;
    private final Set<BlockingQueue<BackendEvent>> subscribers = new CopyOnWriteArraySet<>();
    private final List<Consumer<BackendEvent>> listeners = new CopyOnWriteArrayList<>();
    private volatile Predicate<BackendEvent> forward = e -> true;

    @Override
    public void publish(BackendEvent event) {
        for (Consumer<BackendEvent> l : listeners) {
            l.accept(event);
        }
        offer(event);
    }

    /**
     * Hands {@code event} to {@code GetContainerEvents}' subscribers alone, not to core's listeners: a pod's own
     * lifecycle (created and started, stopped, deleted), which core follows from the pods' records.
     */
    public void announce(BackendEvent event) {
        offer(event);
    }

    /**
     * Sets which events reach {@code GetContainerEvents}' subscribers, published or announced (all by default);
     * core's listeners get every published event regardless. It is asked once per event, on the publishing thread,
     * while someone subscribes, so it must be quick and not throw.
     */
    public void forwardOnly(Predicate<BackendEvent> forward) {
        this.forward = forward;
    }

    private void offer(BackendEvent event) {
        if (subscribers.isEmpty() || !forward.test(event)) {
            return;
        }
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
