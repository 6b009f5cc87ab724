package dev.berth.core.cri;

/**
 * A read that usually answers from memory alone (the kubelet's polling: lists, Status, Version). When the server
 * is set up for it ({@link InlineReads}), such a call runs on the gRPC transport's own thread, with no hand-off to
 * another thread and back, within {@link dev.berth.core.util.NonBlocking#call}: where it would have to wait (ask a
 * backend, run a check) the code it calls throws {@link dev.berth.core.util.NonBlocking.WouldBlock}, and the call
 * runs again, from the start, on the server's executor. An implementation must therefore change nothing before
 * that point, and must reach every wait through code that calls
 * {@link dev.berth.core.util.NonBlocking#beforeBlocking} first.
 */
public interface InlineRead<Q, R> extends UnaryRpc<Q, R> {
}
