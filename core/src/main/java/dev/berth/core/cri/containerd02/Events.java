package dev.berth.core.cri.containerd02;

import dev.berth.containerd.v02.APIGrpc;
import dev.berth.containerd.v02.Event;
import dev.berth.containerd.v02.EventsRequest;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.StreamingRpc;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.concurrent.TimeUnit;

/**
 * Events streams what happens to this API's containers from the call on, until the client cancels:
 * {@code start-container}, {@code start-process}, {@code exit} (with the pid and exit status), {@code oom},
 * {@code pause} and {@code resume}. This version of the API has no timestamp to resume from.
 */
public final class Events implements StreamingRpc<EventsRequest, Event> {
    private final ContainerdRuntime runtime;

    public Events(ContainerdRuntime runtime) {
        this.runtime = runtime;
    }

    @Override
    public io.grpc.MethodDescriptor<EventsRequest, Event> method() {
        return APIGrpc.getEventsMethod();
    }

    @Override
    public void call(EventsRequest request, ServerCallStreamObserver<Event> out, RpcContext ctx) {
        var queue = runtime.subscribe();
        try {
            while (!out.isCancelled()) {
                Event e = queue.poll(1, TimeUnit.SECONDS);
                if (e != null) {
                    out.onNext(e);
                }
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        } finally {
            runtime.unsubscribe(queue);
        }
    }
}
