package dev.berth.core.cri.streaming;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.ExecPreconditions;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.store.ContainerRecord;
import dev.berth.core.streaming.StreamingServer;
import dev.berth.cri.v1.AttachRequest;
import dev.berth.cri.v1.AttachResponse;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.spi.StreamingIo;
import io.grpc.MethodDescriptor;

/** Attach returns a single-use streaming URL that attaches to a container's main process. */
public final class Attach implements UnaryRpc<AttachRequest, AttachResponse> {
    private final CriRuntime cri;
    private final StreamingServer server;

    public Attach(CriRuntime cri, StreamingServer server) {
        this.cri = cri;
        this.server = server;
    }

    @Override
    public MethodDescriptor<AttachRequest, AttachResponse> method() {
        return RuntimeServiceGrpc.getAttachMethod();
    }

    @Override
    public AttachResponse call(AttachRequest req, RpcContext ctx) {
        ContainerRecord c = cri.container(req.getContainerId());
        ctx.container(c.id()).pod(c.sandboxId());
        Handler h = cri.handlerOf(c);
        ctx.handler(h);
        h.require(StreamingIo.class, "attach");
        ExecPreconditions.requireRunning(cri, c, h, "attach to");
        return AttachResponse.newBuilder().setUrl(server.attachUrl(c.id(), req.getTty(), req.getStdin(),
                req.getStdout(), req.getStderr()).toString()).build();
    }
}
