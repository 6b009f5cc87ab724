import dev.berth.cri.v1.ContainerConfig;
import dev.berth.cri.v1.ContainerMetadata;
import dev.berth.cri.v1.CreateContainerRequest;
import dev.berth.cri.v1.ImageSpec;
import dev.berth.cri.v1.LinuxContainerConfig;
import dev.berth.cri.v1.LinuxContainerSecurityContext;
import dev.berth.cri.v1.LinuxPodSandboxConfig;
import dev.berth.cri.v1.LinuxSandboxSecurityContext;
import dev.berth.cri.v1.NamespaceMode;
import dev.berth.cri.v1.NamespaceOption;
import dev.berth.cri.v1.PodSandboxConfig;
import dev.berth.cri.v1.PodSandboxMetadata;
import dev.berth.cri.v1.RemovePodSandboxRequest;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.StartContainerRequest;
import dev.berth.cri.v1.StopPodSandboxRequest;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Pod + container start over one gRPC connection, as the kubelet keeps one: RunPodSandbox, CreateContainer and
 * StartContainer of a busybox sleep, timed step by step, on any CRI runtime. KIND is {@code kubelet} (the
 * namespace options the kubelet sends for a pod without shareProcessNamespace: a pid namespace per container)
 * or {@code shared-pid} (options unset, which CRI reads as one pid namespace for the pod). The pods stay up
 * until all are timed, then are removed. The images must be pulled already.
 * Usage: java -cp 'distribution/target/berth/lib/*' bench/pod-start/PodStart.java SOCKET NAME KIND LOGDIR PODS [HANDLER]
 */
public final class PodStart {
    public static void main(String[] args) throws Exception {
        String socket = args[0];
        String name = args[1];
        boolean kubelet = args[2].equals("kubelet");
        String logDir = args[3];
        int n = Integer.parseInt(args[4]);
        String handler = args.length > 5 ? args[5] : "";
        var group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket))
                .eventLoopGroup(group).channelType(EpollDomainSocketChannel.class).usePlaintext().build();
        List<String> pods = new ArrayList<>();
        try {
            var rt = RuntimeServiceGrpc.newBlockingStub(channel);
            for (int i = 0; i < 3; i++) {
                start(rt, name + "-warmup-" + i, kubelet, logDir, handler, pods);
            }
            List<double[]> steps = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                steps.add(start(rt, name + "-" + i, kubelet, logDir, handler, pods));
            }
            double run = median(steps, 0);
            double create = median(steps, 1);
            double begin = median(steps, 2);
            double total = median(steps, 3);
            System.out.printf("  %s: pod+container start median %.1f ms (RunPodSandbox %.1f, CreateContainer %.1f,"
                    + " StartContainer %.1f; %d pods)%n", name, total, run, create, begin, n);
            for (double[] s : steps) {
                System.out.printf("TIME %s %.1f%n", name, s[3]);
            }
        } finally {
            var rt = RuntimeServiceGrpc.newBlockingStub(channel);
            for (String id : pods) {
                rt.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(id).build());
                rt.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(id).build());
            }
            channel.shutdownNow();
            group.shutdownGracefully();
        }
    }

    /** Starts one pod with one container; returns the milliseconds of each step and their sum. */
    private static double[] start(RuntimeServiceGrpc.RuntimeServiceBlockingStub rt, String pod, boolean kubelet,
                                  String logDir, String handler, List<String> pods) {
        var ns = NamespaceOption.newBuilder().setNetwork(NamespaceMode.POD)
                .setPid(kubelet ? NamespaceMode.CONTAINER : NamespaceMode.POD).setIpc(NamespaceMode.POD);
        var config = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName(pod).setNamespace("podbench")
                        .setUid("uid-" + pod + "-" + System.nanoTime()))
                .setHostname(pod)
                .setLogDirectory(logDir + "/" + pod)
                .setLinux(LinuxPodSandboxConfig.newBuilder().setSecurityContext(
                        LinuxSandboxSecurityContext.newBuilder().setNamespaceOptions(ns))
                        .setCgroupParent(System.getenv().getOrDefault("BENCH_CGROUP_PARENT", "")))
                .build();
        var container = ContainerConfig.newBuilder()
                .setMetadata(ContainerMetadata.newBuilder().setName("sleeper"))
                .setImage(ImageSpec.newBuilder().setImage("docker.io/library/busybox:1.36"))
                .addCommand("sleep").addCommand("3600")
                .setLogPath("sleeper.log")
                .setLinux(LinuxContainerConfig.newBuilder().setSecurityContext(
                        LinuxContainerSecurityContext.newBuilder().setNamespaceOptions(ns)))
                .build();
        long t0 = System.nanoTime();
        String id = rt.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(config)
                .setRuntimeHandler(handler).build()).getPodSandboxId();
        pods.add(id);
        long t1 = System.nanoTime();
        String ctr = rt.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(id).setConfig(container)
                .setSandboxConfig(config).build()).getContainerId();
        long t2 = System.nanoTime();
        rt.startContainer(StartContainerRequest.newBuilder().setContainerId(ctr).build());
        long t3 = System.nanoTime();
        return new double[] {(t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6, (t3 - t0) / 1e6};
    }

    private static double median(List<double[]> rows, int column) {
        List<Double> s = rows.stream().map(r -> r[column]).sorted().toList();
        int k = s.size();
        return k % 2 == 1 ? s.get(k / 2) : (s.get(k / 2 - 1) + s.get(k / 2)) / 2;
    }
}
