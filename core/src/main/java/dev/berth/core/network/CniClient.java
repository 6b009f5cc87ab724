package dev.berth.core.network;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.core.network.CniPluginExecutor.CniPluginException;
import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a {@link CniConfig} plugin list for one attachment, as libcni does: ADD through the plugins in order, each
 * getting the previous plugin's result as {@code prevResult}; DEL in reverse order and CHECK in order, both with the
 * cached final ADD result (spec 0.4.0 and later); STATUS (spec 1.1.0 and later) per plugin.
 *
 * <p>Each plugin's stdin is its own config plus the list's {@code name} and {@code cniVersion}, and a
 * {@code runtimeConfig} holding only the capability arguments the plugin declares in {@code capabilities}.
 */
final class CniClient {
    private final CniPluginExecutor executor;

    CniClient(CniPluginExecutor executor) {
        this.executor = executor;
    }

    CniPluginExecutor executor() {
        return executor;
    }

    /** Where and for whom the plugins run. {@code netns} may be empty for DEL when the namespace is gone. */
    record Attachment(String containerId, String netns, String ifName, String cniArgs) {
        Map<String, String> env() {
            Map<String, String> env = new HashMap<>();
            env.put("CNI_CONTAINERID", containerId);
            if (!netns.isEmpty()) {
                env.put("CNI_NETNS", netns);
            }
            env.put("CNI_IFNAME", ifName);
            if (!cniArgs.isEmpty()) {
                env.put("CNI_ARGS", cniArgs);
            }
            return env;
        }
    }

    /** Runs ADD through the list; returns the final result (never null; an empty object if no plugin printed one). */
    ObjectNode add(CniConfig config, Attachment attachment, ObjectNode runtimeConfig) throws CniPluginException {
        JsonNode prevResult = null;
        for (ObjectNode plugin : config.plugins()) {
            String type = plugin.path("type").asText();
            byte[] out = executor.exec(type, "ADD", attachment.env(),
                    stdin(config, plugin, runtimeConfig, prevResult));
            JsonNode result = parseResult(type, out);
            if (result != null) {
                prevResult = result;
            }
        }
        return prevResult instanceof ObjectNode object ? object : CniConfig.JSON.createObjectNode();
    }

    /**
     * Runs DEL through the list in reverse. Every plugin is tried even if an earlier one failed, so as much as possible
     * is released; the first failure is thrown at the end.
     */
    void del(CniConfig config, Attachment attachment, ObjectNode runtimeConfig, JsonNode cachedResult)
            throws CniPluginException {
        JsonNode prevResult = config.versionAtLeast(0, 4) && cachedResult != null && !cachedResult.isEmpty()
                ? cachedResult : null;
        List<ObjectNode> plugins = config.plugins();
        CniPluginException first = null;
        for (int i = plugins.size() - 1; i >= 0; i--) {
            ObjectNode plugin = plugins.get(i);
            try {
                executor.exec(plugin.path("type").asText(), "DEL", attachment.env(),
                        stdin(config, plugin, runtimeConfig, prevResult));
            } catch (CniPluginException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** Runs CHECK through the list; a no-op for specs before 0.4.0 or when the list sets {@code disableCheck}. */
    void check(CniConfig config, Attachment attachment, ObjectNode runtimeConfig, JsonNode cachedResult)
            throws CniPluginException {
        if (!config.versionAtLeast(0, 4) || config.disableCheck()) {
            return;
        }
        for (ObjectNode plugin : config.plugins()) {
            executor.exec(plugin.path("type").asText(), "CHECK", attachment.env(),
                    stdin(config, plugin, runtimeConfig, cachedResult));
        }
    }

    /** Runs STATUS on every plugin; a no-op before spec 1.1.0, which introduced it. */
    void status(CniConfig config) throws CniPluginException {
        if (!config.versionAtLeast(1, 1)) {
            return;
        }
        for (ObjectNode plugin : config.plugins()) {
            executor.exec(plugin.path("type").asText(), "STATUS", Map.of(),
                    stdin(config, plugin, CniConfig.JSON.createObjectNode(), null));
        }
    }

    /** The stdin for one plugin: its config, the list's name and version, prevResult and filtered runtimeConfig. */
    static byte[] stdin(CniConfig config, ObjectNode plugin, ObjectNode runtimeConfig, JsonNode prevResult) {
        ObjectNode conf = plugin.deepCopy();
        conf.put("cniVersion", config.cniVersion());
        conf.put("name", config.name());
        if (prevResult != null) {
            conf.set("prevResult", prevResult);
        } else {
            conf.remove("prevResult");
        }
        ObjectNode selected = CniConfig.JSON.createObjectNode();
        JsonNode capabilities = plugin.path("capabilities");
        for (Map.Entry<String, JsonNode> capability : capabilities.properties()) {
            if (capability.getValue().asBoolean(false) && runtimeConfig.has(capability.getKey())) {
                selected.set(capability.getKey(), runtimeConfig.get(capability.getKey()));
            }
        }
        if (!selected.isEmpty()) {
            conf.set("runtimeConfig", selected);
        }
        try {
            return CniConfig.JSON.writeValueAsBytes(conf);
        } catch (IOException e) {
            throw new IllegalStateException("cannot serialise a JSON tree", e);
        }
    }

    private static JsonNode parseResult(String type, byte[] out) throws CniPluginException {
        if (out.length == 0 || new String(out, java.nio.charset.StandardCharsets.UTF_8).isBlank()) {
            return null;
        }
        try {
            JsonNode result = CniConfig.JSON.readTree(out);
            if (result == null || !result.isObject()) {
                throw new CniPluginException(type, "ADD", "result is not a JSON object", -1, false);
            }
            return result;
        } catch (IOException e) {
            throw new CniPluginException(type, "ADD", "unparsable result: " + firstLine(e.getMessage()), -1, false);
        }
    }

    private static String firstLine(String text) {
        if (text == null) {
            return "";
        }
        int nl = text.indexOf('\n');
        return nl < 0 ? text : text.substring(0, nl);
    }
}
