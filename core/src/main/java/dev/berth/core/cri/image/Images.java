package dev.berth.core.cri.image;

import dev.berth.core.image.Image;
import dev.berth.cri.v1.ImageSpec;
import dev.berth.cri.v1.Int64Value;

/** Maps the image store's records to CRI's {@code Image}. */
final class Images {
    private Images() {}

    static dev.berth.cri.v1.Image toCri(Image i) {
        var b = dev.berth.cri.v1.Image.newBuilder()
                .setId(i.id())
                .addAllRepoTags(i.repoTags())
                .addAllRepoDigests(i.repoDigests())
                .setSize(i.size())
                .setUsername(i.username())
                .setSpec(ImageSpec.newBuilder().setImage(i.id()))
                .setPinned(i.pinned());
        i.uid().ifPresent(uid -> b.setUid(Int64Value.newBuilder().setValue(uid)));
        return b.build();
    }
}
