package dev.berth.core.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The daemon's effective configuration: built-in defaults, overlaid by {@code /etc/berth/config.toml} and then
 * by every {@code config.d/*.toml} drop-in in lexical order. Every key is optional.
 *
 * @param socket where CRI is served: a unix socket, a Windows named pipe or TCP ({@link CriEndpoint})
 * @param runtimes handler name to handler config, sorted by name
 * @param healthInterval how often each handler's backend health checks run (their results are cached)
 * @param logFormat {@code text} or {@code json} (one JSON object per line)
 * @param warmUpRounds how many rounds of the kubelet's polled read calls the daemon makes to itself over its socket
 *                     right after it starts, so that the first real calls find compiled code; 0 for none
 * @param cdiSpecDirs the directories CDI device specs are read from, lowest priority first (a spec in a later
 *                    directory overrides one of the same device in an earlier); empty turns CDI off
 */
public record BerthConfig(
        CriEndpoint socket,
        Path root,
        Path state,
        String defaultRuntime,
        SortedMap<String, Handler> runtimes,
        Path pluginsDir,
        Images images,
        Network network,
        Streaming streaming,
        String logLevel,
        Duration healthInterval,
        Metrics metrics,
        Tracing tracing,
        String logFormat,
        Legacy legacy,
        int warmUpRounds,
        List<Path> cdiSpecDirs) {

    /** One handler: a backend type plus options that core passes to the type's factory unread. */
    public record Handler(String type, Map<String, Object> options) {
        public Handler {
            Objects.requireNonNull(type, "type is null");
            options = options == null ? Map.of() : Map.copyOf(options);
        }
    }

    /**
     * The image service's settings. {@code volatileRootfs}: containers' writable layers are mounted with overlay's
     * {@code volatile} option where the kernel has it (see {@code RootfsSnapshots}).
     */
    public record Images(Path registryConfigPath, String sandboxImage, int maxConcurrentDownloads,
                         Duration pullProgressTimeout, boolean volatileRootfs) {}

    public record Network(Path cniConfDir, List<Path> cniBinDirs, Duration pluginTimeout) {
        public Network {
            cniBinDirs = List.copyOf(cniBinDirs);
        }
    }

    public record Streaming(String address, int port, Path tlsCert, Path tlsKey, Duration idleTimeout) {}

    /**
     * The Prometheus listener: {@code host:port} ({@code [v6]:port}; an empty host is every interface), or empty
     * for none. Port 0 picks a free port.
     */
    public record Metrics(String address) {
        public Metrics {
            address = address == null ? "" : address.strip();
        }

        public boolean enabled() {
            return !address.isEmpty();
        }

        /** The host part, without brackets; empty for every interface. */
        public String host() {
            int colon = address.lastIndexOf(':');
            String h = colon < 0 ? "" : address.substring(0, colon);
            return h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
        }

        /** The port, or -1 when the address has none that parses. */
        public int port() {
            int colon = address.lastIndexOf(':');
            try {
                return colon < 0 ? -1 : Integer.parseInt(address.substring(colon + 1));
            } catch (NumberFormatException e) {
                return -1;
            }
        }
    }

    /**
     * OpenTelemetry tracing (docs/tracing.md): the OTLP/HTTP endpoint ({@code http://host:4318}, the base URL that
     * {@code /v1/traces} is appended to), or empty for none unless the {@code OTEL_*} variables turn it on; the
     * sampling ratio of root spans (null: the SDK's default, every span; a client's sampled parent is followed);
     * the service name spans carry.
     */
    public record Tracing(String endpoint, Double samplingRatio, String serviceName) {
        public Tracing {
            endpoint = endpoint == null ? "" : endpoint.strip();
            serviceName = serviceName == null || serviceName.isBlank() ? "berth" : serviceName;
        }
    }

    /**
     * Legacy APIs served on sockets of their own ({@code [legacy]}, docs/api-versions.md): the containerd 0.2 API's
     * socket (null: not served) and the handler whose backend runs its containers (empty: the default handler).
     */
    public record Legacy(Path containerdApiSocket, String containerdApiHandler) {
        public Legacy {
            containerdApiHandler = containerdApiHandler == null ? "" : containerdApiHandler;
        }
    }

    public BerthConfig {
        legacy = legacy == null ? new Legacy(null, "") : legacy;
        logFormat = logFormat == null ? "text" : logFormat;
        runtimes = new TreeMap<>(runtimes);
        metrics = metrics == null ? new Metrics("") : metrics;
        tracing = tracing == null ? new Tracing("", null, "berth") : tracing;
        cdiSpecDirs = cdiSpecDirs == null ? List.of() : List.copyOf(cdiSpecDirs);
    }

    /**
     * The warm-up's default: 250 rounds, enough for each polled call's code to pass the 200 calls after which the
     * launcher's JIT settings compile a berth method (docs/performance.md).
     */
    public static final int DEFAULT_WARM_UP_ROUNDS = 250;
    /** The most rounds a config may ask for. */
    public static final int MAX_WARM_UP_ROUNDS = 10_000;

    /** The default handler table: one {@code runc} handler of type {@code runc}. */
    public static SortedMap<String, Handler> defaultRuntimes() {
        SortedMap<String, Handler> m = new TreeMap<>();
        m.put("runc", new Handler("runc", Map.of()));
        return m;
    }

    /** The built-in defaults, used when no config file exists; paths are this host's ({@link PlatformDefaults}). */
    public static BerthConfig defaults() {
        PlatformDefaults p = PlatformDefaults.forHost();
        return new BerthConfig(
                p.socket(),
                p.root(),
                p.state(),
                "runc",
                defaultRuntimes(),
                null,
                new Images(p.registryConfigPath(), "registry.k8s.io/pause:3.10", 3, Duration.ofMinutes(1), true),
                new Network(p.cniConfDir(), p.cniBinDirs(), Duration.ofSeconds(60)),
                new Streaming("127.0.0.1", 0, null, null, Duration.ofHours(4)),
                "info",
                Duration.ofSeconds(10),
                new Metrics(""),
                null,
                null,
                null,
                DEFAULT_WARM_UP_ROUNDS,
                p.cdiSpecDirs());
    }

    /** The handler used for an empty {@code runtime_handler}. */
    public Handler defaultHandler() {
        return runtimes.get(defaultRuntime);
    }
}
