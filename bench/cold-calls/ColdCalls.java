import dev.berth.cri.v1.ContainerConfig;
import dev.berth.cri.v1.ContainerMetadata;
import dev.berth.cri.v1.ContainerStatusRequest;
import dev.berth.cri.v1.CreateContainerRequest;
import dev.berth.cri.v1.ImageServiceGrpc;
import dev.berth.cri.v1.ImageSpec;
import dev.berth.cri.v1.ImageStatusRequest;
import dev.berth.cri.v1.LinuxPodSandboxConfig;
import dev.berth.cri.v1.ListImagesRequest;
import dev.berth.cri.v1.ListPodSandboxRequest;
import dev.berth.cri.v1.PodSandboxConfig;
import dev.berth.cri.v1.PodSandboxMetadata;
import dev.berth.cri.v1.PodSandboxStatusRequest;
import dev.berth.cri.v1.PullImageRequest;
import dev.berth.cri.v1.RemoveContainerRequest;
import dev.berth.cri.v1.RemoveImageRequest;
import dev.berth.cri.v1.RemovePodSandboxRequest;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.StartContainerRequest;
import dev.berth.cri.v1.StopContainerRequest;
import dev.berth.cri.v1.StopPodSandboxRequest;
import dev.berth.cri.v1.VersionRequest;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.util.Arrays;

/**
 * Calls as a kubelet or critest spreads them, over one connection (bench/cold-calls/run.sh).
 *
 * <p>{@code first SOCKET}: the first image calls a freshly started runtime answers, as critest's image benchmark
 * makes them when it runs first: pull, ImageStatus by name (right after the pull, as critest asks, and again 0.2 s
 * later), ListImages, RemoveImage, three rounds, each call timed.
 *
 * <p>{@code sparse SOCKET N HANDLER}: one pod of HANDLER (empty: the default), 5,000 calls to warm up the client and
 * the runtime, then N each of Version and PodSandboxStatus with a pause of 0, 10 or 50 ms before each; p50 of each.
 * With the daemon's pid as a fifth argument, also how often its threads went to sleep per call (voluntary context
 * switches) and how long they ran per call (their schedstat), summed over its threads; threads that ended meanwhile
 * are not counted.
 *
 * <p>{@code after-start SOCKET N}: critest's container benchmark, whose ContainerStatus (verbose) comes right after
 * StartContainer, split in parts: one pod, 5,000 Version calls to warm up the client, then N times create and start
 * a busybox sleep, ContainerStatus verbose (the first after the start, as critest makes it), verbose again, and not
 * verbose, then stop and remove; p50 of each.
 *
 * <p>{@code image-cycle SOCKET N [WINDOWS]}: critest's image benchmark on a runtime just started, with no warm-up
 * of either side: N times PullImage, ImageStatus by name right after it, RemoveImage; p50 of each. With a file
 * name, each ImageStatus's start and end ({@link System#nanoTime}, CLOCK_MONOTONIC on Linux) are written to it, one
 * line per call, for a profile of the daemon over just those calls.
 *
 * <p>{@code per-call SOCKET N PID}: the daemon's CPU time per call, back to back: 3,000 calls of each of Version,
 * ImageStatus by name, ListImages and ListPodSandbox to warm up both sides, then N of each, and the daemon's user and
 * system time over them (/proc/PID/stat) divided by N.
 */
public final class ColdCalls {
    public static void main(String[] args) throws Exception {
        var group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        ManagedChannel ch = NettyChannelBuilder.forAddress(new DomainSocketAddress(args[1]))
                .eventLoopGroup(group).channelType(EpollDomainSocketChannel.class).usePlaintext().build();
        try {
            switch (args[0]) {
                case "first" -> first(ch);
                case "sparse" -> sparse(ch, Integer.parseInt(args[2]), args.length > 3 ? args[3] : "",
                        args.length > 4 ? Long.parseLong(args[4]) : 0);
                case "after-start" -> afterStart(ch, Integer.parseInt(args[2]));
                case "image-cycle" -> imageCycle(ch, Integer.parseInt(args[2]), args.length > 3 ? args[3] : null);
                case "per-call" -> perCall(ch, Integer.parseInt(args[2]), Long.parseLong(args[3]));
                default -> throw new IllegalArgumentException("first, sparse, after-start, image-cycle or per-call");
            }
        } finally {
            ch.shutdownNow();
            group.shutdownGracefully();
        }
    }

