package dev.berth.core.admin;

import dev.berth.admin.v1.AdminServiceGrpc;
import dev.berth.admin.v1.DrainHandlerRequest;
import dev.berth.admin.v1.DrainHandlerResponse;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import io.grpc.MethodDescriptor;

/**
 * Drains a configured handler: from now on RunPodSandbox on it is refused with UNAVAILABLE, while its existing
 * pods keep working. Persisted, so it survives a restart. NOT_FOUND for a handler that is not configured.
 */
public final class DrainHandler implements UnaryRpc<DrainHandlerRequest, DrainHandlerResponse> {
    private static final System.Logger LOG = System.getLogger(DrainHandler.class.getName());

    private final AdminState state;

    public DrainHandler(AdminState state) {
        this.state = state;
    }

    @Override
    public MethodDescriptor<DrainHandlerRequest, DrainHandlerResponse> method() {
        return AdminServiceGrpc.getDrainHandlerMethod();
    }

    @Override
    public DrainHandlerResponse call(DrainHandlerRequest request, RpcContext ctx) {
        String name = UndrainHandler.configured(state, request.getName());
        boolean changed = state.registry().drains().set(name, true);
        if (changed) {
            LOG.log(System.Logger.Level.INFO, "handler \"{0}\" drained: new pods on it are refused", name);
        }
        return DrainHandlerResponse.newBuilder().setChanged(changed).build();
    }
}
