package dev.berth.core.metrics;

import dev.berth.core.streaming.StreamingStats;

/** The streaming server's sessions and bytes, read from its counters at scrape time. */
public final class StreamingGauges {
    private StreamingGauges() {}

    public static void register(Metrics metrics, StreamingStats stats) {
        metrics.gauge("berth_streaming_sessions_open", "Exec, attach and port-forward sessions open now.",
                cb -> cb.call(Math.max(0, stats.sessionsStarted() - stats.sessionsEnded())));
        metrics.counter("berth_streaming_sessions_total", "Exec, attach and port-forward sessions started.",
                cb -> cb.call(stats.sessionsStarted()));
        metrics.counter("berth_streaming_bytes_total", "Bytes through streaming sessions: in from clients (stdin, "
                + "port-forward), out to clients (stdout, stderr, port-forward).", cb -> {
                    cb.call(stats.bytesReceived(), "in");
                    cb.call(stats.bytesSent(), "out");
                }, "direction");
    }
}
