package dev.berth.core.cri.container;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.Protos;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.store.ContainerRecord;
import dev.berth.cri.v1.Container;
import dev.berth.cri.v1.ContainerMetadata;
import dev.berth.cri.v1.ContainerState;
import dev.berth.cri.v1.ImageSpec;
import dev.berth.cri.v1.ListContainersRequest;
import dev.berth.cri.v1.ListContainersResponse;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import io.grpc.MethodDescriptor;
import java.util.Comparator;

/** ListContainers lists containers, filtered by id prefix, pod id prefix, state and labels. */
public final class ListContainers implements UnaryRpc<ListContainersRequest, ListContainersResponse> {
    private final CriRuntime cri;

    public ListContainers(CriRuntime cri) {
        this.cri = cri;
    }

    @Override
    public MethodDescriptor<ListContainersRequest, ListContainersResponse> method() {
        return RuntimeServiceGrpc.getListContainersMethod();
    }

    @Override
    public ListContainersResponse call(ListContainersRequest req, RpcContext ctx) {
        var f = req.getFilter();
        var resp = ListContainersResponse.newBuilder();
        cri.containers().all().stream().sorted(Comparator.comparing(ContainerRecord::createdAt)).forEach(c -> {
            if (!f.getId().isEmpty() && !c.id().startsWith(f.getId())) {
                return;
            }
            if (!f.getPodSandboxId().isEmpty() && !c.sandboxId().startsWith(f.getPodSandboxId())) {
                return;
            }
            if (!Protos.matches(f.getLabelSelectorMap(), c.labels())) {
                return;
            }
            ContainerState state = ContainerStates.toCri(ContainerStates.live(cri, c).state());
            if (f.hasState() && f.getState().getState() != state) {
                return;
            }
            resp.addContainers(Container.newBuilder().setId(c.id()).setPodSandboxId(c.sandboxId())
                    .setMetadata(ContainerMetadata.newBuilder().setName(c.name()).setAttempt(c.attempt()))
                    .setImage(ImageSpec.newBuilder().setImage(c.image()))
                    .setImageRef(c.imageId()).setImageId(c.imageId())
                    .setState(state).setCreatedAt(Protos.nanos(c.createdAt()))
                    .putAllLabels(c.labels()).putAllAnnotations(c.annotations()));
        });
        return resp.build();
    }
}
