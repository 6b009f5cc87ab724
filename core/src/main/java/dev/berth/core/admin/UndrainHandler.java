package dev.berth.core.admin;

import dev.berth.admin.v1.AdminServiceGrpc;
import dev.berth.admin.v1.UndrainHandlerRequest;
import dev.berth.admin.v1.UndrainHandlerResponse;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.spi.BackendException;
import io.grpc.MethodDescriptor;

/** Lifts a handler's drain: it takes new pods again. A name that is drained but no longer configured is allowed. */
public final class UndrainHandler implements UnaryRpc<UndrainHandlerRequest, UndrainHandlerResponse> {
    private static final System.Logger LOG = System.getLogger(UndrainHandler.class.getName());

    private final AdminState state;

    public UndrainHandler(AdminState state) {
        this.state = state;
    }

    @Override
    public MethodDescriptor<UndrainHandlerRequest, UndrainHandlerResponse> method() {
        return AdminServiceGrpc.getUndrainHandlerMethod();
    }

    @Override
    public UndrainHandlerResponse call(UndrainHandlerRequest request, RpcContext ctx) {
        String name = request.getName();
        if (!state.registry().drains().isDrained(name)) {
            configured(state, name);
        }
        boolean changed = state.registry().drains().set(name, false);
        if (changed) {
            LOG.log(System.Logger.Level.INFO, "handler \"{0}\" undrained: it takes new pods again", name);
        }
        return UndrainHandlerResponse.newBuilder().setChanged(changed).build();
    }

    /** {@code name} if it is a configured handler, else NOT_FOUND listing the configured ones. */
    static String configured(AdminState state, String name) {
        if (name.isEmpty()) {
            throw BackendException.invalid("a handler name is required");
        }
        if (!state.registry().active().containsKey(name)) {
            throw new BackendException(BackendException.Kind.NOT_FOUND, "no runtime handler \"" + name
                    + "\" is configured; configured handlers: " + String.join(", ", state.registry().active()
                    .keySet()));
        }
        return name;
    }
}
