import dev.berth.cri.v1.ContainerConfig;
import dev.berth.cri.v1.ContainerMetadata;
import dev.berth.cri.v1.ContainerStats;
import dev.berth.cri.v1.CreateContainerRequest;
import dev.berth.cri.v1.ImageSpec;
import dev.berth.cri.v1.ListContainerStatsRequest;
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
 * The kubelet's stats loop on any CRI runtime: starts PODS pods of one busybox container each, which writes a
 * 100 KiB file and sleeps, then calls ListContainerStats once a second for SECONDS seconds over one connection and
 * times each call. Prints the median, 95th percentile and largest latency, and how many containers the last
 * answer gave a non-zero writable layer. The pods are removed at the end. The busybox image must be pulled.
 * Prints "READY" on stdout when the loop starts and "DONE" when it ends, so that the caller can read the
 * daemon's CPU time around the loop.
 * Usage: java -cp 'distribution/target/berth/lib/*' bench/stats-loop/StatsLoop.java SOCKET NAME LOGDIR PODS SECONDS
 */
public final class StatsLoop {
    public static void main(String[] args) throws Exception {
        String socket = args[0];
        String name = args[1];
        String logDir = args[2];
        int n = Integer.parseInt(args[3]);
        int seconds = Integer.parseInt(args[4]);
        var group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket))
                .eventLoopGroup(group).channelType(EpollDomainSocketChannel.class).usePlaintext().build();
        List<String> pods = new ArrayList<>();
        try {
            var rt = RuntimeServiceGrpc.newBlockingStub(channel);
            for (int i = 0; i < n; i++) {
                start(rt, name + "-" + i, logDir, pods);
            }
            Thread.sleep(3000); // the containers write their file
            rt.listContainerStats(ListContainerStatsRequest.getDefaultInstance()); // warm-up
            System.out.println("READY");
            System.out.flush();
            List<Double> ms = new ArrayList<>();
            List<ContainerStats> last = List.of();
            long next = System.nanoTime();
            for (int i = 0; i < seconds; i++) {
                long t0 = System.nanoTime();
                last = rt.listContainerStats(ListContainerStatsRequest.getDefaultInstance()).getStatsList();
                ms.add((System.nanoTime() - t0) / 1e6);
                next += 1_000_000_000L;
                Thread.sleep(Math.max(0, (next - System.nanoTime()) / 1_000_000));
            }
            System.out.println("DONE");
            long withLayer = last.stream().filter(s -> s.getWritableLayer().getUsedBytes().getValue() > 0).count();
            List<Double> sorted = ms.stream().sorted().toList();
            System.out.printf("  %s: ListContainerStats at %d containers: median %.2f ms, p95 %.2f ms, max %.2f ms"
                    + " (%d calls); %d of %d answered with a non-zero writable layer%n", name, n,
                    sorted.get(sorted.size() / 2), sorted.get((int) Math.ceil(sorted.size() * 0.95) - 1),
                    sorted.getLast(), sorted.size(), withLayer, last.size());
            for (double t : ms) {
                System.out.printf("TIME %s %.3f%n", name, t);
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

    private static void start(RuntimeServiceGrpc.RuntimeServiceBlockingStub rt, String pod, String logDir,
                              List<String> pods) {
        var config = PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName(pod).setNamespace("statsbench")
                        .setUid("uid-" + pod + "-" + System.nanoTime()))
                .setHostname(pod)
                .setLogDirectory(logDir + "/" + pod)
                .build();
        var container = ContainerConfig.newBuilder()
                .setMetadata(ContainerMetadata.newBuilder().setName("writer"))
                .setImage(ImageSpec.newBuilder().setImage("docker.io/library/busybox:1.36"))
                .addCommand("sh").addArgs("-c").addArgs("dd if=/dev/zero of=/data bs=1024 count=100; exec sleep 3600")
                .setLogPath("writer.log")
                .build();
        String id = rt.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(config).build()).getPodSandboxId();
        pods.add(id);
        String ctr = rt.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(id).setConfig(container)
                .setSandboxConfig(config).build()).getContainerId();
        rt.startContainer(StartContainerRequest.newBuilder().setContainerId(ctr).build());
    }
}
