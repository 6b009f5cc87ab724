package dev.berth.core.image;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

/** The persisted state of the image store, written whole and atomically to {@code metadata.json}. */
final class Metadata {
    static final int VERSION = 1;

    /**
     * An image. {@code topDigest} is what the reference resolved to (an index or a manifest). {@code platform} and
     * {@code layerMediaTypes} (one per layer digest) are absent from metadata written before they were recorded:
     * they read as {@link Image.Platform#UNKNOWN} and an empty list.
     */
    record ImageMeta(String id, List<String> repoTags, List<String> repoDigests, String topDigest,
                     String manifestDigest, String configDigest, List<String> layerDigests, List<String> diffIds,
                     long size, String user, boolean pinned, Image.Platform platform, List<String> layerMediaTypes) {
        ImageMeta {
            repoTags = List.copyOf(repoTags);
            repoDigests = List.copyOf(repoDigests);
            layerDigests = List.copyOf(layerDigests);
            diffIds = List.copyOf(diffIds);
            platform = platform == null ? Image.Platform.UNKNOWN : platform;
            layerMediaTypes = layerMediaTypes == null ? List.of() : List.copyOf(layerMediaTypes);
        }

        /** Whether the image's layers are kept as blobs for the backend instead of being unpacked. */
        boolean windows() {
            return WindowsLayers.isWindowsImage(platform.os());
        }
    }

    /** An unpacked layer in {@code snapshots/<snapshot>/fs}. */
    record LayerMeta(String diffId, long snapshot, long bytes, long inodes) {
    }

    /**
     * A container's writable layer in {@code snapshots/<snapshot>/{fs,work}} over {@code lowers} (top first). For
     * a Windows image {@code snapshots/<snapshot>/fs} is the backend's scratch directory, {@code lowers} is empty
     * and {@code blobs} names the layer blobs handed to the backend, kept while the container exists (empty for
     * Linux images and in metadata written before it was recorded).
     */
    record ContainerMeta(String key, long snapshot, String imageId, List<Long> lowers, List<String> blobs) {
        ContainerMeta {
            lowers = List.copyOf(lowers);
            blobs = blobs == null ? List.of() : List.copyOf(blobs);
        }
    }

    record State(int version, Map<String, ImageMeta> images, Map<String, LayerMeta> layers,
                 Map<String, ContainerMeta> containers, long nextSnapshot) {
    }

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private Metadata() {
    }

    static State read(Path file) throws IOException {
        if (!Files.exists(file)) {
            return null;
        }
        return JSON.readValue(file.toFile(), State.class);
    }

    static void write(Path file, State state) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        byte[] data = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(state);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING); OutputStream out = Channels.newOutputStream(ch)) {
            out.write(data);
            out.flush();
            ch.force(true);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        ContentStore.fsyncDir(file.getParent());
    }

    static ObjectMapper json() {
        return JSON;
    }

    /** Parses a manifest, index or config, which must be a JSON object. */
    static com.fasterxml.jackson.databind.JsonNode parseObject(byte[] body, String what) {
        try {
            com.fasterxml.jackson.databind.JsonNode n = JSON.readTree(body);
            if (n == null || !n.isObject()) {
                throw dev.berth.spi.BackendException.invalid("failed to parse " + what + ": not a JSON object");
            }
            return n;
        } catch (IOException e) {
            throw dev.berth.spi.BackendException.invalid("failed to parse " + what + ": not valid JSON");
        }
    }
}
