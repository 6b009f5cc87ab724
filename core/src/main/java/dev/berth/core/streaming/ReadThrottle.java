package dev.berth.core.streaming;

import io.netty.channel.Channel;

import java.util.HashSet;
import java.util.Set;

/**
 * Stops reading a connection while any of its pipes is full, using Netty's auto-read switch, so TCP flow
 * control pushes back on the client.
 */
final class ReadThrottle {

    private final Channel channel;
    private final Set<Object> full = new HashSet<>(); // touched on the event loop only

    ReadThrottle(Channel channel) {
        this.channel = channel;
    }

    void pause(Object who) {
        onLoop(() -> {
            full.add(who);
            channel.config().setAutoRead(false);
        });
    }

    void resume(Object who) {
        onLoop(() -> {
            if (full.remove(who) && full.isEmpty()) {
                channel.config().setAutoRead(true);
            }
        });
    }

    boolean paused() {
        return !channel.config().isAutoRead();
    }

    private void onLoop(Runnable task) {
        if (channel.eventLoop().inEventLoop()) {
            task.run();
        } else {
            channel.eventLoop().execute(task);
        }
    }
}
