import dev.berth.cri.v1.ContainerStatusRequest;
import dev.berth.cri.v1.ExecSyncRequest;
import dev.berth.cri.v1.PodSandboxStatusRequest;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import io.grpc.stub.MetadataUtils;
import java.util.concurrent.TimeUnit;

/**
 * Calls PodSandboxStatus, ContainerStatus and ExecSync ({@code true}, as an exec probe) with a W3C {@code traceparent}
 * in the metadata, as the kubelet does
 * when its tracing is on (crictl sends none), so that a test can check that berth's spans join the caller's trace.
 *
 * Usage: java -cp 'IMAGE/lib/*' TracedCall.java SOCKET TRACEPARENT POD_ID CONTAINER_ID
 */
public final class TracedCall {
    public static void main(String[] args) throws Exception {
        var group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(args[0]))
                .channelType(EpollDomainSocketChannel.class).eventLoopGroup(group).usePlaintext().build();
        try {
            Metadata headers = new Metadata();
            headers.put(Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER), args[1]);
            var stub = RuntimeServiceGrpc.newBlockingStub(channel)
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers))
                    .withDeadlineAfter(30, TimeUnit.SECONDS);
            stub.podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(args[2]).build());
            stub.containerStatus(ContainerStatusRequest.newBuilder().setContainerId(args[3]).build());
            stub.execSync(ExecSyncRequest.newBuilder().setContainerId(args[3]).addCmd("true").setTimeout(10).build());
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
