package dev.berth.core.cri.image;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.core.cri.Errors;
import dev.berth.core.cri.InlineRead;
import dev.berth.core.cri.RpcContext;
import dev.berth.core.image.Image;
import dev.berth.core.image.ImageService;
import dev.berth.cri.v1.ImageServiceGrpc;
import dev.berth.cri.v1.ImageStatusRequest;
import dev.berth.cri.v1.ImageStatusResponse;
import io.grpc.MethodDescriptor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * ImageStatus reports one image; an image that is not present is an empty response, not an error, as CRI
 * requires. Verbose info carries the image's platform (CRI's {@code Image} has no field for it), the image config
 * and the chosen manifest.
 */
public final class ImageStatus implements InlineRead<ImageStatusRequest, ImageStatusResponse> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final ImageService images;

    public ImageStatus(ImageService images) {
        this.images = images;
    }

    @Override
    public MethodDescriptor<ImageStatusRequest, ImageStatusResponse> method() {
        return ImageServiceGrpc.getImageStatusMethod();
    }

    @Override
    public ImageStatusResponse call(ImageStatusRequest req, RpcContext ctx) {
        String ref = Errors.require(req.getImage().getImage(), "image");
        Optional<Image> found = images.find(ref);
        var resp = ImageStatusResponse.newBuilder();
        if (found.isEmpty()) {
            return resp.build();
        }
        Image i = found.get();
        resp.setImage(Images.toCri(i));
        if (req.getVerbose()) {
            try {
                Map<String, Object> info = new LinkedHashMap<>();
                info.put("imageId", i.id());
                info.put("manifestDigest", i.manifestDigest());
                Map<String, String> platform = new LinkedHashMap<>();
                platform.put("os", i.platform().os());
                platform.put("architecture", i.platform().architecture());
                if (!i.platform().osVersion().isEmpty()) {
                    platform.put("os.version", i.platform().osVersion());
                }
                info.put("platform", platform);
                info.put("manifest", JSON.readTree(images.manifestJson(i)));
                info.put("config", JSON.readTree(images.configJson(i)));
                resp.putInfo("info", JSON.writeValueAsString(info));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                resp.putInfo("info", "{}");
            }
        }
        return resp.build();
    }
}
