package dev.berth.core.cri.streaming;

import dev.berth.core.cri.CriRuntime;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.store.SandboxRecord;
import dev.berth.core.streaming.StreamingServer;
import dev.berth.cri.v1.PortForwardRequest;
import dev.berth.cri.v1.PortForwardResponse;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.spi.PortForwarding;
import io.grpc.MethodDescriptor;

/** PortForward returns a single-use streaming URL that forwards to ports inside the pod's network namespace. */
public final class PortForward implements UnaryRpc<PortForwardRequest, PortForwardResponse> {
    private final CriRuntime cri;
    private final StreamingServer server;

    public PortForward(CriRuntime cri, StreamingServer server) {
        this.cri = cri;
        this.server = server;
    }

    @Override
    public MethodDescriptor<PortForwardRequest, PortForwardResponse> method() {
        return RuntimeServiceGrpc.getPortForwardMethod();
    }

    @Override
    public PortForwardResponse call(PortForwardRequest req, RpcContext ctx) {
        SandboxRecord s = cri.sandbox(req.getPodSandboxId());
        ctx.pod(s.id());
        Handler h = cri.dispatcher().forSandbox(s);
        ctx.handler(h);
        h.require(PortForwarding.class, "port forwarding");
        cri.onSandbox(s, h, "port-forward to", () -> h.backend().sandboxStatus(s.id()));
        return PortForwardResponse.newBuilder().setUrl(server.portForwardUrl(s.id(), req.getPortList()).toString())
                .build();
    }
}
