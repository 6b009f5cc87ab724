package dev.berth.core.cri;

import io.grpc.ServerCallExecutorSupplier;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;

/**
 * Which calls a server runs on its transport thread: those of the {@link InlineRead} RPCs, by full method name (every
 * API version they are bound in). A server set up with {@link #callExecutor} runs every other call on the executor it
 * was given, and an inline read that would block is handed to that executor too ({@link #offload}).
 *
 * <p>A kubelet's relist is two small reads every second; on a busy node each hand-off to another thread and back
 * waits for a core, and those waits were most of a list's time. Here a read from memory costs the transport
 * thread what encoding its answer costs.
 */
public final class InlineReads {
    private final Set<String> methods = ConcurrentHashMap.newKeySet();
    private volatile Executor offload;

    /** Called as each inline read is bound (also for the contracts bound on their first call). */
    void add(String fullMethodName) {
        methods.add(fullMethodName);
    }

    /** Whether calls to {@code fullMethodName} run on the transport thread once {@link #callExecutor} is set up. */
    public boolean inline(String fullMethodName) {
        return methods.contains(fullMethodName);
    }

    /**
     * Sets the server up: a server whose default executor is direct (the transport thread) gets this as its call
     * executor, which sends every call but the inline reads to {@code executor}.
     */
    public ServerCallExecutorSupplier callExecutor(Executor executor) {
        this.offload = executor;
        return new ServerCallExecutorSupplier() {
            @Override
            public <Q, R> Executor getExecutor(io.grpc.ServerCall<Q, R> call, io.grpc.Metadata headers) {
                return inline(call.getMethodDescriptor().getFullMethodName()) ? null : executor;
            }
        };
    }

    /** Where an inline read that would block runs instead; null while the server is not set up for inline reads. */
    Executor offload() {
        return offload;
    }
}
