package dev.berth.core.cri.container;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.InlineRead;
import dev.berth.core.cri.KeptAnswer;
import dev.berth.core.cri.Protos;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.WireItems;
import dev.berth.core.store.ContainerRecord;
import dev.berth.cri.v1.Container;
import dev.berth.cri.v1.ContainerMetadata;
import dev.berth.cri.v1.ContainerFilter;
import dev.berth.cri.v1.ContainerState;
import dev.berth.cri.v1.ImageSpec;
import dev.berth.cri.v1.ListContainersRequest;
import dev.berth.cri.v1.ListContainersResponse;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import com.google.protobuf.ByteString;
import io.grpc.MethodDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * ListContainers lists containers, filtered by id prefix, pod id prefix, state and labels, from core's records
 * and the states its backends' events keep current: no backend is asked per container unless its state may have
 * changed (or its backend reports no exits). Each item is encoded once per record and state ({@link WireItems}), and
 * the unfiltered list is answered again as it was while no record and no kept state changed ({@link KeptAnswer}).
 */
public final class ListContainers implements InlineRead<ListContainersRequest, ListContainersResponse> {
    private final CriRuntime cri;
    private final WireItems<ContainerRecord> items;
    /** The unfiltered list (the kubelet's relist), kept while no record and no kept state changes. */
    private final KeptAnswer<ListContainersResponse> unfiltered;

    public ListContainers(CriRuntime cri) {
        this.cri = cri;
        this.items = new WireItems<>(cri.containers(), ContainerRecord::id);
        this.unfiltered = new KeptAnswer<>(() -> cri.containers().version() + cri.containerStates().changes());
    }

    @Override
    public MethodDescriptor<ListContainersRequest, ListContainersResponse> method() {
        return RuntimeServiceGrpc.getListContainersMethod();
    }

    @Override
    public ListContainersResponse call(ListContainersRequest req, RpcContext ctx) {
        var f = req.getFilter();
        if (f.equals(ContainerFilter.getDefaultInstance())) {
            return unfiltered.get(() -> list(f));
        }
        return list(f).answer();
    }

    /** The list; keepable when every state in it is one kept from the backends' events. */
    private KeptAnswer.Built<ListContainersResponse> list(ContainerFilter f) {
        List<ByteString> out = new ArrayList<>();
        boolean[] allKept = {true};
        candidates(f).stream().sorted(Comparator.comparing(ContainerRecord::createdAt)).forEach(c -> {
            if (!f.getId().isEmpty() && !c.id().startsWith(f.getId())) {
                return;
            }
            if (!f.getPodSandboxId().isEmpty() && !c.sandboxId().startsWith(f.getPodSandboxId())) {
                return;
            }
            if (!Protos.matches(f.getLabelSelectorMap(), c.labels())) {
                return;
            }
            dev.berth.spi.ContainerStatus kept = cri.containerStates().kept(c.id());
            if (kept == null) {
                allKept[0] = false;
            }
            ContainerState state = ContainerStates.toCri((kept != null ? kept : ContainerStates.live(cri, c)).state());
            if (f.hasState() && f.getState().getState() != state) {
                return;
            }
            out.add(items.item(c.id(), c, state, () -> Container.newBuilder().setId(c.id())
                    .setPodSandboxId(c.sandboxId())
                    .setMetadata(ContainerMetadata.newBuilder().setName(c.name()).setAttempt(c.attempt()))
                    .setImage(ImageSpec.newBuilder().setImage(c.image()))
                    .setImageRef(c.imageId()).setImageId(c.imageId())
                    .setState(state).setCreatedAt(Protos.nanos(c.createdAt()))
                    .putAllLabels(c.labels()).putAllAnnotations(c.annotations()).build()));
        });
        // The items in wire form, each encoded once per record and state (WireItems).
        return new KeptAnswer.Built<>(ListContainersResponse.newBuilder()
                .setUnknownFields(WireItems.repeated(ListContainersResponse.CONTAINERS_FIELD_NUMBER, out)).build(),
                allKept[0]);
    }

    /**
     * The containers the filter may match, from the narrowest index it allows (id prefix, pod, a label, the
     * state); the caller checks each against the whole filter.
     */
    private Collection<ContainerRecord> candidates(ContainerFilter f) {
        if (!f.getId().isEmpty()) {
            return cri.containers().withPrefix(f.getId());
        }
        List<Set<String>> sets = new ArrayList<>();
        if (!f.getPodSandboxId().isEmpty()) {
            Set<String> ids = new HashSet<>(cri.containerIdsOf(f.getPodSandboxId()));
            if (ids.isEmpty()) { // a pod id prefix
                cri.sandboxes().withPrefix(f.getPodSandboxId()).forEach(s -> ids.addAll(cri.containerIdsOf(s.id())));
            }
            sets.add(ids);
        }
        f.getLabelSelectorMap().forEach((k, v) -> sets.add(cri.containerIdsLabelled(k, v)));
        if (f.hasState()) {
            sets.add(cri.containerStates().candidates(ContainerStates.fromCri(f.getState().getState())));
        }
        if (sets.isEmpty()) {
            return cri.containers().all();
        }
        Set<String> narrowest = sets.stream().min(Comparator.comparingInt(Set::size)).orElseThrow();
        List<ContainerRecord> out = new ArrayList<>(narrowest.size());
        for (String id : narrowest) {
            cri.containers().get(id).ifPresent(out::add);
        }
        return out;
    }
}
