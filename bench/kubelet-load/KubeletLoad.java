import dev.berth.cri.v1.ContainerConfig;
import dev.berth.cri.v1.ContainerFilter;
import dev.berth.cri.v1.ContainerState;
import dev.berth.cri.v1.ContainerStateValue;
import dev.berth.cri.v1.ContainerStatusRequest;
import dev.berth.cri.v1.ContainerMetadata;
import dev.berth.cri.v1.CreateContainerRequest;
import dev.berth.cri.v1.ExecSyncRequest;
import dev.berth.cri.v1.ImageSpec;
import dev.berth.cri.v1.LinuxContainerConfig;
import dev.berth.cri.v1.LinuxContainerSecurityContext;
import dev.berth.cri.v1.LinuxPodSandboxConfig;
import dev.berth.cri.v1.LinuxSandboxSecurityContext;
import dev.berth.cri.v1.ListContainerStatsRequest;
import dev.berth.cri.v1.ListContainersRequest;
import dev.berth.cri.v1.ListPodSandboxRequest;
import dev.berth.cri.v1.ListPodSandboxStatsRequest;
import dev.berth.cri.v1.NamespaceMode;
import dev.berth.cri.v1.NamespaceOption;
import dev.berth.cri.v1.PodSandboxConfig;
import dev.berth.cri.v1.PodSandboxMetadata;
import dev.berth.cri.v1.PodSandboxStatusRequest;
import dev.berth.cri.v1.RemovePodSandboxRequest;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.StartContainerRequest;
import dev.berth.cri.v1.StatusRequest;
import dev.berth.cri.v1.StopPodSandboxRequest;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * A kubelet's steady load on a CRI runtime over one gRPC connection: N pods of one busybox sleep each (the
 * kubelet's namespace options: a pid namespace per container), then for T seconds a relist (ListPodSandbox +
 * ListContainers) every second, ListContainerStats and ListPodSandboxStats every 10 s, an ExecSync probe
 * ({@code true}) per pod every 10 s (spread over the 10 s) and Status every 10 s; then every pod is stopped and
 * removed. Reports each call's p50/p99, the runtime's CPU time per minute during the load (the daemon and its
 * helpers matching HELPERS, each with its reaped children: utime + stime + cutime + cstime; also split into the
 * daemon's own, its reaped children's and the helpers'), the RSS of daemon
 * and helpers under load and of the daemon after teardown, and the start and teardown time of all pods. Then,
 * with the pods still up and nothing else calling, each status call 300 times back to back: its CPU time in the
 * runtime per call (a figure the host's other load hardly moves) and its latency.
 * With {@code -Dparallel=P} the pods are started, and at the end stopped and removed, P at a time (default 1).
 * The images must be pulled already.
 * Usage: java -cp 'distribution/target/berth/lib/*' bench/kubelet-load/KubeletLoad.java SOCKET LABEL LOGDIR N T
 *        DAEMON_PID HELPERS_REGEX [HANDLER]
 */
public final class KubeletLoad {
    private static final Map<String, ConcurrentLinkedQueue<Long>> TIMES = new ConcurrentHashMap<>();
    private static final long HZ = 100; // USER_HZ on Linux
    private static String LABEL = "";

    /** One client connection over the runtime's socket, as the kubelet holds one; closing it ends its event loop. */
    @SuppressWarnings("deprecation") // EpollEventLoopGroup: what grpc-netty-shaded still takes
    record Connection(ManagedChannel channel, EpollEventLoopGroup group) implements AutoCloseable {
        static Connection open(String socket) {
            var group = new EpollEventLoopGroup(1);
            return new Connection(NettyChannelBuilder.forAddress(new DomainSocketAddress(socket)).eventLoopGroup(group)
                    .channelType(EpollDomainSocketChannel.class).usePlaintext().build(), group);
        }

        @Override
        public void close() {
            channel.shutdownNow();
            group.shutdownGracefully();
        }
    }

    public static void main(String[] args) throws Exception {
        String socket = args[0];
        String label = args[1];
        LABEL = label;
        String logDir = args[2];
        int n = Integer.parseInt(args[3]);
        int seconds = Integer.parseInt(args[4]);
        long daemon = Long.parseLong(args[5]);
        Pattern helpers = Pattern.compile(args[6]);
        String handler = args.length > 7 ? args[7] : "";
        Connection connection = Connection.open(socket);
        var rt = RuntimeServiceGrpc.newBlockingStub(connection.channel());
        List<String[]> pods = new ArrayList<>(); // {pod id, container id}
        try {
            int parallel = Math.max(1, Integer.getInteger("parallel", 1));
            long t0 = System.nanoTime();
            pods.addAll(eachOf(parallel, java.util.stream.IntStream.range(0, n).boxed().toList(),
                    i -> start(rt, label + "-" + i, logDir, handler)));
            double startS = (System.nanoTime() - t0) / 1e9;
            System.out.printf("START %s %.1f%s%n", label, startS, parallel > 1 ? " (" + parallel + " at a time)" : "");
            Thread.sleep(2000);

            long cpu0 = cpuTicks(daemon, helpers);
            long own0 = ticks(daemon, 0, 2);
            long reaped0 = ticks(daemon, 2, 4);
            long client0 = ticks(ProcessHandle.current().pid(), 0, 2);
            long w0 = System.nanoTime();
            ScheduledExecutorService ex = Executors.newScheduledThreadPool(16);
            ex.scheduleAtFixedRate(() -> {
                timed("ListPodSandbox", () -> rt.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()));
                timed("ListContainers", () -> rt.listContainers(ListContainersRequest.getDefaultInstance()));
            }, 0, 1000, TimeUnit.MILLISECONDS);
            ex.scheduleAtFixedRate(() -> {
                timed("ListContainerStats", () -> rt.listContainerStats(ListContainerStatsRequest.getDefaultInstance()));
                timed("ListPodSandboxStats", () -> rt.listPodSandboxStats(
                        ListPodSandboxStatsRequest.getDefaultInstance()));
            }, 500, 10_000, TimeUnit.MILLISECONDS);
            ex.scheduleAtFixedRate(() -> timed("Status", () -> rt.status(StatusRequest.getDefaultInstance())),
                    700, 10_000, TimeUnit.MILLISECONDS);
            for (int i = 0; i < pods.size(); i++) {
                String ctr = pods.get(i)[1];
                ex.scheduleAtFixedRate(() -> timed("ExecSync", () -> rt.execSync(ExecSyncRequest.newBuilder()
                        .setContainerId(ctr).addCmd("true").setTimeout(5).build())),
                        10_000L * i / pods.size(), 10_000, TimeUnit.MILLISECONDS);
            }
            Thread.sleep(seconds * 1000L);
            ex.shutdown();
            ex.awaitTermination(30, TimeUnit.SECONDS);
            long cpu1 = cpuTicks(daemon, helpers);
            long own1 = ticks(daemon, 0, 2);
            long reaped1 = ticks(daemon, 2, 4);
            long client1 = ticks(ProcessHandle.current().pid(), 0, 2);
            double minutes = (System.nanoTime() - w0) / 60e9;
            long rssDaemon = rssKb(daemon);
            long rssHelpers = helperPids(helpers).stream().mapToLong(KubeletLoad::rssKb).sum();

            for (var e : new TreeMap<>(TIMES).entrySet()) {
                List<Long> inOrder = List.copyOf(e.getValue());
                List<Long> s = inOrder.stream().sorted().toList();
                long max = s.getLast();
                // Which call was the slowest (1 = the first): a first call's cold start shows here.
                System.out.printf("CALL %s %s p50 %.2f p99 %.2f ms (%d calls; slowest %.2f ms, call %d)%n", label,
                        e.getKey(), pct(s, 0.50) / 1e6, pct(s, 0.99) / 1e6, s.size(), max / 1e6,
                        inOrder.indexOf(max) + 1);
            }
            System.out.printf("CPU %s %.2f s/min%n", label, (cpu1 - cpu0) / (double) HZ / minutes);
            // Where it went: the daemon's own threads, the children it reaped (for berth: the exec probes' conmon
            // and runc; for containerd: the shims' launchers), and the live helpers with their reaped children.
            System.out.printf("CPU-SPLIT %s daemon %.2f, its reaped children %.2f, helpers %.2f s/min%n", label,
                    (own1 - own0) / (double) HZ / minutes, (reaped1 - reaped0) / (double) HZ / minutes,
                    (cpu1 - cpu0 - (own1 - own0) - (reaped1 - reaped0)) / (double) HZ / minutes);
            // This client's own CPU, not in the figures above: what driving the load cost on the same cores.
            System.out.printf("CLIENT %s cpu %.2f s/min (not counted above)%n", label,
                    (client1 - client0) / (double) HZ / minutes);
            System.out.printf("RSS %s daemon %d kB, helpers %d kB (under load)%n", label, rssDaemon, rssHelpers);

            // What each status call costs the runtime, apart from the host's load: CALLS calls back to back,
            // the CPU time of the daemon and its helpers (with their reaped children) per call.
            String pod0 = pods.get(0)[0];
            String ctr0 = pods.get(0)[1];
            cpuPerCall("ListContainers", daemon, helpers,
                    () -> rt.listContainers(ListContainersRequest.getDefaultInstance()));
            cpuPerCall("ListPodSandbox", daemon, helpers,
                    () -> rt.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()));
            cpuPerCall("ListContainers(state=RUNNING)", daemon, helpers,
                    () -> rt.listContainers(ListContainersRequest.newBuilder().setFilter(ContainerFilter.newBuilder()
                            .setState(ContainerStateValue.newBuilder().setState(ContainerState.CONTAINER_RUNNING)))
                            .build()));
            cpuPerCall("ContainerStatus", daemon, helpers,
                    () -> rt.containerStatus(ContainerStatusRequest.newBuilder().setContainerId(ctr0).build()));
            cpuPerCall("PodSandboxStatus", daemon, helpers,
                    () -> rt.podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(pod0).build()));
            cpuPerCall("Status", daemon, helpers, () -> rt.status(StatusRequest.getDefaultInstance()));

            long t1 = System.nanoTime();
            eachOf(parallel, pods, p -> {
                rt.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(p[0]).build());
                return rt.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(p[0]).build());
            });
            System.out.printf("TEARDOWN %s %.1f%s%n", label, (System.nanoTime() - t1) / 1e9,
                    parallel > 1 ? " (" + parallel + " at a time)" : "");
            pods.clear();
            Thread.sleep(3000);
            System.out.printf("RSS-AFTER %s daemon %d kB (no pods left)%n", label, rssKb(daemon));
        } finally {
            for (String[] p : pods) {
                try {
                    rt.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(p[0]).build());
                    rt.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(p[0]).build());
                } catch (RuntimeException e) {
                    System.err.println("cleanup of " + p[0] + ": " + e);
                }
            }
            connection.close();
        }
    }

    /** {@code work} applied to each item, {@code parallel} at a time; the results in the items' order. */
    private static <T, R> List<R> eachOf(int parallel, List<T> items, java.util.function.Function<T, R> work)
            throws Exception {
        if (parallel == 1) {
            List<R> out = new ArrayList<>();
            for (T t : items) {
                out.add(work.apply(t));
            }
            return out;
        }
        var pool = Executors.newFixedThreadPool(parallel);
        try {
            List<java.util.concurrent.Future<R>> futures = new ArrayList<>();
            for (T t : items) {
                futures.add(pool.submit(() -> work.apply(t)));
            }
            List<R> out = new ArrayList<>();
            for (var f : futures) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdown();
        }
    }

    private static void timed(String method, Supplier<?> call) {
        long t = System.nanoTime();
        try {
            call.get();
            TIMES.computeIfAbsent(method, k -> new ConcurrentLinkedQueue<>()).add(System.nanoTime() - t);
        } catch (RuntimeException e) {
            TIMES.computeIfAbsent(method + "-FAILED", k -> new ConcurrentLinkedQueue<>()).add(System.nanoTime() - t);
            System.err.println(method + ": " + e);
        }
    }

    private static final int CALLS = Integer.getInteger("serialCalls", 300);

    private static void cpuPerCall(String method, long daemon, Pattern helpers, Supplier<?> call) {
        call.get();
        List<Long> times = new ArrayList<>();
        long c0 = cpuTicks(daemon, helpers);
        for (int i = 0; i < CALLS; i++) {
            long t = System.nanoTime();
            call.get();
            times.add(System.nanoTime() - t);
        }
        long c1 = cpuTicks(daemon, helpers);
        List<Long> s = times.stream().sorted().toList();
        System.out.printf("SERIAL %s %s cpu %.2f ms/call, p50 %.2f p99 %.2f ms (%d calls back to back)%n",
                LABEL, method, (c1 - c0) * 1000.0 / HZ / CALLS, pct(s, 0.5) / 1e6, pct(s, 0.99) / 1e6, CALLS);
    }

    private static double pct(List<Long> sorted, double q) {
        int i = (int) Math.ceil(sorted.size() * q) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }

    /** utime + stime + cutime + cstime of the daemon and every live helper. */
    private static long cpuTicks(long daemon, Pattern helpers) {
        long t = ticks(daemon);
        for (long p : helperPids(helpers)) {
            t += ticks(p);
        }
        return t;
    }

    private static long ticks(long pid) {
        return ticks(pid, 0, 4);
    }

    /** The sum of stat's utime, stime, cutime and cstime from index {@code from} (0) to {@code to} (4), exclusive. */
    static long ticks(long pid, int from, int to) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // fields 14..17 of stat, counted from state (field 3) at index 0
            long t = 0;
            for (int i = from; i < to; i++) {
                t += Long.parseLong(f[11 + i]);
            }
            return t;
        } catch (Exception e) {
            return 0;
        }
    }

    /**
     * The live processes whose command line matches {@code helpers}, leaving out this client: its own command line
     * holds the pattern, and the pattern's text matches itself (before 2026-12-06 the client's CPU and RSS were
     * counted as a helper's, for both runtimes).
     */
    static List<Long> helperPids(Pattern helpers) {
        List<Long> out = new ArrayList<>();
        long self = ProcessHandle.current().pid();
        ProcessHandle.allProcesses().forEach(p -> {
            if (p.pid() == self) {
                return;
            }
            try {
                String cmd = Files.readString(Path.of("/proc/" + p.pid() + "/cmdline")).replace('\0', ' ');
                if (helpers.matcher(cmd).find()) {
                    out.add(p.pid());
                }
            } catch (Exception e) {
                // gone
            }
        });
        return out;
    }

    private static long rssKb(long pid) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (l.startsWith("VmRSS:")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", ""));
                }
            }
        } catch (Exception e) {
            // gone
        }
        return 0;
    }

    private static String[] start(RuntimeServiceGrpc.RuntimeServiceBlockingStub rt, String pod, String logDir,
                                  String handler) {
        var ns = NamespaceOption.newBuilder().setNetwork(NamespaceMode.POD).setPid(NamespaceMode.CONTAINER)
                .setIpc(NamespaceMode.POD);
        var config = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName(pod).setNamespace("kubeletload")
                        .setUid("uid-" + pod + "-" + System.nanoTime()))
                .setHostname(pod)
                .setLogDirectory(logDir + "/" + pod)
                .putLabels("app", pod)
                .setLinux(LinuxPodSandboxConfig.newBuilder().setSecurityContext(
                        LinuxSandboxSecurityContext.newBuilder().setNamespaceOptions(ns))
                        .setCgroupParent(System.getenv().getOrDefault("BENCH_CGROUP_PARENT", "")))
                .build();
        var container = ContainerConfig.newBuilder()
                .setMetadata(ContainerMetadata.newBuilder().setName("sleeper"))
                .setImage(ImageSpec.newBuilder().setImage("docker.io/library/busybox:1.36"))
                .addCommand("sleep").addCommand("3600")
                .setLogPath("sleeper.log")
                .putLabels("io.kubernetes.pod.name", pod)
                .setLinux(LinuxContainerConfig.newBuilder().setSecurityContext(
                        LinuxContainerSecurityContext.newBuilder().setNamespaceOptions(ns)))
                .build();
        String id = rt.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(config)
                .setRuntimeHandler(handler).build()).getPodSandboxId();
        String ctr = rt.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(id).setConfig(container)
                .setSandboxConfig(config).build()).getContainerId();
        rt.startContainer(StartContainerRequest.newBuilder().setContainerId(ctr).build());
        return new String[] {id, ctr};
    }
}