    private static void first(ManagedChannel ch) {
        var im = ImageServiceGrpc.newBlockingStub(ch);
        var rt = RuntimeServiceGrpc.newBlockingStub(ch);
        rt.version(VersionRequest.getDefaultInstance()); // the connection, set up before the timed calls
        ImageSpec spec = ImageSpec.newBuilder().setImage("docker.io/library/busybox:1.36").build();
        for (int round = 1; round <= 3; round++) {
            long a = System.nanoTime();
            im.pullImage(PullImageRequest.newBuilder().setImage(spec).build());
            long pull = System.nanoTime() - a;
            a = System.nanoTime();
            im.imageStatus(ImageStatusRequest.newBuilder().setImage(spec).build());
            long status = System.nanoTime() - a;
            sleepQuietly(200); // what a pull leaves running (the JIT's compiles of its code) has mostly ended
            a = System.nanoTime();
            im.imageStatus(ImageStatusRequest.newBuilder().setImage(spec).build());
            long later = System.nanoTime() - a;
            a = System.nanoTime();
            im.listImages(ListImagesRequest.getDefaultInstance());
            long list = System.nanoTime() - a;
            a = System.nanoTime();
            im.removeImage(RemoveImageRequest.newBuilder().setImage(spec).build());
            long remove = System.nanoTime() - a;
            System.out.printf("FIRST round %d: PullImage %.1f ImageStatus %.2f (0.2 s later %.2f) ListImages %.2f "
                    + "RemoveImage %.1f ms%n", round, pull / 1e6, status / 1e6, later / 1e6, list / 1e6, remove / 1e6);
        }
    }

