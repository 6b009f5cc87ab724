package dev.berth.spi;

/** A pod's identity as the kubelet sees it. */
public record PodMetadata(String name, String uid, String namespace, int attempt) {
    public PodMetadata {
        name = Checks.id(name, "pod name");
        uid = Checks.text(uid);
        namespace = Checks.text(namespace);
        if (attempt < 0) {
            throw new IllegalArgumentException("attempt must not be negative");
        }
    }
}
