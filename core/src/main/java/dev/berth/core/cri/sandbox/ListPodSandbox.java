package dev.berth.core.cri.sandbox;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.InlineRead;
import dev.berth.core.cri.Protos;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.WireItems;
import dev.berth.core.store.SandboxRecord;
import dev.berth.cri.v1.ListPodSandboxRequest;
import dev.berth.cri.v1.ListPodSandboxResponse;
import dev.berth.cri.v1.PodSandbox;
import dev.berth.cri.v1.PodSandboxFilter;
import dev.berth.cri.v1.PodSandboxMetadata;
import dev.berth.cri.v1.PodSandboxState;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import com.google.protobuf.ByteString;
import io.grpc.MethodDescriptor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * ListPodSandbox lists pods from core's records, filtered by id prefix, state and labels; each item is encoded once
 * per record and state ({@link WireItems}).
 */
public final class ListPodSandbox implements InlineRead<ListPodSandboxRequest, ListPodSandboxResponse> {
    private final CriRuntime cri;
    private final WireItems<SandboxRecord> items;

    public ListPodSandbox(CriRuntime cri) {
        this.cri = cri;
        this.items = new WireItems<>(cri.sandboxes(), SandboxRecord::id);
    }

    @Override
    public MethodDescriptor<ListPodSandboxRequest, ListPodSandboxResponse> method() {
        return RuntimeServiceGrpc.getListPodSandboxMethod();
    }

    @Override
    public ListPodSandboxResponse call(ListPodSandboxRequest req, RpcContext ctx) {
        var f = req.getFilter();
        List<ByteString> out = new ArrayList<>();
        candidates(f).stream()
                .filter(s -> s.state() != SandboxRecord.State.CREATING)
                .sorted(Comparator.comparing(SandboxRecord::createdAt))
                .forEach(s -> {
                    PodSandboxState state = state(s);
                    if (!f.getId().isEmpty() && !s.id().startsWith(f.getId())) {
                        return;
                    }
                    if (f.hasState() && f.getState().getState() != state) {
                        return;
                    }
                    if (!Protos.matches(f.getLabelSelectorMap(), s.labels())) {
                        return;
                    }
                    out.add(items.item(s.id(), s, state, () -> PodSandbox.newBuilder().setId(s.id())
                            .setMetadata(PodSandboxMetadata.newBuilder().setName(s.name()).setUid(s.uid())
                                    .setNamespace(s.namespace()).setAttempt(s.attempt()))
                            .setState(state).setCreatedAt(Protos.nanos(s.createdAt()))
                            .putAllLabels(s.labels()).putAllAnnotations(s.annotations())
                            .setRuntimeHandler(s.handler()).build()));
                });
        return ListPodSandboxResponse.newBuilder()
                .setUnknownFields(WireItems.repeated(ListPodSandboxResponse.ITEMS_FIELD_NUMBER, out)).build();
    }

    /** The pods the filter may match: by id prefix, else by the rarest label; the caller checks the filter. */
    private Collection<SandboxRecord> candidates(PodSandboxFilter f) {
        if (!f.getId().isEmpty()) {
            return cri.sandboxes().withPrefix(f.getId());
        }
        if (f.getLabelSelectorMap().isEmpty()) {
            return cri.sandboxes().all();
        }
        Set<String> narrowest = f.getLabelSelectorMap().entrySet().stream()
                .map(e -> cri.sandboxIdsLabelled(e.getKey(), e.getValue()))
                .min(Comparator.comparingInt(Set::size)).orElseThrow();
        List<SandboxRecord> out = new ArrayList<>(narrowest.size());
        for (String id : narrowest) {
            cri.sandboxes().get(id).ifPresent(out::add);
        }
        return out;
    }

    private PodSandboxState state(SandboxRecord s) {
        if (s.state() != SandboxRecord.State.READY || cri.dispatcher().forSandboxOrNull(s) == null) {
            return PodSandboxState.SANDBOX_NOTREADY;
        }
        return PodSandboxState.SANDBOX_READY;
    }
}
