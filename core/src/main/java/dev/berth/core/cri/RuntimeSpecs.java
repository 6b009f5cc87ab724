package dev.berth.core.cri;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.core.dispatch.Handler;
import dev.berth.core.util.NonBlocking;
import dev.berth.spi.BackendException;
import dev.berth.spi.SpecReading;
import java.util.Optional;
import java.util.function.Function;

/**
 * The OCI runtime spec a backend with {@link SpecReading} gives, for the {@code runtimeSpec} of a verbose
 * ContainerStatus or PodSandboxStatus. A verbose status still answers without it: a backend that lacks the
 * capability, has no spec, fails, or gives text that is not one JSON object of at most {@link #MAX_CHARS}
 * characters leaves it out (logged at debug).
 */
public final class RuntimeSpecs {
    /** The most text taken from a backend: an OCI spec is a few kilobytes, a large seccomp profile some hundred. */
    public static final int MAX_CHARS = 4 << 20;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final System.Logger LOG = System.getLogger(RuntimeSpecs.class.getName());

    private RuntimeSpecs() {}

    /** The container's spec from {@code h}'s backend; {@code h} may be null (its handler is not configured). */
    public static Optional<JsonNode> ofContainer(Handler h, String containerId) {
        return read(h, r -> r.containerRuntimeSpec(containerId), "container " + containerId);
    }

    /** The spec of the pod's sandbox from {@code h}'s backend; {@code h} may be null. */
    public static Optional<JsonNode> ofSandbox(Handler h, String sandboxId) {
        return read(h, r -> r.sandboxRuntimeSpec(sandboxId), "sandbox " + sandboxId);
    }

    private static Optional<JsonNode> read(Handler h, Function<SpecReading, Optional<String>> ask, String what) {
        if (h == null || !h.has(SpecReading.class)) {
            return Optional.empty();
        }
        NonBlocking.beforeBlocking(); // the backend reads a file
        try {
            Optional<String> text = ask.apply(h.require(SpecReading.class, "reading runtime specs"));
            if (text.isEmpty()) {
                return Optional.empty();
            }
            if (text.get().length() > MAX_CHARS) {
                LOG.log(System.Logger.Level.DEBUG, "runtime spec of {0} left out: {1} characters, over {2}", what,
                        text.get().length(), MAX_CHARS);
                return Optional.empty();
            }
            JsonNode tree = JSON.readTree(text.get());
            if (tree == null || !tree.isObject()) {
                LOG.log(System.Logger.Level.DEBUG, "runtime spec of {0} left out: not a JSON object", what);
                return Optional.empty();
            }
            return Optional.of(tree);
        } catch (BackendException | JsonProcessingException e) {
            LOG.log(System.Logger.Level.DEBUG, "runtime spec of {0} left out: {1}", what, e.getMessage());
            return Optional.empty();
        }
    }
}
