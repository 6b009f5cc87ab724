package dev.berth.core.cri;

import io.grpc.MethodDescriptor;

/**
 * One unary CRI RPC. Implementations are named after the RPC, hold no gRPC plumbing, and throw
 * {@link dev.berth.spi.BackendException} for the client's errors ({@link Validation} for the common checks);
 * {@link CriServer} maps them to statuses and logs one line per call. Any other exception answers INTERNAL.
 */
public interface UnaryRpc<Q, R> {
    MethodDescriptor<Q, R> method();

    R call(Q request, RpcContext ctx);
}
