package dev.berth.core.cri.image;

import dev.berth.core.cri.Errors;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.cri.UnaryRpc;
import dev.berth.core.image.ImageService;
import dev.berth.core.image.RegistryCredentials;
import dev.berth.cri.v1.ImageServiceGrpc;
import dev.berth.cri.v1.PullImageRequest;
import dev.berth.cri.v1.PullImageResponse;
import io.grpc.MethodDescriptor;

/** PullImage pulls an image (through the registry host config's mirrors) and returns its id. */
public final class PullImage implements UnaryRpc<PullImageRequest, PullImageResponse> {
    private final ImageService images;

    public PullImage(ImageService images) {
        this.images = images;
    }

    @Override
    public MethodDescriptor<PullImageRequest, PullImageResponse> method() {
        return ImageServiceGrpc.getPullImageMethod();
    }

    @Override
    public PullImageResponse call(PullImageRequest req, RpcContext ctx) {
        String ref = Errors.require(req.getImage().getImage(), "image");
        var a = req.getAuth();
        var creds = new RegistryCredentials(a.getUsername(), a.getPassword(), a.getAuth(), a.getIdentityToken(),
                a.getRegistryToken());
        return PullImageResponse.newBuilder().setImageRef(images.pull(ref, creds).id()).build();
    }
}
