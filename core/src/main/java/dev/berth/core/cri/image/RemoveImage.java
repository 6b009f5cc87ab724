package dev.berth.core.cri.image;

import dev.berth.core.cri.Errors;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.image.ImageService;
import dev.berth.cri.v1.ImageServiceGrpc;
import dev.berth.cri.v1.RemoveImageRequest;
import dev.berth.cri.v1.RemoveImageResponse;
import io.grpc.MethodDescriptor;

/** RemoveImage removes an image by id, tag or digest. Idempotent: removing an absent image succeeds. */
public final class RemoveImage implements UnaryRpc<RemoveImageRequest, RemoveImageResponse> {
    private final ImageService images;

    public RemoveImage(ImageService images) {
        this.images = images;
    }

    @Override
    public MethodDescriptor<RemoveImageRequest, RemoveImageResponse> method() {
        return ImageServiceGrpc.getRemoveImageMethod();
    }

    @Override
    public RemoveImageResponse call(RemoveImageRequest req, RpcContext ctx) {
        images.remove(Errors.require(req.getImage().getImage(), "image"));
        return RemoveImageResponse.getDefaultInstance();
    }
}
