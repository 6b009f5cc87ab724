package dev.berth.core.cli;

import dev.berth.core.UnixSockets;
import dev.berth.cri.v1.ImageFilter;
import dev.berth.cri.v1.ImageFsInfoRequest;
import dev.berth.cri.v1.ImageServiceGrpc;
import dev.berth.cri.v1.ImageSpec;
import dev.berth.cri.v1.ImageStatusRequest;
import dev.berth.cri.v1.ListContainersRequest;
import dev.berth.cri.v1.ListImagesRequest;
import dev.berth.cri.v1.ListPodSandboxRequest;
import dev.berth.cri.v1.PullImageRequest;
import dev.berth.cri.v1.RemoveImageRequest;
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
 * Then a node's first pull and the image calls after it, on a small image served on the loopback
 * ({@link TrainingRegistry}). A call that fails is ignored: the training run only records what ran.
 */
final class TrainingCalls {
    private static final System.Logger LOG = System.getLogger(TrainingCalls.class.getName());
    /** How often each call is made. */
    static final int ROUNDS = Integer.getInteger("berth.training.rounds", 2000);
    /** How often the image is pulled, asked for, listed and removed. */
    static final int IMAGE_ROUNDS = Integer.getInteger("berth.training.image-rounds", 150);

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
            imageCalls(images);
        } finally {
            channel.shutdownNow();
            try {
                channel.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * A node's first pull and the image calls after it, on an image of {@link TrainingRegistry}: pulled, asked for
     * by name and by id, listed, removed, over and over.
     */
    private static void imageCalls(ImageServiceGrpc.ImageServiceBlockingStub images) {
        try (TrainingRegistry registry = TrainingRegistry.start()) {
            ImageSpec spec = ImageSpec.newBuilder().setImage(registry.image()).build();
            for (int i = 0; i < IMAGE_ROUNDS; i++) {
                call(() -> {
                    String id = images.pullImage(PullImageRequest.newBuilder().setImage(spec).build()).getImageRef();
                    images.imageStatus(ImageStatusRequest.newBuilder().setImage(spec).build());
                    images.imageStatus(ImageStatusRequest.newBuilder().setVerbose(true)
                            .setImage(ImageSpec.newBuilder().setImage(id)).build());
                    images.listImages(ListImagesRequest.getDefaultInstance());
                    images.listImages(ListImagesRequest.newBuilder().setFilter(ImageFilter.newBuilder()
                            .setImage(spec)).build());
                    images.imageFsInfo(ImageFsInfoRequest.getDefaultInstance());
                    images.removeImage(RemoveImageRequest.newBuilder().setImage(spec).build());
                });
            }
        } catch (java.io.IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "training image calls skipped: {0}", e.toString());
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
