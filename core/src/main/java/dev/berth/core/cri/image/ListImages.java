package dev.berth.core.cri.image;

import dev.berth.core.cri.InlineRead;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.image.ImageService;
import dev.berth.cri.v1.ImageServiceGrpc;
import dev.berth.cri.v1.ListImagesRequest;
import dev.berth.cri.v1.ListImagesResponse;
import io.grpc.MethodDescriptor;

/**
 * ListImages lists the stored images, or those a filter names: the image of a tagged or digest reference, an id or
 * id prefix, or every image of a repository named without a tag ({@code crictl images busybox}).
 */
public final class ListImages implements InlineRead<ListImagesRequest, ListImagesResponse> {
    private final ImageService images;

    public ListImages(ImageService images) {
        this.images = images;
    }

    @Override
    public MethodDescriptor<ListImagesRequest, ListImagesResponse> method() {
        return ImageServiceGrpc.getListImagesMethod();
    }

    @Override
    public ListImagesResponse call(ListImagesRequest req, RpcContext ctx) {
        String filter = req.getFilter().getImage().getImage();
        var resp = ListImagesResponse.newBuilder();
        if (!filter.isEmpty()) {
            images.matching(filter).forEach(i -> resp.addImages(Images.toCri(i)));
        } else {
            images.list().forEach(i -> resp.addImages(Images.toCri(i)));
        }
        return resp.build();
    }
}
