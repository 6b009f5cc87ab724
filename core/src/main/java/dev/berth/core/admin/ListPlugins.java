package dev.berth.core.admin;

import dev.berth.admin.v1.AdminServiceGrpc;
import dev.berth.admin.v1.HandlerRef;
import dev.berth.admin.v1.ListPluginsRequest;
import dev.berth.admin.v1.ListPluginsResponse;
import dev.berth.admin.v1.Plugin;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.dispatch.Handler;
import io.grpc.MethodDescriptor;

/**
 * Every plugin archive the daemon knows (started, retiring, superseded, failed) with its SPI range and the
 * handler generations that use it, with their pod counts.
 */
public final class ListPlugins implements UnaryRpc<ListPluginsRequest, ListPluginsResponse> {
    private final AdminState state;

    public ListPlugins(AdminState state) {
        this.state = state;
    }

    @Override
    public MethodDescriptor<ListPluginsRequest, ListPluginsResponse> method() {
        return AdminServiceGrpc.getListPluginsMethod();
    }

    @Override
    public ListPluginsResponse call(ListPluginsRequest request, RpcContext ctx) {
        var registry = state.registry();
        var generations = registry.generations();
        var resp = ListPluginsResponse.newBuilder()
                .setPluginsDir(state.pluginsDir() == null ? "" : state.pluginsDir().toString());
        for (var p : state.plugins().plugins()) {
            var b = Plugin.newBuilder().setId(p.id()).setVersion(p.version()).setRequires(p.requires())
                    .setArchive(p.path() == null ? "" : p.path().getFileName().toString()).setState(p.state())
                    .setMessage(p.error()).addAllTypes(p.types());
            if (p.classLoader() != null) {
                for (Handler h : generations) {
                    if (registry.loaderOf(h) == p.classLoader()) {
                        b.addHandlers(HandlerRef.newBuilder().setName(h.name()).setGeneration(h.generation())
                                .setPods(registry.podCount(h)).setActive(registry.active().get(h.name()) == h));
                    }
                }
            }
            resp.addPlugins(b);
        }
        return resp.build();
    }
}
