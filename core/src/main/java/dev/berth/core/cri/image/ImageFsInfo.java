package dev.berth.core.cri.image;

import dev.berth.core.cri.Protos;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.image.ImageService;
import dev.berth.cri.v1.FilesystemIdentifier;
import dev.berth.cri.v1.FilesystemUsage;
import dev.berth.cri.v1.ImageFsInfoRequest;
import dev.berth.cri.v1.ImageFsInfoResponse;
import dev.berth.cri.v1.ImageServiceGrpc;
import dev.berth.cri.v1.UInt64Value;
import io.grpc.MethodDescriptor;

/** ImageFsInfo reports bytes and inodes used by images and by containers' writable layers. */
public final class ImageFsInfo implements UnaryRpc<ImageFsInfoRequest, ImageFsInfoResponse> {
    private final ImageService images;

    public ImageFsInfo(ImageService images) {
        this.images = images;
    }

    @Override
    public MethodDescriptor<ImageFsInfoRequest, ImageFsInfoResponse> method() {
        return ImageServiceGrpc.getImageFsInfoMethod();
    }

    @Override
    public ImageFsInfoResponse call(ImageFsInfoRequest req, RpcContext ctx) {
        var u = images.usage();
        long ts = Protos.nanos(u.timestamp());
        return ImageFsInfoResponse.newBuilder()
                .addImageFilesystems(FilesystemUsage.newBuilder().setTimestamp(ts)
                        .setFsId(FilesystemIdentifier.newBuilder().setMountpoint(u.imageFsMountpoint().toString()))
                        .setUsedBytes(UInt64Value.newBuilder().setValue(u.imageBytes()))
                        .setInodesUsed(UInt64Value.newBuilder().setValue(u.imageInodes())))
                .addContainerFilesystems(FilesystemUsage.newBuilder().setTimestamp(ts)
                        .setFsId(FilesystemIdentifier.newBuilder().setMountpoint(u.containerFsMountpoint().toString()))
                        .setUsedBytes(UInt64Value.newBuilder().setValue(u.containerBytes()))
                        .setInodesUsed(UInt64Value.newBuilder().setValue(u.containerInodes())))
                .build();
    }
}
