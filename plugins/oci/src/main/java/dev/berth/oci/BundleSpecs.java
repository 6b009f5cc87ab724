package dev.berth.oci;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.oci.spec.OciJson;
import dev.berth.spi.BackendException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code config.json} of a bundle, as text, for {@link dev.berth.spi.SpecReading}; and the resources in it kept
 * current after an update, as containerd keeps its spec, so that {@code crictl inspect} shows the limits in force.
 */
public final class BundleSpecs {
    private BundleSpecs() {}

    /** The bundle's {@code config.json}, or empty when it has none; INTERNAL naming {@code what} if unreadable. */
    public static Optional<String> read(Path bundle, String what) {
        try {
            return Optional.of(Files.readString(bundle.resolve("config.json")));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new BackendException(BackendException.Kind.INTERNAL, "failed to read the runtime spec of " + what
                    + ": " + e.getMessage());
        }
    }

    /**
     * Merges {@code resources} (an OCI {@code linux.resources} object, as an update sent it to the runtime) into the
     * bundle's {@code config.json}: each object merged key by key, any other value replaced. Written atomically
     * (temp file, fsync, rename), so that a crash leaves the old spec or the new one. The runtime read the file at
     * create and does not read it again; the next reader is a restore from a checkpoint, which then gets the limits
     * in force. Does nothing for a bundle without a {@code config.json}.
     */
    public static void updateResources(Path bundle, Object resources) throws IOException {
        Path file = bundle.resolve("config.json");
        JsonNode spec;
        try {
            spec = OciJson.mapper().readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            return;
        }
        if (!(spec instanceof ObjectNode root)) {
            throw new IOException(file + " does not hold a JSON object");
        }
        JsonNode linux = root.path("linux");
        ObjectNode l = linux instanceof ObjectNode o ? o : root.putObject("linux");
        JsonNode current = l.path("resources");
        ObjectNode target = current instanceof ObjectNode o ? o : l.putObject("resources");
        merge(target, OciJson.mapper().valueToTree(resources));
        DurableFiles.write(file, OciJson.mapper().writeValueAsBytes(root));
    }

    private static void merge(ObjectNode into, JsonNode from) {
        for (Iterator<Map.Entry<String, JsonNode>> it = from.properties().iterator(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getValue() instanceof ObjectNode child && into.get(e.getKey()) instanceof ObjectNode existing) {
                merge(existing, child);
            } else {
                into.set(e.getKey(), e.getValue());
            }
        }
    }
}
