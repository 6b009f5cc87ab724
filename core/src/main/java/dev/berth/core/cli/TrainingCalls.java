package dev.berth.core.cli;

import dev.berth.core.UnixSockets;
import dev.berth.cri.v1.ImageFsInfoRequest;
import dev.berth.cri.v1.ImageServiceGrpc;
import dev.berth.cri.v1.ListContainersRequest;
import dev.berth.cri.v1.ListImagesRequest;
import dev.berth.cri.v1.ListPodSandboxRequest;
import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.StatusRequest;
import dev.berth.cri.v1.VersionRequest;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The read-only calls a kubelet makes first and polls all day, made over the daemon's own socket by the image build's
 * training run ({@code berth daemon --exit-after-start}): the classes and method profiles of the serving path
 * (the HTTP/2 connection, gRPC's call handling, each call's protobuf types) then come from the AOT cache too.
 * A call that fails is ignored: the training run only records what ran.
 */
final class TrainingCalls {
    private static final System.Logger LOG = System.getLogger(TrainingCalls.class.getName());
    /** How often each call is made. */
    static final int ROUNDS = Integer.getInteger("berth.training.rounds", 2000);

    private TrainingCalls() {
    }

    static void run(Path socket) {
        ManagedChannel channel = UnixSockets.channel(socket);
        try {
            var runtime = RuntimeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(300, TimeUnit.SECONDS);
            var images = ImageServiceGrpc.newBlockingStub(channel).withDeadlineAfter(300, TimeUnit.SECONDS);
            // Many times over: the cache then also holds these calls' method profiles as a node's polling makes
            // them, which the JIT uses from the start instead of profiling the calls again for minutes.
            for (int i = 0; i < ROUNDS; i++) {
                call(() -> runtime.version(VersionRequest.newBuilder().setVersion("v1").build()));
                call(() -> runtime.status(StatusRequest.newBuilder().setVerbose(false).build()));
                call(() -> runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()));
                call(() -> runtime.listContainers(ListContainersRequest.getDefaultInstance()));
                call(() -> images.listImages(ListImagesRequest.getDefaultInstance()));
                call(() -> images.imageFsInfo(ImageFsInfoRequest.getDefaultInstance()));
            }
        } finally {
            channel.shutdownNow();
            try {
                channel.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void call(Runnable rpc) {
        try {
            rpc.run();
        } catch (StatusRuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "training call failed: {0}", e.getStatus());
        }
    }
}
