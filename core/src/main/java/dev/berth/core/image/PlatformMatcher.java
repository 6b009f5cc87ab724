package dev.berth.core.image;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import java.util.ArrayList;
import java.util.List;

/** This node's platform (from {@link ImageSettings}) against an image index's entries and an image's config. */
final class PlatformMatcher {
    private final ImageSettings settings;

    PlatformMatcher(ImageSettings settings) {
        this.settings = settings;
    }

    /** The node's platform as {@code os/architecture[/variant]}. */
    String platform() {
        return settings.platformOs() + "/" + settings.platformArchitecture()
                + (settings.platformVariant().isEmpty() ? "" : "/" + settings.platformVariant());
    }

    /** Picks the node's platform from an index: same os and architecture, the variant matching when given. */
    String selectPlatform(ImageReference ref, JsonNode index) {
        String best = null;
        int bestScore = -1;
        List<String> seen = new ArrayList<>();
        for (JsonNode d : index.path("manifests")) {
            JsonNode p = d.path("platform");
            String os = p.path("os").asText("");
            String arch = p.path("architecture").asText("");
            String variant = p.path("variant").asText("");
            seen.add(os + "/" + arch + (variant.isEmpty() ? "" : "/" + variant));
            if (!os.equals(settings.platformOs()) || !arch.equals(settings.platformArchitecture())) {
                continue;
            }
            int score;
            if (variant.equals(settings.platformVariant())) {
                score = 2;
            } else if (variant.isEmpty()) {
                score = 1;
            } else {
                continue;
            }
            if (score > bestScore) {
                bestScore = score;
                best = d.path("digest").asText("");
            }
        }
        if (best == null) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "failed to pull image \"" + ref
                    + "\": no manifest for platform " + platform() + " (the index has " + String.join(", ", seen) + ")");
        }
        ContentStore.checkDigest(best);
        return best;
    }

    /** Refuses an image whose config names another os or architecture than this node's. */
    void checkConfigPlatform(ImageReference ref, JsonNode config) {
        String os = config.path("os").asText("");
        String arch = config.path("architecture").asText("");
        if (!os.isEmpty() && !os.equals(settings.platformOs())
                || !arch.isEmpty() && !arch.equals(settings.platformArchitecture())) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "failed to pull image \"" + ref + "\": the image is for "
                    + os + "/" + arch + ", this node is " + platform());
        }
    }
}
