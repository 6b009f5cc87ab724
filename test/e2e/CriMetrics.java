import dev.berth.cri.v1.ListMetricDescriptorsRequest;
import dev.berth.cri.v1.ListPodSandboxMetricsRequest;
import dev.berth.cri.v1.Metric;
import dev.berth.cri.v1.MetricDescriptor;
import dev.berth.cri.v1.PodSandboxMetrics;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A client of the CRI metrics RPCs, for end-to-end tests (crictl 1.29 has no command for them): calls
 * ListMetricDescriptors and ListPodSandboxMetrics as the kubelet does and prints one pod's series in the
 * Prometheus text form, {@code name{key="value",...} value}, with the label keys from the descriptors. A series
 * whose name has no descriptor, or whose label values do not match its keys one to one, is printed as
 * {@code MISMATCH ...}.
 *
 * Usage: java -cp 'IMAGE/lib/*' CriMetrics.java SOCKET POD_ID
 */
public final class CriMetrics {
    public static void main(String[] args) throws Exception {
        String socket = args[0];
        String pod = args[1];
        var group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket))
                .channelType(EpollDomainSocketChannel.class).eventLoopGroup(group).usePlaintext().build();
        try {
            var stub = RuntimeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
            Map<String, MetricDescriptor> descriptors = new HashMap<>();
            for (MetricDescriptor d : stub.listMetricDescriptors(ListMetricDescriptorsRequest.getDefaultInstance())
                    .getDescriptorsList()) {
                descriptors.put(d.getName(), d);
            }
            System.out.println("descriptors " + descriptors.size());
            for (PodSandboxMetrics p : stub.listPodSandboxMetrics(ListPodSandboxMetricsRequest.getDefaultInstance())
                    .getPodMetricsList()) {
                if (!p.getPodSandboxId().equals(pod)) {
                    continue;
                }
                List<Metric> all = new ArrayList<>(p.getMetricsList());
                p.getContainerMetricsList().forEach(c -> all.addAll(c.getMetricsList()));
                for (Metric m : all) {
                    System.out.println(line(descriptors.get(m.getName()), m));
                }
            }
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    private static String line(MetricDescriptor d, Metric m) {
        if (d == null || d.getLabelKeysCount() != m.getLabelValuesCount()) {
            return "MISMATCH " + m.getName() + " " + m.getLabelValuesList();
        }
        StringBuilder b = new StringBuilder(m.getName()).append('{');
        for (int i = 0; i < d.getLabelKeysCount(); i++) {
            b.append(i == 0 ? "" : ",").append(d.getLabelKeys(i)).append("=\"").append(m.getLabelValues(i))
                    .append('"');
        }
        return b.append("} ").append(m.getValue().getValue()).toString();
    }
}
