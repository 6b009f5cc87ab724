import dev.berth.cri.v1.LinuxPodSandboxConfig;
import dev.berth.cri.v1.LinuxSandboxSecurityContext;
import dev.berth.cri.v1.NamespaceMode;
import dev.berth.cri.v1.NamespaceOption;
import dev.berth.cri.v1.PodSandboxConfig;
import dev.berth.cri.v1.PodSandboxMetadata;
import dev.berth.cri.v1.RemovePodSandboxRequest;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.cri.v1.RuntimeServiceGrpc;
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
 * The network setup share of RunPodSandbox: the median RunPodSandbox latency of pods with a CNI network and of
 * host-network pods, over one gRPC connection (as the kubelet keeps), on any CRI runtime.
 * Usage: java -cp 'distribution/target/berth/lib/*' bench/network/NetworkShare.java SOCKET NAME [PODS]
 */
public final class NetworkShare {
    public static void main(String[] args) throws Exception {
        String socket = args[0];
        String name = args[1];
        int n = args.length > 2 ? Integer.parseInt(args[2]) : 20;
        var group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket))
                .eventLoopGroup(group).channelType(EpollDomainSocketChannel.class).usePlaintext().build();
        try {
            var rt = RuntimeServiceGrpc.newBlockingStub(channel);
            run(rt, "warmup-net", false);
            run(rt, "warmup-host", true);
            List<Double> net = new ArrayList<>();
            List<Double> host = new ArrayList<>();
            for (int i = 0; i < n; i++) { // interleaved, so that drift hits both alike
                net.add(run(rt, "net-" + i, false));
                host.add(run(rt, "host-" + i, true));
            }
            double m = median(net);
            double h = median(host);
            System.out.printf("%s: RunPodSandbox median %.1f ms with a CNI network, %.1f ms with the host network; "
                    + "network setup %.1f ms = %.0f%% of RunPodSandbox (%d pods each)%n", name, m, h, m - h,
                    100 * (m - h) / m, n);
            System.out.printf("RESULT %s %.1f %.1f%n", name, m, h);
        } finally {
            channel.shutdownNow();
            group.shutdownGracefully();
        }
    }

    private static double run(RuntimeServiceGrpc.RuntimeServiceBlockingStub rt, String pod, boolean hostNetwork) {
        var ns = NamespaceOption.newBuilder().setNetwork(hostNetwork ? NamespaceMode.NODE : NamespaceMode.POD);
        var config = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName(pod).setNamespace("netbench")
                        .setUid("uid-" + pod + "-" + System.nanoTime()))
                .setLinux(LinuxPodSandboxConfig.newBuilder().setSecurityContext(
                        LinuxSandboxSecurityContext.newBuilder().setNamespaceOptions(ns)))
                .build();
        long t0 = System.nanoTime();
        String id = rt.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(config).build()).getPodSandboxId();
        double ms = (System.nanoTime() - t0) / 1e6;
        rt.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(id).build());
        rt.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(id).build());
        return ms;
    }

    private static double median(List<Double> xs) {
        List<Double> s = xs.stream().sorted().toList();
        int k = s.size();
        return k % 2 == 1 ? s.get(k / 2) : (s.get(k / 2 - 1) + s.get(k / 2)) / 2;
    }
}
