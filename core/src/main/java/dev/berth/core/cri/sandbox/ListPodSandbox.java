package dev.berth.core.cri.sandbox;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.InlineRead;
import dev.berth.core.cri.KeptAnswer;
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
 * ListPodSandbox lists pods from core's records and, for a backend that reports the end of a sandbox's process, from
 * the ends it reported ({@link dev.berth.core.cri.SandboxStateCache#notReady}), filtered by id prefix, state and
 * labels; each item is encoded once
 * per record and state ({@link WireItems}), and the unfiltered list is answered again as it was while no record and no
 * binding of a pod to its handler changed ({@link KeptAnswer}).
 */
public final class ListPodSandbox implements InlineRead<ListPodSandboxRequest, ListPodSandboxResponse> {
    private final CriRuntime cri;
    private final WireItems<SandboxRecord> items;
    /** The unfiltered list (the kubelet's relist), kept while no record and no binding changes. */
    private final KeptAnswer<ListPodSandboxResponse> unfiltered;

    public ListPodSandbox(CriRuntime cri) {
        this.cri = cri;
        this.items = new WireItems<>(cri.sandboxes(), SandboxRecord::id);
        this.unfiltered = new KeptAnswer<>(
                () -> cri.sandboxes().version() + cri.dispatcher().changes() + cri.sandboxStates().changes());
    }

    @Override
    public MethodDescriptor<ListPodSandboxRequest, ListPodSandboxResponse> method() {
        return RuntimeServiceGrpc.getListPodSandboxMethod();
    }

    @Override
    public ListPodSandboxResponse call(ListPodSandboxRequest req, RpcContext ctx) {
        var f = req.getFilter();
        if (f.equals(PodSandboxFilter.getDefaultInstance())) {
            return unfiltered.get(() -> list(f));
        }
        return list(f).answer();
    }

    /** The list; keepable when every pod in it is bound to a handler (a pod without one is looked up each time). */
    private KeptAnswer.Built<ListPodSandboxResponse> list(PodSandboxFilter f) {
        List<ByteString> out = new ArrayList<>();
        boolean[] allBound = {true};
        candidates(f).stream()
                .filter(s -> s.state() != SandboxRecord.State.CREATING)
                .sorted(Comparator.comparing(SandboxRecord::createdAt))
                .forEach(s -> {
                    if (!f.getId().isEmpty() && !s.id().startsWith(f.getId())) {
                        return;
                    }
                    if (!Protos.matches(f.getLabelSelectorMap(), s.labels())) {
                        return;
                    }
                    boolean bound = cri.dispatcher().forSandboxOrNull(s) != null;
                    allBound[0] &= bound;
                    // Ready while its record is, unless its backend reported that its process ended.
                    PodSandboxState state = s.state() == SandboxRecord.State.READY && bound
                            && !cri.sandboxStates().notReady(s.id())
                            ? PodSandboxState.SANDBOX_READY : PodSandboxState.SANDBOX_NOTREADY;
                    if (f.hasState() && f.getState().getState() != state) {
                        return;
                    }
                    out.add(items.item(s.id(), s, state, () -> PodSandbox.newBuilder().setId(s.id())
                            .setMetadata(PodSandboxMetadata.newBuilder().setName(s.name()).setUid(s.uid())
                                    .setNamespace(s.namespace()).setAttempt(s.attempt()))
                            .setState(state).setCreatedAt(Protos.nanos(s.createdAt()))
                            .putAllLabels(s.labels()).putAllAnnotations(s.annotations())
                            .setRuntimeHandler(s.handler()).build()));
                });
        return new KeptAnswer.Built<>(ListPodSandboxResponse.newBuilder()
                .setUnknownFields(WireItems.repeated(ListPodSandboxResponse.ITEMS_FIELD_NUMBER, out)).build(),
                allBound[0]);
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
}
