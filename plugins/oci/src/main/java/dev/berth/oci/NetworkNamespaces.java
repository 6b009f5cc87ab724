package dev.berth.oci;

import dev.berth.spi.BackendException;
import dev.berth.spi.PodMetricsSource;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * TCP connections made inside a pod's network namespace, for port-forward, and its interface counters, for pod
 * metrics. setns(2) moves only the calling
 * thread, and a socket keeps the namespace it was created in, so a short-lived platform thread joins the
 * namespace, connects, and ends: no other work ever runs in the pod's namespace. Needs CAP_SYS_ADMIN and
 * native access ({@link Libc}).
 */
public final class NetworkNamespaces {
    private NetworkNamespaces() {}

    /**
     * A port-forward connection: to {@code port} on the loopback of the pod's network namespace {@code netns}, or
     * of the host when it is null (a host-network pod). Errors are {@link BackendException}s naming the sandbox:
     * INVALID_ARGUMENT for a bad port, UNAVAILABLE when nothing answers.
     */
    public static SocketChannel portForward(String sandboxId, Path netns, int port) {
        if (port < 1 || port > 65535) {
            throw BackendException.invalid("failed to port-forward to sandbox \"" + sandboxId + "\": invalid port "
                    + port);
        }
        try {
            return netns == null
                    ? SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))
                    : connectLoopback(netns, port);
        } catch (IOException e) {
            throw new BackendException(BackendException.Kind.UNAVAILABLE, "failed to port-forward to sandbox \""
                    + sandboxId + "\" port " + port + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackendException(BackendException.Kind.UNAVAILABLE, "failed to port-forward to sandbox \""
                    + sandboxId + "\": interrupted");
        }
    }

    /** Connects to {@code port} on the loopback of the network namespace pinned or named at {@code netns}. */
    public static SocketChannel connectLoopback(Path netns, int port) throws IOException, InterruptedException {
        var result = new CompletableFuture<SocketChannel>();
        Thread.ofPlatform().daemon().name("berth-netns-connect").start(() -> {
            try {
                join(netns);
                result.complete(SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), port)));
            } catch (IOException | RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
        try {
            return result.get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause().getMessage());
        } catch (TimeoutException e) {
            throw new IOException("connect timed out");
        }
    }

    /**
     * A pod's network namespace: {@code netns} where one is pinned, else the one of the pod's process {@code pid}
     * while it lives; null for a pod on the host's network, and where neither is left.
     */
    public static Path ofPod(boolean hostNetwork, Path netns, long pid) {
        if (hostNetwork) {
            return null;
        }
        if (netns != null) {
            return netns;
        }
        return pid > 0 && Processes.live(pid) ? Path.of("/proc", Long.toString(pid), "ns", "net") : null;
    }

    /**
     * The interfaces of a pod's metrics: those of its network namespace {@code netns} ({@link #interfaces}); none
     * when it has none of its own (null) or the namespace is going away with the pod, whose containers' readings
     * still stand. UNAVAILABLE, naming the sandbox, when interrupted.
     */
    public static List<PodMetricsSource.InterfaceMetrics> podInterfaces(String sandboxId, Path netns) {
        if (netns == null) {
            return List.of();
        }
        try {
            return interfaces(netns);
        } catch (IOException e) {
            return List.of();
        } catch (InterruptedException e) {
            throw Failures.interrupted("read the metrics of sandbox", sandboxId);
        }
    }

    /**
     * The counters of every interface in the network namespace pinned or named at {@code netns}, read from
     * {@code /proc/thread-self/net/dev} by a short-lived thread that joins it (the file shows the reading thread's
     * namespace).
     */
    public static List<PodMetricsSource.InterfaceMetrics> interfaces(Path netns) throws IOException,
            InterruptedException {
        var result = new CompletableFuture<String>();
        Thread.ofPlatform().daemon().name("berth-netns-read").start(() -> {
            try {
                join(netns);
                result.complete(Files.readString(Path.of("/proc/thread-self/net/dev")));
            } catch (IOException | RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
        try {
            return parseNetDev(result.get(30, TimeUnit.SECONDS));
        } catch (ExecutionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause().getMessage());
        } catch (TimeoutException e) {
            throw new IOException("reading the interfaces of " + netns + " timed out");
        }
    }

    /**
     * Parses {@code /proc/net/dev}: two header lines, then {@code name: } and eight receive then eight transmit
     * columns (bytes, packets, errs, drop, fifo, frame/colls, compressed, multicast/carrier).
     */
    public static List<PodMetricsSource.InterfaceMetrics> parseNetDev(String text) {
        List<PodMetricsSource.InterfaceMetrics> out = new ArrayList<>();
        for (String line : text.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0 || line.contains("|")) {
                continue;
            }
            String name = line.substring(0, colon).strip();
            String[] f = line.substring(colon + 1).strip().split("\\s+");
            if (name.isEmpty() || f.length < 16) {
                continue;
            }
            try {
                out.add(new PodMetricsSource.InterfaceMetrics(name, Long.parseLong(f[0]), Long.parseLong(f[1]),
                        Long.parseLong(f[2]), Long.parseLong(f[3]), Long.parseLong(f[8]), Long.parseLong(f[9]),
                        Long.parseLong(f[10]), Long.parseLong(f[11])));
            } catch (NumberFormatException e) {
                // not a counter line
            }
        }
        return out;
    }

    private static void join(Path netns) throws IOException {
        int fd;
        try {
            fd = Libc.open(netns.toString(), Libc.O_RDONLY);
        } catch (IOException e) {
            throw new IOException("cannot open network namespace " + netns + ": " + e.getMessage());
        }
        try {
            Libc.setns(fd, Libc.CLONE_NEWNET);
        } catch (IOException e) {
            throw new IOException("cannot join network namespace " + netns + ": " + e.getMessage());
        } finally {
            Libc.close(fd);
        }
    }
}
