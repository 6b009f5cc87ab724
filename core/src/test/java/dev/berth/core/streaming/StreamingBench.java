package dev.berth.core.streaming;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.codec.spdy.DefaultSpdyDataFrame;

import java.net.URI;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A plain benchmark of the streaming server against the scripted backend (no container): exec round-trip latency
 * (URL issued → upgrade → streams → exit status) over SPDY and WebSocket, and port-forward throughput of a
 * 100 MB transfer through SPDY to a local echo server. Run it with {@code bench/streaming/run.sh}.
 * Arguments: {@code [execRounds] [forwardMegabytes]}.
 */
public final class StreamingBench {

    private StreamingBench() {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 300;
        int megabytes = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        FakeTargets backend = new FakeTargets();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try (StreamingServer server = new StreamingServer(StreamingSettings.defaults(), backend);
             EchoServer echo = new EchoServer()) {
            server.start();
            System.out.printf(Locale.ROOT, "streaming bench: %d exec rounds, %d MB port-forward, %d cores%n",
                    rounds, megabytes, Runtime.getRuntime().availableProcessors());
            report("exec round trip, SPDY v4", execSpdy(server, group, rounds / 5), execSpdy(server, group, rounds));
            report("exec round trip, WebSocket v5", execWs(server, group, rounds / 5), execWs(server, group, rounds));
            portForward(server, group, echo.port(), 10); // warm-up
            portForward(server, group, echo.port(), megabytes);
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private static List<Long> execSpdy(StreamingServer server, EventLoopGroup group, int rounds) throws Exception {
        List<Long> nanos = new ArrayList<>();
        for (int i = 0; i < rounds; i++) {
            long t0 = System.nanoTime();
            URI url = server.execUrl("c1", List.of("exit", "0"), false, false, true, false);
            try (SpdyTestClient c = SpdyTestClient.connect(group, url, List.of("v4.channel.k8s.io"))) {
                int error = c.open("error");
                c.open("stdout");
                c.inbox.awaitEnd(error);
                nanos.add(System.nanoTime() - t0);
            }
        }
        return nanos;
    }

    private static List<Long> execWs(StreamingServer server, EventLoopGroup group, int rounds) throws Exception {
        List<Long> nanos = new ArrayList<>();
        for (int i = 0; i < rounds; i++) {
            long t0 = System.nanoTime();
            URI url = server.execUrl("c1", List.of("exit", "0"), false, false, true, false);
            try (WsTestClient c = WsTestClient.connect(group, url, "v5.channel.k8s.io")) {
                c.awaitClosed();
                nanos.add(System.nanoTime() - t0);
            }
        }
        return nanos;
    }

    private static void report(String what, List<Long> warmup, List<Long> nanos) {
        Collections.sort(nanos);
        System.out.printf(Locale.ROOT, "%-32s n=%d  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  (after %d warm-up)%n",
                what, nanos.size(), ms(nanos, 0.50), ms(nanos, 0.90), ms(nanos, 0.99), warmup.size());
    }

    private static double ms(List<Long> sorted, double q) {
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.floor(q * sorted.size()))) / 1e6;
    }

    private static void portForward(StreamingServer server, EventLoopGroup group, int port, int megabytes)
            throws Exception {
        long total = (long) megabytes << 20;
        URI url = server.portForwardUrl("pod", List.of(port));
        try (SpdyTestClient c = SpdyTestClient.connect(group, url, List.of("portforward.k8s.io"))) {
            String p = Integer.toString(port);
            c.open(Map.of("streamType", "error", "port", p, "requestID", "0"));
            int data = c.open(Map.of("streamType", "data", "port", p, "requestID", "0"));
            c.inbox.countOnly(data);
            byte[] chunk = new byte[32 * 1024];
            long t0 = System.nanoTime();
            ChannelFuture last = null;
            for (long sent = 0; sent < total; sent += chunk.length) {
                last = c.channel().writeAndFlush(new DefaultSpdyDataFrame(data, Unpooled.wrappedBuffer(chunk)));
                if (!c.channel().isWritable()) {
                    last.sync();
                }
            }
            c.fin(data);
            c.inbox.await("echo of " + total + " bytes", () -> c.inbox.count(data) >= total);
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "port-forward SPDY %d MB echoed  %.2f s  %.1f MB/s each way  "
                            + "(server peak buffered %d KiB)%n", megabytes, seconds, megabytes / seconds,
                    server.stats().peakBufferedBytes() / 1024);
        }
    }
}
