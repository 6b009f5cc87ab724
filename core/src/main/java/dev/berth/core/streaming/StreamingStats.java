package dev.berth.core.streaming;

import java.util.concurrent.atomic.AtomicLong;

/** Counters of the streaming server, for metrics and tests. */
public final class StreamingStats {

    private final AtomicLong peakInFlight = new AtomicLong();
    private final AtomicLong writerBlocks = new AtomicLong();
    private final AtomicLong peakInbound = new AtomicLong();
    private final AtomicLong readPauses = new AtomicLong();
    private final AtomicLong sessionsStarted = new AtomicLong();
    private final AtomicLong sessionsEnded = new AtomicLong();
    private final AtomicLong idleClosed = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private final java.util.concurrent.atomic.LongAdder bytesIn = new java.util.concurrent.atomic.LongAdder();
    private final java.util.concurrent.atomic.LongAdder bytesOut = new java.util.concurrent.atomic.LongAdder();

    /** Bytes a client sent into a stream (stdin, port-forward data). */
    void received(int bytes) {
        bytesIn.add(bytes);
    }

    /** Bytes written to a client (stdout, stderr, port-forward data). */
    void sent(int bytes) {
        bytesOut.add(bytes);
    }

    public long bytesReceived() {
        return bytesIn.sum();
    }

    public long bytesSent() {
        return bytesOut.sum();
    }

    void observeInFlight(long bytes) {
        peakInFlight.accumulateAndGet(bytes, Math::max);
    }

    void observeInbound(long bytes) {
        peakInbound.accumulateAndGet(bytes, Math::max);
    }

    void readPaused() {
        readPauses.incrementAndGet();
    }

    /** The most client bytes any one stream held while its backend had not read them yet. */
    public long peakInboundBytes() {
        return peakInbound.get();
    }

    /** How often a connection stopped reading because a backend was slow to take its input. */
    public long readPauses() {
        return readPauses.get();
    }

    void writerBlocked() {
        writerBlocks.incrementAndGet();
    }

    void sessionStarted() {
        sessionsStarted.incrementAndGet();
    }

    void sessionEnded() {
        sessionsEnded.incrementAndGet();
    }

    void countIdleClose() {
        idleClosed.incrementAndGet();
    }

    void countRejected() {
        rejected.incrementAndGet();
    }

    /** The most bytes any one connection had handed to Netty and not yet written to its socket. */
    public long peakBufferedBytes() {
        return peakInFlight.get();
    }

    /** How often a backend write waited for a slow client. */
    public long writerBlocks() {
        return writerBlocks.get();
    }

    public long sessionsStarted() {
        return sessionsStarted.get();
    }

    public long sessionsEnded() {
        return sessionsEnded.get();
    }

    /** Sessions closed by the idle timeout. */
    public long idleClosed() {
        return idleClosed.get();
    }

    /** Requests answered 404 or 400. */
    public long rejected() {
        return rejected.get();
    }
}
