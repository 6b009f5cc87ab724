package dev.berth.core.cri.runtime;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.Protos;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.StreamingRpc;
import dev.berth.cri.v1.ContainerEventResponse;
import dev.berth.cri.v1.ContainerEventType;
import dev.berth.cri.v1.GetEventsRequest;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.spi.BackendEvent;
import io.grpc.MethodDescriptor;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.concurrent.TimeUnit;

/**
 * GetContainerEvents streams container lifecycle events until the client cancels. Each subscriber has a
 * bounded queue, so a slow client loses events instead of growing berth's memory.
 */
public final class GetContainerEvents implements StreamingRpc<GetEventsRequest, ContainerEventResponse> {
    private final CriRuntime cri;

    public GetContainerEvents(CriRuntime cri) {
        this.cri = cri;
    }

    @Override
    public MethodDescriptor<GetEventsRequest, ContainerEventResponse> method() {
        return RuntimeServiceGrpc.getGetContainerEventsMethod();
    }

    @Override
    public void call(GetEventsRequest request, ServerCallStreamObserver<ContainerEventResponse> out,
                     RpcContext ctx) {
        var queue = cri.events().subscribe();
        try {
            while (!out.isCancelled()) {
                BackendEvent e = queue.poll(1, TimeUnit.SECONDS);
                if (e == null) {
                    continue;
                }
                out.onNext(ContainerEventResponse.newBuilder()
                        .setContainerId(e.containerId())
                        .setContainerEventType(switch (e.type()) {
                            case CREATED -> ContainerEventType.CONTAINER_CREATED_EVENT;
                            case STARTED -> ContainerEventType.CONTAINER_STARTED_EVENT;
                            case STOPPED -> ContainerEventType.CONTAINER_STOPPED_EVENT;
                            case DELETED -> ContainerEventType.CONTAINER_DELETED_EVENT;
                        })
                        .setCreatedAt(Protos.nanos(e.at()))
                        .setPodSandboxStatus(dev.berth.cri.v1.PodSandboxStatus.newBuilder().setId(e.sandboxId()))
                        .build());
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        } finally {
            cri.events().unsubscribe(queue);
        }
    }
}
