package dev.berth.core.network;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A CNI network configuration list, loaded from a {@code .conflist} or, for a single plugin, a {@code .conf} /
 * {@code .json} file (which becomes a one-plugin list).
 *
 * @param source       the file it was loaded from
 * @param name         the network name
 * @param cniVersion   the spec version the whole list speaks
 * @param disableCheck whether the list asks runtimes not to run CHECK
 * @param plugins      the plugin configurations in order, each with at least {@code type}
 * @param json         the whole list as JSON, persisted with each pod so DEL uses what ADD used
 */
record CniConfig(Path source, String name, String cniVersion, boolean disableCheck, List<ObjectNode> plugins,
                 ObjectNode json) {
    static final ObjectMapper JSON = new ObjectMapper();

    CniConfig {
        plugins = List.copyOf(plugins);
    }

    /** The plugin types in order. */
    List<String> pluginTypes() {
        return plugins.stream().map(p -> p.path("type").asText()).toList();
    }

    /** Whether the config's spec version is at least {@code major.minor}. */
    boolean versionAtLeast(int major, int minor) {
        return compareVersions(cniVersion, major + "." + minor + ".0") >= 0;
    }

    /**
     * Loads the network config berth uses from {@code dir}: the first {@code .conflist}, {@code .conf} or
     * {@code .json} file in lexical order, as containerd does. Empty when the directory is missing or holds no such
     * file. A first file that cannot be parsed is an error (it is not skipped), so the operator sees the problem.
     */
    static Optional<CniConfig> loadFirst(Path dir) throws InvalidConfigException {
        Optional<Path> first = firstConfigFile(dir);
        if (first.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(load(first.get()));
    }

    static Optional<Path> firstConfigFile(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(CniConfig::isConfigFile).filter(Files::isRegularFile).sorted().findFirst();
        } catch (NoSuchFileException | NotDirectoryException e) {
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    static boolean isConfigFile(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return !name.startsWith(".")
                && (name.endsWith(".conflist") || name.endsWith(".conf") || name.endsWith(".json"));
    }

    /** Loads one config file. */
    static CniConfig load(Path file) throws InvalidConfigException {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new InvalidConfigException("invalid CNI config " + file + ": " + firstLine(e.getMessage()));
        }
        if (root == null || !root.isObject()) {
            throw new InvalidConfigException("invalid CNI config " + file + ": not a JSON object");
        }
        return fromJson(file, (ObjectNode) root, file.getFileName().toString().endsWith(".conflist"));
    }

    static CniConfig fromJson(Path source, ObjectNode root, boolean isList) throws InvalidConfigException {
        String name = root.path("name").asText("");
        String version = root.path("cniVersion").asText("");
        if (name.isEmpty()) {
            throw new InvalidConfigException("invalid CNI config " + source + ": no network name");
        }
        if (version.isEmpty()) {
            // Plugins treat a missing version as 0.1.0, which has no prevResult and no CHECK.
            version = "0.1.0";
        }
        ObjectNode list;
        if (isList || root.has("plugins")) {
            JsonNode plugins = root.path("plugins");
            if (!plugins.isArray() || plugins.isEmpty()) {
                throw new InvalidConfigException("invalid CNI config " + source + ": no plugins in list");
            }
            list = root.deepCopy();
        } else {
            // A single-plugin .conf file: wrap it into a list, as libcni does.
            list = JSON.createObjectNode();
            list.put("cniVersion", version);
            list.put("name", name);
            ArrayNode plugins = list.putArray("plugins");
            plugins.add(root.deepCopy());
        }
        List<ObjectNode> plugins = new ArrayList<>();
        for (JsonNode plugin : list.path("plugins")) {
            if (!plugin.isObject() || plugin.path("type").asText("").isEmpty()) {
                throw new InvalidConfigException("invalid CNI config " + source + ": a plugin has no type");
            }
            String type = plugin.path("type").asText();
            if (type.contains("/") || type.equals(".") || type.equals("..")) {
                throw new InvalidConfigException("invalid CNI config " + source + ": bad plugin type \"" + type + "\"");
            }
            plugins.add((ObjectNode) plugin);
        }
        return new CniConfig(source, name, version, list.path("disableCheck").asBoolean(false), plugins, list);
    }

    /** Rebuilds a config persisted with a pod. */
    static CniConfig fromPersisted(Path source, ObjectNode list) throws InvalidConfigException {
        return fromJson(source, list, true);
    }

    /** Compares dotted versions numerically ("0.4.0" &lt; "1.0.0" &lt; "1.1.0"). */
    static int compareVersions(String a, String b) {
        String[] x = a.split("\\.");
        String[] y = b.split("\\.");
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            int c = Integer.compare(part(x, i), part(y, i));
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }

    private static int part(String[] parts, int i) {
        if (i >= parts.length) {
            return 0;
        }
        try {
            return Integer.parseInt(parts[i].replaceAll("[^0-9].*$", ""));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static String firstLine(String text) {
        if (text == null) {
            return "unreadable";
        }
        int nl = text.indexOf('\n');
        return nl < 0 ? text : text.substring(0, nl);
    }

    /** A config file exists but cannot be used. */
    static final class InvalidConfigException extends Exception {
        private static final long serialVersionUID = 1L;

        InvalidConfigException(String message) {
            super(message, null, false, false);
        }
    }
}
