package dev.berth.core.cri.streaming;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.ExecPreconditions;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.store.ContainerRecord;
import dev.berth.core.streaming.StreamingServer;
import dev.berth.cri.v1.ExecRequest;
import dev.berth.cri.v1.ExecResponse;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.spi.StreamingIo;
import io.grpc.MethodDescriptor;

/** Exec returns a single-use streaming URL for an interactive exec in a running container. */
public final class Exec implements UnaryRpc<ExecRequest, ExecResponse> {
    private final CriRuntime cri;
    private final StreamingServer server;

    public Exec(CriRuntime cri, StreamingServer server) {
        this.cri = cri;
        this.server = server;
    }

    @Override
    public MethodDescriptor<ExecRequest, ExecResponse> method() {
        return RuntimeServiceGrpc.getExecMethod();
    }

    @Override
    public ExecResponse call(ExecRequest req, RpcContext ctx) {
        ContainerRecord c = cri.container(req.getContainerId());
        ctx.container(c.id()).pod(c.sandboxId());
        ExecPreconditions.requireCommand(req.getCmdList());
        Handler h = cri.handlerOf(c);
        ctx.handler(h);
        h.require(StreamingIo.class, "exec");
        ExecPreconditions.requireRunning(cri, c, h, "exec in");
        return ExecResponse.newBuilder().setUrl(server.execUrl(c.id(), req.getCmdList(), req.getTty(),
                req.getStdin(), req.getStdout(), req.getStderr()).toString()).build();
    }
}
