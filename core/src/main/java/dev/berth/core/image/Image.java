package dev.berth.core.image;

import java.util.List;

/**
 * An image in the store.
 *
 * @param id {@code sha256:} of the image config, CRI's image id
 * @param repoTags normalised tagged references, e.g. {@code docker.io/library/busybox:1.36}
 * @param repoDigests normalised digest references, {@code name@sha256:...} of the manifest or index pulled
 * @param size bytes of the image's content (config plus compressed layers)
 * @param user the image config's {@code User}, as written
 * @param pinned whether the kubelet must never garbage-collect it (the sandbox image is pinned)
 * @param manifestDigest digest of the platform manifest the layers came from (its bytes, and the config's, are read
 *     from the content store only when asked for: {@link ImageService#manifestJson}, {@link ImageService#configJson})
 * @param diffIds the uncompressed layer digests, bottom first
 * @param platform the platform the image's config names ({@link Platform#UNKNOWN} for images pulled before it was
 *     recorded)
 */
public record Image(String id, List<String> repoTags, List<String> repoDigests, long size, String user,
                    boolean pinned, String manifestDigest,
                    List<String> diffIds, Platform platform) {

    /**
     * The largest user or group id a process may be given: runc refuses any above it, as the Kubernetes API does.
     * {@code (uid_t) -1} and the ids above 2^31 are not ids a container's process can run as. The CRI edge refuses a
     * requested id above it; the user resolver bounds the ids an image's files give.
     */
    public static final long MAX_ID = Integer.MAX_VALUE;

    public Image {
        repoTags = List.copyOf(repoTags);
        repoDigests = List.copyOf(repoDigests);
        diffIds = List.copyOf(diffIds);
        user = user == null ? "" : user;
        platform = platform == null ? Platform.UNKNOWN : platform;
    }

    /**
     * The platform an image's config names: {@code os}, {@code architecture} and {@code os.version} (a Windows
     * image names the build it was made for); empty strings for what the config leaves out.
     */
    public record Platform(String os, String architecture, String osVersion) {
        public static final Platform UNKNOWN = new Platform("", "", "");

        public Platform {
            os = os == null ? "" : os;
            architecture = architecture == null ? "" : architecture;
            osVersion = osVersion == null ? "" : osVersion;
        }

        /** From an image config. */
        static Platform ofConfig(com.fasterxml.jackson.databind.JsonNode config) {
            return new Platform(config.path("os").asText(""), config.path("architecture").asText(""),
                    config.path("os.version").asText(""));
        }

        /** Whether it is a Windows image, whose layers go to the backend as blobs instead of being unpacked. */
        public boolean windows() {
            return WindowsLayers.isWindowsImage(os);
        }
    }

    /**
     * The name a container made from this image as {@code requested} reports in its status: the request's
     * reference in full ({@code busybox:1.36} is {@code docker.io/library/busybox:1.36}) when it names this image by
     * tag or digest; else (an image id, or a name that has moved on) the image's first tag, or {@code requested}.
     */
    public String reportedName(String requested) {
        return asked(requested).orElse(repoTags.isEmpty() ? requested : repoTags.getFirst());
    }

    /**
     * The reference to the image's content a container made from it as {@code requested} reports: the
     * {@code name@sha256:...} it was pulled as from the request's repository, else its first, else the image id. The
     * kubelet shows it as the container's {@code imageID}, and the field's runtimes set it to the repository digest.
     */
    public String reportedRef(String requested) {
        String repository = ImageReference.tryParse(requested).map(r -> r.name() + "@").orElse(null);
        return repoDigests.stream().filter(d -> repository != null && d.startsWith(repository)).findFirst()
                .orElse(repoDigests.isEmpty() ? id : repoDigests.getFirst());
    }

    /** {@code requested} in full, when it names this image by one of its tags or digests. */
    private java.util.Optional<String> asked(String requested) {
        return ImageReference.tryParse(requested).map(ImageReference::toString)
                .filter(r -> repoTags.contains(r) || repoDigests.contains(r));
    }

    /** CRI's {@code Image.uid}: the user part of {@link #user()} when it is numeric, else empty. */
    public java.util.OptionalLong uid() {
        String u = userPart();
        if (UserResolver.isNumber(u)) {
            return java.util.OptionalLong.of(Long.parseLong(u));
        }
        return java.util.OptionalLong.empty();
    }

    /** CRI's {@code Image.username}: the user part of {@link #user()} when it is a name, else empty. */
    public String username() {
        return uid().isPresent() ? "" : userPart();
    }

    private String userPart() {
        int colon = user.indexOf(':');
        return colon < 0 ? user : user.substring(0, colon);
    }
}
