package dev.berth.core.admin;

import dev.berth.admin.v1.AdminServiceGrpc;
import dev.berth.admin.v1.HealthCheck;
import dev.berth.admin.v1.ListHandlersRequest;
import dev.berth.admin.v1.ListHandlersResponse;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.dispatch.Handler;
import io.grpc.MethodDescriptor;

/** Every open handler generation with its pods, drain state and, for the active ones, the cached health. */
public final class ListHandlers implements UnaryRpc<ListHandlersRequest, ListHandlersResponse> {
    private final AdminState state;

    public ListHandlers(AdminState state) {
        this.state = state;
    }

    @Override
    public MethodDescriptor<ListHandlersRequest, ListHandlersResponse> method() {
        return AdminServiceGrpc.getListHandlersMethod();
    }

    @Override
    public ListHandlersResponse call(ListHandlersRequest request, RpcContext ctx) {
        var registry = state.registry();
        var resp = ListHandlersResponse.newBuilder().setDefaultHandler(registry.defaultName());
        for (Handler h : registry.generations()) {
            boolean active = registry.active().get(h.name()) == h;
            var b = dev.berth.admin.v1.Handler.newBuilder().setName(h.name()).setGeneration(h.generation())
                    .setType(h.type()).setPluginId(h.pluginId()).setPluginVersion(h.pluginVersion())
                    .setActive(active).setDrained(registry.drains().isDrained(h.name()))
                    .setPods(registry.podCount(h));
            if (active) {
                var r = state.health().health(h);
                b.setReady(r.health().ready()).setCheckedUnixMillis(r.checkedAt().toEpochMilli());
                for (var c : r.health().checks()) {
                    b.addChecks(HealthCheck.newBuilder().setOk(c.ok()).setWhat(c.what()).setAdvice(c.advice()));
                }
            }
            resp.addHandlers(b);
        }
        return resp.build();
    }
}
