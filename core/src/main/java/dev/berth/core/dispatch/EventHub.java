package dev.berth.core.dispatch;

import dev.berth.spi.BackendContext;
import dev.berth.spi.BackendEvent;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArraySet;

/**
 * Fans container lifecycle events out to {@code GetContainerEvents} subscribers. Each subscriber has a bounded
 * queue; a subscriber that does not keep up loses events rather than making berth buffer without bound.
 */
public final class EventHub implements BackendContext.EventSink {
    private static final int QUEUE = 1024;
    private final Set<BlockingQueue<BackendEvent>> subscribers = new CopyOnWriteArraySet<>();

    @Override
    public void publish(BackendEvent event) {
        for (BlockingQueue<BackendEvent> q : subscribers) {
            q.offer(event);
        }
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
