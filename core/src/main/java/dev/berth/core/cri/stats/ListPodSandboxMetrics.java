package dev.berth.core.cri.stats;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.cri.container.ContainerEnvironment;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.store.ContainerRecord;
import dev.berth.core.store.SandboxRecord;
import dev.berth.cri.v1.ListPodSandboxMetricsRequest;
import dev.berth.cri.v1.ListPodSandboxMetricsResponse;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.spi.BackendException;
import dev.berth.spi.PodMetricsSource;
import io.grpc.MethodDescriptor;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * ListPodSandboxMetrics answers cAdvisor's {@code container_*} metrics ({@link CadvisorMetrics}) for every ready
 * pod whose backend reads pod metrics ({@link PodMetricsSource}): CPU, memory and processes of each running
 * container, the pod's network interfaces, and each container's writable layer, which core meters. Pods whose
 * backend lacks the capability or cannot read them now (stopping, unreachable) are left out, as in
 * ListPodSandboxStats. UNIMPLEMENTED when no handler's backend can read pod metrics.
 */
public final class ListPodSandboxMetrics
        implements UnaryRpc<ListPodSandboxMetricsRequest, ListPodSandboxMetricsResponse> {
    private final CriRuntime cri;
    private final ContainerEnvironment environment;

    public ListPodSandboxMetrics(CriRuntime cri, ContainerEnvironment environment) {
        this.cri = cri;
        this.environment = environment;
    }

    @Override
    public MethodDescriptor<ListPodSandboxMetricsRequest, ListPodSandboxMetricsResponse> method() {
        return RuntimeServiceGrpc.getListPodSandboxMetricsMethod();
    }

    @Override
    public ListPodSandboxMetricsResponse call(ListPodSandboxMetricsRequest req, RpcContext ctx) {
        requireSomeHandler(cri);
        Map<String, Map<String, ContainerRecord>> byPod = new HashMap<>();
        for (ContainerRecord c : cri.containers().all()) {
            byPod.computeIfAbsent(c.sandboxId(), k -> new HashMap<>()).put(c.id(), c);
        }
        var resp = ListPodSandboxMetricsResponse.newBuilder();
        for (SandboxRecord s : cri.sandboxes().all()) {
            if (s.state() != SandboxRecord.State.READY) {
                continue;
            }
            try {
                Handler h = cri.dispatcher().forSandbox(s);
                if (h.backend() instanceof PodMetricsSource source) {
                    resp.addPodMetrics(CadvisorMetrics.pod(s, source.podMetrics(s.id()),
                            byPod.getOrDefault(s.id(), Map.of()), environment::writableLayer));
                }
            } catch (BackendException e) {
                // Not readable now (stopping, unreachable, handler gone): leave it out.
            }
        }
        return resp.build();
    }

    /** UNIMPLEMENTED naming the handlers, unless some handler's backend reads pod metrics. */
    static void requireSomeHandler(CriRuntime cri) {
        var active = cri.dispatcher().registry().active();
        if (active.values().stream().noneMatch(h -> h.has(PodMetricsSource.class))) {
            throw BackendException.unimplemented("no runtime handler supports pod sandbox metrics ("
                    + active.values().stream().map(h -> "\"" + h.name() + "\" of type " + h.type())
                            .collect(Collectors.joining(", ")) + ")");
        }
    }
}
