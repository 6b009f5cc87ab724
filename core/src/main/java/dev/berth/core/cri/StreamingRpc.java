package dev.berth.core.cri;

import io.grpc.MethodDescriptor;
import io.grpc.stub.ServerCallStreamObserver;

/** One server-streaming CRI RPC, such as {@code GetContainerEvents}. */
public interface StreamingRpc<Q, R> {
    MethodDescriptor<Q, R> method();

    /** Streams responses until the client cancels; returns when done. Runs on its own virtual thread. */
    void call(Q request, ServerCallStreamObserver<R> out, RpcContext ctx);
}