    private static void sparse(ManagedChannel ch, int n, String handler, long daemon) throws InterruptedException {
        var rt = RuntimeServiceGrpc.newBlockingStub(ch);
        var cfg = podConfig("sparse");
        String id = rt.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(cfg).setRuntimeHandler(handler)
                .build()).getPodSandboxId();
        var status = PodSandboxStatusRequest.newBuilder().setPodSandboxId(id).build();
        for (int k = 0; k < 5000; k++) {
            rt.version(VersionRequest.getDefaultInstance());
            if (k % 5 == 0) {
                rt.podSandboxStatus(status);
            }
        }
        for (long pause : new long[] {0, 10, 50}) {
            long[] v = new long[n];
            long[] p = new long[n];
            long switches = contextSwitches(daemon);
            long cpu = cpuNanos(daemon);
            for (int k = 0; k < n; k++) {
                Thread.sleep(pause);
                long a = System.nanoTime();
                rt.version(VersionRequest.getDefaultInstance());
                v[k] = System.nanoTime() - a;
                Thread.sleep(pause);
                a = System.nanoTime();
                rt.podSandboxStatus(status);
                p[k] = System.nanoTime() - a;
            }
            String woken = daemon <= 0 ? "" : String.format("; the daemon's threads went to sleep %.2f times a call"
                    + " and ran %.3f ms a call", (contextSwitches(daemon) - switches) / (2.0 * n),
                    (cpuNanos(daemon) - cpu) / (2.0 * n) / 1e6);
            System.out.printf("SPARSE pause %d ms: Version p50 %.2f PodSandboxStatus p50 %.2f ms%s%n", pause, p50(v),
                    p50(p), woken);
        }
        rt.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(id).build());
        rt.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(id).build());
    }

    private static void afterStart(ManagedChannel ch, int n) {
        var rt = RuntimeServiceGrpc.newBlockingStub(ch);
        var cfg = podConfig("after-start");
        String pod = rt.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(cfg).build()).getPodSandboxId();
        for (int k = 0; k < 5000; k++) {
            rt.version(VersionRequest.getDefaultInstance()); // the client's transport, compiled as critest's (Go) is
        }
        long[] first = new long[n];
        long[] again = new long[n];
        long[] plain = new long[n];
        for (int k = 0; k < n; k++) {
            var config = ContainerConfig.newBuilder()
                    .setMetadata(ContainerMetadata.newBuilder().setName("c" + k))
                    .setImage(ImageSpec.newBuilder().setImage("docker.io/library/busybox:1.36"))
                    .addCommand("sleep").addCommand("3600").build();
            String id = rt.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                    .setConfig(config).setSandboxConfig(cfg).build()).getContainerId();
            rt.startContainer(StartContainerRequest.newBuilder().setContainerId(id).build());
            var verbose = ContainerStatusRequest.newBuilder().setContainerId(id).setVerbose(true).build();
            long a = System.nanoTime();
            rt.containerStatus(verbose);
            first[k] = System.nanoTime() - a;
            a = System.nanoTime();
            rt.containerStatus(verbose);
            again[k] = System.nanoTime() - a;
            a = System.nanoTime();
            rt.containerStatus(ContainerStatusRequest.newBuilder().setContainerId(id).build());
            plain[k] = System.nanoTime() - a;
            rt.stopContainer(StopContainerRequest.newBuilder().setContainerId(id).setTimeout(0).build());
            rt.removeContainer(RemoveContainerRequest.newBuilder().setContainerId(id).build());
        }
        System.out.printf("AFTER-START ContainerStatus p50: verbose right after the start %.2f, verbose again %.2f, "
                + "not verbose %.2f ms (%d containers)%n", p50(first), p50(again), p50(plain), n);
        rt.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
        rt.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(pod).build());
    }

    private static void imageCycle(ManagedChannel ch, int n, String windows) throws java.io.IOException {
        var im = ImageServiceGrpc.newBlockingStub(ch);
        ImageSpec spec = ImageSpec.newBuilder().setImage("docker.io/library/busybox:1.36").build();
        long[] pull = new long[n];
        long[] status = new long[n];
        long[] remove = new long[n];
        StringBuilder spans = new StringBuilder();
        for (int k = 0; k < n; k++) {
            long a = System.nanoTime();
            im.pullImage(PullImageRequest.newBuilder().setImage(spec).build());
            pull[k] = System.nanoTime() - a;
            a = System.nanoTime();
            im.imageStatus(ImageStatusRequest.newBuilder().setImage(spec).build());
            long b = System.nanoTime();
            status[k] = b - a;
            spans.append(a).append(' ').append(b).append('\n');
            a = System.nanoTime();
            im.removeImage(RemoveImageRequest.newBuilder().setImage(spec).build());
            remove[k] = System.nanoTime() - a;
        }
        if (windows != null) {
            java.nio.file.Files.writeString(java.nio.file.Path.of(windows), spans);
        }
        System.out.printf("IMAGE-CYCLE p50: PullImage %.1f, ImageStatus right after it %.2f, RemoveImage %.1f ms "
                + "(%d cycles)%n", p50(pull), p50(status), p50(remove), n);
    }

    private static void perCall(ManagedChannel ch, int n, long daemon) throws java.io.IOException {
        var im = ImageServiceGrpc.newBlockingStub(ch);
        var rt = RuntimeServiceGrpc.newBlockingStub(ch);
        im.pullImage(PullImageRequest.newBuilder().setImage(ImageSpec.newBuilder()
                .setImage("registry.k8s.io/pause:3.9")).build());
        var status = ImageStatusRequest.newBuilder().setImage(ImageSpec.newBuilder()
                .setImage("registry.k8s.io/pause:3.9")).build();
        java.util.Map<String, Runnable> calls = new java.util.LinkedHashMap<>();
        calls.put("Version", () -> rt.version(VersionRequest.getDefaultInstance()));
        calls.put("ImageStatus", () -> im.imageStatus(status));
        calls.put("ListImages", () -> im.listImages(ListImagesRequest.getDefaultInstance()));
        calls.put("ListPodSandbox", () -> rt.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()));
        for (Runnable call : calls.values()) {
            for (int k = 0; k < 3000; k++) {
                call.run();
            }
        }
        sleepQuietly(2000); // the compiles the warm-up set off
        StringBuilder out = new StringBuilder("PER-CALL daemon CPU, back to back:");
        for (var e : calls.entrySet()) {
            long cpu = processCpuNanos(daemon);
            long a = System.nanoTime();
            for (int k = 0; k < n; k++) {
                e.getValue().run();
            }
            long wall = System.nanoTime() - a;
            out.append(String.format(" %s %.1f us (wall %.1f us);", e.getKey(),
                    (processCpuNanos(daemon) - cpu) / 1e3 / n, wall / 1e3 / n));
        }
        System.out.println(out);
    }

    /** The user and system time of a process so far (/proc/PID/stat, in clock ticks of 10 ms), in ns. */
    private static long processCpuNanos(long pid) throws java.io.IOException {
        String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L;
    }

    /** A pod of the given name with a fresh uid, in namespace {@code bench}. */
    private static PodSandboxConfig podConfig(String name) {
        return PodSandboxConfig.newBuilder().setMetadata(PodSandboxMetadata.newBuilder().setName(name)
                .setUid("u" + System.nanoTime()).setNamespace("bench").setAttempt(0))
                .setLinux(LinuxPodSandboxConfig.newBuilder()).build();
    }

    /**
     * The voluntary context switches of all the daemon's threads so far: each time one of them blocked (in epoll, on
     * a lock or a queue), so after a call, how many of its threads the call woke, and how often.
     */
    private static long contextSwitches(long pid) {
        return sumOverThreads(pid, "status", text -> text.lines()
                .filter(l -> l.startsWith("voluntary_ctxt_switches:"))
                .mapToLong(l -> Long.parseLong(l.substring(l.indexOf(':') + 1).trim())).sum());
    }

    /** The time all the daemon's threads have run on a CPU so far, in ns (the first field of their schedstat). */
    private static long cpuNanos(long pid) {
        return sumOverThreads(pid, "schedstat", text -> Long.parseLong(text.trim().split(" ")[0]));
    }

    private static long sumOverThreads(long pid, String file, java.util.function.ToLongFunction<String> value) {
        if (pid <= 0) {
            return 0;
        }
        long sum = 0;
        java.io.File[] tasks = new java.io.File("/proc/" + pid + "/task").listFiles();
        for (java.io.File t : tasks == null ? new java.io.File[0] : tasks) {
            try {
                sum += value.applyAsLong(java.nio.file.Files.readString(t.toPath().resolve(file)));
            } catch (java.io.IOException | RuntimeException gone) {
                // a thread that ended meanwhile
            }
        }
        return sum;
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static double p50(long[] a) {
        long[] b = a.clone();
        Arrays.sort(b);
        return b[b.length / 2] / 1e6;
    }
}
