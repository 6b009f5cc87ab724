package dev.berth.core.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import dev.berth.spi.BackendException;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Registry host configuration in containerd's layout: {@code <configPath>/<host>/hosts.toml}, falling back to
 * {@code <configPath>/_default/hosts.toml}. The {@code [host."…"]} entries are tried first, in file order, then
 * {@code server} (when {@code server} is absent, the registry itself). When {@code server} names a mirror, the
 * real registry is never contacted.
 *
 * <p>Supported keys, at top level and in each host table: {@code server} (top level only),
 * {@code capabilities} ({@code pull}, {@code resolve}, {@code push}), {@code skip_verify}, {@code ca} (a path or
 * a list), {@code client} (a path, a list of paths, or a list of {@code [cert, key]} pairs; PEM, PKCS#8 keys),
 * {@code header} (a table of strings or lists of strings) and {@code override_path}. Relative paths are resolved
 * against the host's directory.
 */
public final class RegistryHosts {

    /** One place to pull from. {@code base} is {@code scheme://authority} plus the API path (usually {@code /v2}). */
    public record Endpoint(String host, URI base, Set<String> capabilities, boolean skipVerify, List<Path> ca,
                           List<Path[]> clientCerts, Map<String, List<String>> headers) {
        boolean canResolve() {
            return capabilities.contains("resolve");
        }

        boolean canPull() {
            return capabilities.contains("pull");
        }

        /** Key for sharing an HTTP client between endpoints with the same TLS settings. */
        String tlsKey() {
            StringBuilder sb = new StringBuilder().append(skipVerify).append('|').append(ca).append('|');
            clientCerts.forEach(c -> sb.append(c[0]).append(',').append(c[1]).append(';'));
            return sb.toString();
        }
    }

    private static final Set<String> DEFAULT_CAPS = Set.of("pull", "resolve", "push");
    private final Path configPath;
    private final TomlMapper toml = new TomlMapper();

    public RegistryHosts(Path configPath) {
        this.configPath = configPath;
    }

    /** The endpoints for a registry host ({@code docker.io}, {@code 127.0.0.1:5000}), in the order to try. */
    public List<Endpoint> endpoints(String registryHost) {
        Path file = null;
        if (configPath != null) {
            for (String dir : List.of(registryHost, registryHost.replace(':', '_'), "_default")) {
                Path candidate = configPath.resolve(dir).resolve("hosts.toml");
                if (!dir.contains("/") && !dir.contains("..") && Files.isRegularFile(candidate)) {
                    file = candidate;
                    break;
                }
            }
        }
        if (file == null) {
            return List.of(defaultEndpoint(registryHost, DEFAULT_CAPS));
        }
        JsonNode root;
        try {
            root = toml.readTree(file.toFile());
        } catch (IOException e) {
            throw new BackendException(BackendException.Kind.INVALID_ARGUMENT, "failed to read registry config \""
                    + file + "\": " + e.getMessage());
        }
        Path dir = file.getParent();
        List<Endpoint> endpoints = new ArrayList<>();
        JsonNode hosts = root.path("host");
        for (var it = hosts.properties().iterator(); it.hasNext(); ) {
            var entry = it.next();
            endpoints.add(endpoint(registryHost, entry.getKey(), entry.getValue(), dir, file));
        }
        String server = root.path("server").asText("");
        Endpoint upstream = server.isEmpty()
                ? defaultEndpoint(registryHost, capabilities(root, file))
                : endpoint(registryHost, server, root, dir, file);
        if (endpoints.stream().noneMatch(e -> e.base().equals(upstream.base()))) {
            endpoints.add(upstream);
        }
        return List.copyOf(endpoints);
    }

    private static Endpoint defaultEndpoint(String registryHost, Set<String> caps) {
        String authority = registryHost.equals(ImageReference.DOCKER_DOMAIN) ? "registry-1.docker.io" : registryHost;
        boolean local = authority.startsWith("localhost") || authority.startsWith("127.")
                || authority.startsWith("[::1]");
        // containerd uses plain HTTP only when configured, except for localhost; berth does the same.
        String scheme = local ? "http" : "https";
        return new Endpoint(registryHost, URI.create(scheme + "://" + authority + "/v2"), caps, false, List.of(),
                List.of(), Map.of());
    }

    private Endpoint endpoint(String registryHost, String url, JsonNode table, Path dir, Path file) {
        URI uri;
        try {
            uri = URI.create(url.contains("://") ? url : "https://" + url);
        } catch (IllegalArgumentException e) {
            throw configError(file, "host \"" + url + "\" is not a URL");
        }
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getAuthority() == null) {
            throw configError(file, "host \"" + url + "\" must be an http or https URL");
        }
        String path = uri.getRawPath() == null ? "" : uri.getRawPath().replaceAll("/+$", "");
        if (path.isEmpty()) {
            path = "/v2";
        } else if (!table.path("override_path").asBoolean(false) && !path.endsWith("/v2")) {
            path = path + "/v2";
        }
        URI base = URI.create(uri.getScheme() + "://" + uri.getRawAuthority() + path);
        List<Path> ca = new ArrayList<>();
        for (JsonNode n : asList(table.path("ca"))) {
            ca.add(dir.resolve(n.asText()));
        }
        List<Path[]> certs = new ArrayList<>();
        for (JsonNode n : asList(table.path("client"))) {
            if (n.isArray()) {
                if (n.size() != 2) {
                    throw configError(file, "client entries must be [cert, key] pairs");
                }
                certs.add(new Path[] {dir.resolve(n.get(0).asText()), dir.resolve(n.get(1).asText())});
            } else {
                Path cert = dir.resolve(n.asText());
                String name = cert.getFileName().toString();
                Path key = cert.resolveSibling(name.replaceAll("\\.(cert|crt|pem)$", "") + ".key");
                certs.add(new Path[] {cert, key});
            }
        }
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (var it = table.path("header").properties().iterator(); it.hasNext(); ) {
            var h = it.next();
            List<String> values = new ArrayList<>();
            asList(h.getValue()).forEach(v -> values.add(v.asText()));
            headers.put(h.getKey(), List.copyOf(values));
        }
        return new Endpoint(registryHost, base, capabilities(table, file), table.path("skip_verify").asBoolean(false),
                List.copyOf(ca), List.copyOf(certs), Map.copyOf(headers));
    }

    private static Set<String> capabilities(JsonNode table, Path file) {
        JsonNode caps = table.path("capabilities");
        if (caps.isMissingNode()) {
            return DEFAULT_CAPS;
        }
        Set<String> out = new java.util.HashSet<>();
        for (JsonNode c : asList(caps)) {
            String s = c.asText();
            if (!DEFAULT_CAPS.contains(s)) {
                throw configError(file, "unknown capability \"" + s + "\"");
            }
            out.add(s);
        }
        return Set.copyOf(out);
    }

    private static List<JsonNode> asList(JsonNode node) {
        if (node.isMissingNode() || node.isNull()) {
            return List.of();
        }
        if (node.isArray()) {
            List<JsonNode> out = new ArrayList<>();
            node.forEach(out::add);
            return out;
        }
        return List.of(node);
    }

    private static BackendException configError(Path file, String why) {
        return BackendException.invalid("failed to read registry config \"" + file + "\": " + why);
    }
}
