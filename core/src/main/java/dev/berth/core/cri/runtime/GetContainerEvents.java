package dev.berth.core.cri.runtime;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.Protos;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.StreamingRpc;
import dev.berth.core.cri.container.ContainerStatus;
import dev.berth.core.cri.sandbox.PodSandboxStatus;
import dev.berth.cri.v1.ContainerEventResponse;
import dev.berth.cri.v1.ContainerEventType;
import dev.berth.cri.v1.ContainerStatusRequest;
import dev.berth.cri.v1.GetEventsRequest;
import dev.berth.cri.v1.PodSandboxState;
import dev.berth.cri.v1.PodSandboxStatusRequest;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.spi.BackendEvent;
import dev.berth.spi.BackendException;
import io.grpc.MethodDescriptor;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.concurrent.TimeUnit;

/**
 * GetContainerEvents streams the lifecycle of containers and pods until the client cancels: a container's created,
 * started, stopped and deleted, and a pod's created and started (once READY), stopped and deleted, the pod's with
 * its own id as the container id. Each event carries what the kubelet's evented PLEG puts in its pod cache from it:
 * the pod's status, as PodSandboxStatus answers it, and the statuses of the pod's containers, as ContainerStatus
 * does (a deleted pod's from its last record, NOTREADY, with no containers). Each subscriber has a bounded queue,
 * so a slow client loses events instead of growing berth's memory.
 */
public final class GetContainerEvents implements StreamingRpc<GetEventsRequest, ContainerEventResponse> {
    private final CriRuntime cri;
    private final PodSandboxStatus podStatus;
    private final ContainerStatus containerStatus;

    public GetContainerEvents(CriRuntime cri) {
        this.cri = cri;
        this.podStatus = new PodSandboxStatus(cri);
        this.containerStatus = new ContainerStatus(cri);
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
                if (e != null) {
                    out.onNext(response(e));
                }
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        } finally {
            cri.events().unsubscribe(queue);
        }
    }

    ContainerEventResponse response(BackendEvent e) {
        var b = ContainerEventResponse.newBuilder()
                .setContainerId(e.containerId())
                .setContainerEventType(switch (e.type()) {
                    case CREATED -> ContainerEventType.CONTAINER_CREATED_EVENT;
                    case STARTED -> ContainerEventType.CONTAINER_STARTED_EVENT;
                    case STOPPED -> ContainerEventType.CONTAINER_STOPPED_EVENT;
                    case DELETED -> ContainerEventType.CONTAINER_DELETED_EVENT;
                })
                .setCreatedAt(Protos.nanos(e.at()));
        if (e.sandboxId().isEmpty()) {
            return b.build();
        }
        try {
            b.setPodSandboxStatus(podStatus.call(PodSandboxStatusRequest.newBuilder()
                    .setPodSandboxId(e.sandboxId()).build(), new RpcContext()).getStatus());
        } catch (BackendException gone) {
            b.setPodSandboxStatus(cri.removedSandbox(e.sandboxId())
                    .map(r -> PodSandboxStatus.of(r, PodSandboxState.SANDBOX_NOTREADY).build())
                    .orElseGet(() -> dev.berth.cri.v1.PodSandboxStatus.newBuilder().setId(e.sandboxId()).build()));
            return b.build();
        }
        for (String id : cri.containerIdsOf(e.sandboxId()).stream().sorted().toList()) {
            try {
                b.addContainersStatuses(containerStatus.call(ContainerStatusRequest.newBuilder().setContainerId(id)
                        .build(), new RpcContext()).getStatus());
            } catch (BackendException gone) {
                // removed since the pod's containers were listed
            }
        }
        return b.build();
    }
}
