package dev.berth.core.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Loads the config: built-in defaults, then the main file, then {@code config.d/*.toml} beside it in lexical
 * order. Tables merge key by key; a later scalar or list replaces an earlier one. Unknown keys and wrong types
 * are errors that name the file, line and key.
 *
 * <p>The {@code runtimes} table is the one exception to "defaults, then files": if any file defines
 * {@code runtimes}, the files' handlers replace the built-in {@code runc} handler rather than adding to it, so an
 * operator can run a node without runc.
 */
public final class ConfigLoader {
    /** Where the daemon looks when no {@code --config} is given. */
    public static final Path DEFAULT_FILE = PlatformDefaults.forHost().configFile();

    private static final Set<String> TOP = Set.of("socket", "root", "state", "default_runtime", "runtimes",
            "plugins_dir", "images", "network", "streaming", "log_level", "health_interval",
            "metrics", "tracing", "log_format", "legacy", "warm_up_rounds", "cdi_spec_dirs");
    private static final Set<String> LEGACY = Set.of("containerd_api_socket", "containerd_api_handler");
    private static final Set<String> HANDLER = Set.of("type", "options");
    private static final Set<String> IMAGES = Set.of("registry_config_path", "sandbox_image",
            "max_concurrent_downloads", "pull_progress_timeout", "volatile_rootfs");
    private static final Set<String> NETWORK = Set.of("cni_conf_dir", "cni_bin_dirs", "plugin_timeout");
    private static final Set<String> STREAMING = Set.of("address", "port", "tls_cert", "tls_key", "idle_timeout");
    private static final Set<String> METRICS = Set.of("address");
    private static final Set<String> TRACING = Set.of("endpoint", "sampling_ratio", "service_name");
    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");

    private final TomlMapper mapper = new TomlMapper();
    /** Dotted key to "file:line" (or just "file") of the last file that set it. */
    private final Map<String, String> origins = new LinkedHashMap<>();

    /** The result: the effective config, the files read, and where each key came from. */
    public record Loaded(BerthConfig config, List<Path> files, Map<String, String> origins) {
        /** "file:line: " for a key, or "" when the key came from the defaults. */
        public String where(String key) {
            String o = origins.get(key);
            return o == null ? "" : o + ": ";
        }
    }

    /**
     * Loads {@code main} and its drop-ins. A missing main file is fine when {@code required} is false (the
     * default location); a missing file named on the command line is an error.
     */
    public static Loaded load(Path main, boolean required) {
        return new ConfigLoader().doLoad(main, required);
    }

    private Loaded doLoad(Path main, boolean required) {
        List<Path> files = new ArrayList<>();
        if (Files.exists(main)) {
            files.add(main);
        } else if (required) {
            throw new ConfigException(main + ": no such file");
        }
        Path dropins = (main.getParent() == null ? Path.of(".") : main.getParent()).resolve("config.d");
        if (Files.isDirectory(dropins)) {
            try (Stream<Path> s = Files.list(dropins)) {
                s.filter(p -> p.getFileName().toString().endsWith(".toml")).sorted().forEach(files::add);
            } catch (IOException e) {
                throw new ConfigException(dropins + ": cannot list drop-ins: " + e.getMessage());
            }
        }
        Map<String, Object> merged = new LinkedHashMap<>();
        for (Path f : files) {
            merge(merged, read(f), "", f, TomlLines.locate(readText(f)));
        }
        BerthConfig config = bind(merged);
        return new Loaded(config, List.copyOf(files), Map.copyOf(origins));
    }

    private String readText(Path f) {
        try {
            return Files.readString(f);
        } catch (NoSuchFileException e) {
            throw new ConfigException(f + ": no such file");
        } catch (IOException e) {
            throw new ConfigException(f + ": cannot read: " + e.getMessage());
        }
    }

    private Map<String, Object> read(Path f) {
        String text = readText(f);
        try {
            Map<String, Object> m = mapper.readValue(text, new TypeReference<LinkedHashMap<String, Object>>() {});
            return m == null ? Map.of() : m;
        } catch (JacksonException e) {
            var loc = e.getLocation();
            String line = loc != null && loc.getLineNr() > 0 ? ":" + loc.getLineNr() : "";
            String msg = e.getOriginalMessage();
            throw new ConfigException(f + line + ": invalid TOML: " + firstLine(msg));
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "parse error";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    @SuppressWarnings("unchecked")
    private void merge(Map<String, Object> into, Map<String, Object> from, String prefix, Path file,
                       Map<String, Integer> lines) {
        for (var e : from.entrySet()) {
            String key = prefix + e.getKey();
            Integer line = lines.get(key);
            origins.put(key, line == null ? file.toString() : file + ":" + line);
            Object existing = into.get(e.getKey());
            if (e.getValue() instanceof Map<?, ?> m && existing instanceof Map<?, ?> old) {
                Map<String, Object> copy = new LinkedHashMap<>((Map<String, Object>) old);
                merge(copy, (Map<String, Object>) m, key + ".", file, lines);
                into.put(e.getKey(), copy);
            } else {
                if (e.getValue() instanceof Map<?, ?> m) {
                    recordOrigins((Map<String, Object>) m, key + ".", file, lines);
                }
                into.put(e.getKey(), e.getValue());
            }
        }
    }

    @SuppressWarnings("unchecked")
    private void recordOrigins(Map<String, Object> m, String prefix, Path file, Map<String, Integer> lines) {
        for (var e : m.entrySet()) {
            String key = prefix + e.getKey();
            Integer line = lines.get(key);
            origins.put(key, line == null ? file.toString() : file + ":" + line);
            if (e.getValue() instanceof Map<?, ?> sub) {
                recordOrigins((Map<String, Object>) sub, key + ".", file, lines);
            }
        }
    }

    private BerthConfig bind(Map<String, Object> m) {
        BerthConfig d = BerthConfig.defaults();
        checkKeys(m, TOP, "");
        Map<String, Object> images = table(m, "images");
        Map<String, Object> network = table(m, "network");
        Map<String, Object> streaming = table(m, "streaming");
        checkKeys(images, IMAGES, "images.");
        checkKeys(network, NETWORK, "network.");
        checkKeys(streaming, STREAMING, "streaming.");
        Map<String, Object> metricsTable = table(m, "metrics");
        checkKeys(metricsTable, METRICS, "metrics.");
        var metrics = new BerthConfig.Metrics(string(metricsTable, "address", "", "metrics.address"));
        if (metrics.enabled() && (metrics.port() < 0 || metrics.port() > 65535 || !metrics.address().contains(":")
                || (metrics.host().contains(":") && !metrics.address().startsWith("[")))) {
            throw error("metrics.address", "expected host:port (such as \"127.0.0.1:9093\", \"[::1]:9093\" or "
                    + "\":9093\" for every interface) or \"\" for no metrics listener, got \"" + metrics.address() + "\"");
        }
        BerthConfig.Tracing tracing = tracing(table(m, "tracing"));

        SortedMap<String, BerthConfig.Handler> runtimes = d.runtimes();
        if (m.containsKey("runtimes")) {
            runtimes = new TreeMap<>();
            for (var e : table(m, "runtimes").entrySet()) {
                String key = "runtimes." + e.getKey();
                if (!(e.getValue() instanceof Map<?, ?>)) {
                    throw error(key, "expected a table [" + key + "]");
                }
                Map<String, Object> h = table(table(m, "runtimes"), e.getKey(), key);
                checkKeys(h, HANDLER, key + ".");
                String type = string(h, "type", null, key + ".type");
                if (type == null || type.isBlank()) {
                    throw error(key, "handler \"" + e.getKey() + "\" needs a type, e.g. type = \"runc\"");
                }
                if (e.getKey().isBlank()) {
                    throw error(key, "handler names must not be empty");
                }
                runtimes.put(e.getKey(), new BerthConfig.Handler(type, table(h, "options", key + ".options")));
            }
        }
        String defaultRuntime = string(m, "default_runtime", d.defaultRuntime(), "default_runtime");
        if (!runtimes.containsKey(defaultRuntime)) {
            throw error(m.containsKey("default_runtime") ? "default_runtime" : "runtimes",
                    "default_runtime \"" + defaultRuntime + "\" is not a configured handler (configured: "
                            + String.join(", ", runtimes.keySet()) + ")");
        }
        String logLevel = string(m, "log_level", d.logLevel(), "log_level");
        if (!Set.of("error", "warn", "info", "debug").contains(logLevel)) {
            throw error("log_level", "expected one of error, warn, info, debug, got \"" + logLevel + "\"");
        }
        String logFormat = string(m, "log_format", d.logFormat(), "log_format");
        if (!Set.of("text", "json").contains(logFormat)) {
            throw error("log_format", "expected text or json, got \"" + logFormat + "\"");
        }
        Duration healthInterval = duration(m, "health_interval", d.healthInterval(), "health_interval");
        if (healthInterval.toMillis() < 100) {
            throw error("health_interval", "must be at least 100ms, got " + healthInterval.toMillis() + "ms");
        }
        int warmUpRounds = integer(m, "warm_up_rounds", d.warmUpRounds(), "warm_up_rounds");
        if (warmUpRounds < 0 || warmUpRounds > BerthConfig.MAX_WARM_UP_ROUNDS) {
            throw error("warm_up_rounds", "must be between 0 and " + BerthConfig.MAX_WARM_UP_ROUNDS + ", got "
                    + warmUpRounds);
        }
        var di = d.images();
        var dn = d.network();
        var ds = d.streaming();
        int port = integer(streaming, "port", ds.port(), "streaming.port");
        if (port < 0 || port > 65535) {
            throw error("streaming.port", "port must be between 0 and 65535, got " + port);
        }
        int downloads = integer(images, "max_concurrent_downloads", di.maxConcurrentDownloads(),
                "images.max_concurrent_downloads");
        if (downloads < 1) {
            throw error("images.max_concurrent_downloads", "must be at least 1, got " + downloads);
        }
        return new BerthConfig(
                endpoint(m, d.socket()),
                path(m, "root", d.root(), "root"),
                path(m, "state", d.state(), "state"),
                defaultRuntime,
                runtimes,
                path(m, "plugins_dir", d.pluginsDir(), "plugins_dir"),
                new BerthConfig.Images(
                        path(images, "registry_config_path", di.registryConfigPath(), "images.registry_config_path"),
                        string(images, "sandbox_image", di.sandboxImage(), "images.sandbox_image"),
                        downloads,
                        duration(images, "pull_progress_timeout", di.pullProgressTimeout(),
                                "images.pull_progress_timeout"),
                        bool(images, "volatile_rootfs", di.volatileRootfs(), "images.volatile_rootfs")),
                new BerthConfig.Network(
                        path(network, "cni_conf_dir", dn.cniConfDir(), "network.cni_conf_dir"),
                        paths(network, "cni_bin_dirs", dn.cniBinDirs(), "network.cni_bin_dirs"),
                        duration(network, "plugin_timeout", dn.pluginTimeout(), "network.plugin_timeout")),
                new BerthConfig.Streaming(
                        string(streaming, "address", ds.address(), "streaming.address"),
                        port,
                        path(streaming, "tls_cert", ds.tlsCert(), "streaming.tls_cert"),
                        path(streaming, "tls_key", ds.tlsKey(), "streaming.tls_key"),
                        duration(streaming, "idle_timeout", ds.idleTimeout(), "streaming.idle_timeout")),
                logLevel,
                healthInterval,
                metrics,
                tracing,
                logFormat,
                legacy(table(m, "legacy")),
                warmUpRounds,
                cdiSpecDirs(m, d.cdiSpecDirs()));
    }

    private List<Path> cdiSpecDirs(Map<String, Object> m, List<Path> dflt) {
        List<Path> dirs = paths(m, "cdi_spec_dirs", dflt, "cdi_spec_dirs");
        for (Path p : dirs) {
            if (!p.isAbsolute()) {
                throw error("cdi_spec_dirs", "expected absolute paths, got \"" + p + "\"");
            }
        }
        return dirs;
    }

    private BerthConfig.Legacy legacy(Map<String, Object> l) {
        checkKeys(l, LEGACY, "legacy.");
        Path socket = path(l, "containerd_api_socket", null, "legacy.containerd_api_socket");
        if (socket != null && !socket.isAbsolute()) {
            throw error("legacy.containerd_api_socket", "expected an absolute path of a unix socket, got \"" + socket
                    + "\"");
        }
        return new BerthConfig.Legacy(socket, string(l, "containerd_api_handler", "",
                "legacy.containerd_api_handler"));
    }

    private BerthConfig.Tracing tracing(Map<String, Object> t) {
        checkKeys(t, TRACING, "tracing.");
        String endpoint = string(t, "endpoint", "", "tracing.endpoint").strip();
        if (!endpoint.isEmpty()) {
            java.net.URI uri;
            try {
                uri = new java.net.URI(endpoint);
            } catch (java.net.URISyntaxException e) {
                uri = null;
            }
            if (uri == null || !("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
                    || uri.getHost() == null) {
                throw error("tracing.endpoint", "expected the http:// or https:// URL of an OTLP/HTTP receiver (such "
                        + "as \"http://127.0.0.1:4318\") or \"\" for none, got \"" + endpoint + "\"");
            }
        }
        Double ratio = null;
        Object r = t.get("sampling_ratio");
        if (r != null) {
            if (!(r instanceof Number n) || !(n.doubleValue() >= 0 && n.doubleValue() <= 1)) {
                throw error("tracing.sampling_ratio", "expected a number from 0 to 1 (the share of traces "
                        + "sampled), got " + describe(r));
            }
            ratio = n.doubleValue();
        }
        String service = string(t, "service_name", "berth", "tracing.service_name");
        if (service.isBlank()) {
            throw error("tracing.service_name", "must not be empty");
        }
        return new BerthConfig.Tracing(endpoint, ratio, service);
    }

    private ConfigException error(String key, String message) {
        String o = origins.get(key);
        return new ConfigException((o == null ? "" : o + ": ") + key + ": " + message);
    }

    private void checkKeys(Map<String, Object> m, Set<String> allowed, String prefix) {
        for (String k : m.keySet()) {
            if (!allowed.contains(k)) {
                throw error(prefix + k, "unknown key (known keys here: " + String.join(", ", allowed.stream().sorted().toList()) + ")");
            }
        }
    }

    private Map<String, Object> table(Map<String, Object> m, String key) {
        return table(m, key, key);
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> table(Map<String, Object> m, String key, String full) {
        Object v = m.get(key);
        if (v == null) {
            return Map.of();
        }
        if (v instanceof Map<?, ?> t) {
            return (Map<String, Object>) t;
        }
        throw error(full, "expected a table, got " + describe(v));
    }

    private String string(Map<String, Object> m, String key, String dflt, String full) {
        return value(m, key, String.class, dflt, full, "a string");
    }

    /** The value at {@code key} if it is a {@code type}, {@code dflt} if absent, else an error naming {@code what}. */
    private <T> T value(Map<String, Object> m, String key, Class<T> type, T dflt, String full, String what) {
        Object v = m.get(key);
        if (v == null) {
            return dflt;
        }
        if (type.isInstance(v)) {
            return type.cast(v);
        }
        throw error(full, "expected " + what + ", got " + describe(v));
    }

    private Path path(Map<String, Object> m, String key, Path dflt, String full) {
        String s = string(m, key, null, full);
        if (s == null) {
            return dflt;
        }
        if (s.isBlank()) {
            throw error(full, "expected a path, got an empty string");
        }
        return Path.of(s);
    }

    private CriEndpoint endpoint(Map<String, Object> m, CriEndpoint dflt) {
        String s = string(m, "socket", null, "socket");
        if (s == null) {
            return dflt;
        }
        if (s.isBlank()) {
            throw error("socket", "expected a path, unix://PATH, npipe:////./pipe/NAME or tcp://[HOST]:PORT, got an "
                    + "empty string");
        }
        try {
            return CriEndpoint.parse(s);
        } catch (IllegalArgumentException e) {
            throw error("socket", e.getMessage());
        }
    }

    private List<Path> paths(Map<String, Object> m, String key, List<Path> dflt, String full) {
        Object v = m.get(key);
        if (v == null) {
            return dflt;
        }
        if (!(v instanceof List<?> l)) {
            throw error(full, "expected a list of paths, got " + describe(v));
        }
        List<Path> out = new ArrayList<>();
        for (Object o : l) {
            if (!(o instanceof String s) || s.isBlank()) {
                throw error(full, "expected a list of paths, found " + describe(o));
            }
            out.add(Path.of(s));
        }
        return out;
    }

    private int integer(Map<String, Object> m, String key, int dflt, String full) {
        Object v = m.get(key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof Integer i) {
            return i;
        }
        if (v instanceof Long l && l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE) {
            return l.intValue();
        }
        throw error(full, "expected an integer, got " + describe(v));
    }

    private boolean bool(Map<String, Object> m, String key, boolean dflt, String full) {
        return value(m, key, Boolean.class, dflt, full, "true or false");
    }

    private Duration duration(Map<String, Object> m, String key, Duration dflt, String full) {
        Object v = m.get(key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof Integer || v instanceof Long) {
            return Duration.ofSeconds(((Number) v).longValue());
        }
        if (v instanceof String s) {
            Matcher mt = DURATION.matcher(s.strip());
            if (mt.matches()) {
                long n = Long.parseLong(mt.group(1));
                return switch (mt.group(2)) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    default -> Duration.ofHours(n);
                };
            }
        }
        throw error(full, "expected a duration such as \"30s\", \"5m\" or a number of seconds, got " + describe(v));
    }

    private static String describe(Object v) {
        return switch (v) {
            case null -> "nothing";
            case String s -> "the string \"" + s + "\"";
            case Map<?, ?> ignored -> "a table";
            case List<?> ignored -> "a list";
            case Boolean b -> "the boolean " + b;
            default -> "the value " + v;
        };
    }
}
