package dev.berth.core.metrics;

import dev.berth.core.config.BerthConfig;
import dev.berth.core.config.ConfigException;
import dev.berth.core.dispatch.BackendProxy;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendHealth;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.util.function.Consumer;

/**
 * berth's Prometheus metrics: one registry per daemon, the metrics in it, and the optional HTTP listener that
 * serves them ({@code [metrics] address}). Every metric and its labels are listed in docs/metrics.md.
 *
 * <p>One instance is made per daemon and handed to what records into it (the CRI edge, the backend proxies, the
 * image service, pod networking, the record stores); there is no global registry, so tests can run daemons side
 * by side. {@link #disabled()} records nothing: every method returns at once, so a daemon without a listener pays
 * one branch per call.
 *
 * <p>Labels stay bounded: handler, plugin, method, operation, network, status code and result, never a pod,
 * container or image name.
 */
public final class Metrics implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Metrics.class.getName());
    private static final double NANOS = 1e9;
    /** From a fast List call (sub-millisecond) to a slow image pull or a stop with a long grace period. */
    private static final double[] LATENCY = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
            5, 10, 30, 60, 120};

    private static final Metrics DISABLED = new Metrics(null, null);

    private final PrometheusRegistry registry;
    private final BerthConfig.Metrics config;
    private final boolean on;
    private HTTPServer server;

    private final Histogram rpcDuration;
    private final Counter rpcs;
    private final Histogram backendDuration;
    private final Counter backendFailures;
    private final Gauge handlerHealthy;
    private final Histogram pullDuration;
    private final Counter pullBytes;
    private final Histogram unpackDuration;
    private final Histogram cniDuration;
    private final Counter cniFailures;
    private final Histogram recordWrite;

    private Metrics(PrometheusRegistry registry, BerthConfig.Metrics config) {
        this.registry = registry;
        this.config = config;
        this.on = registry != null;
        if (!on) {
            rpcDuration = null;
            rpcs = null;
            backendDuration = null;
            backendFailures = null;
            handlerHealthy = null;
            pullDuration = null;
            pullBytes = null;
            unpackDuration = null;
            cniDuration = null;
            cniFailures = null;
            recordWrite = null;
            return;
        }
        rpcDuration = histogram("berth_cri_request_duration_seconds",
                "Time berth took to answer a CRI RPC, by method, API version, handler, plugin and gRPC status code.",
                "method", "api_version", "handler", "plugin", "code");
        rpcs = Counter.builder().name("berth_cri_requests_total")
                .help("CRI RPCs answered, by method, API version, handler, plugin and gRPC status code.")
                .labelNames("method", "api_version", "handler", "plugin", "code").withoutExemplars()
                .register(registry);
        backendDuration = histogram("berth_backend_call_duration_seconds",
                "Time a backend (plugin) call took, by plugin, handler and SPI operation.",
                "plugin", "handler", "operation");
        backendFailures = Counter.builder().name("berth_backend_call_failures_total")
                .help("Backend calls that threw, by plugin, handler, SPI operation and error kind.")
                .labelNames("plugin", "handler", "operation", "kind").withoutExemplars().register(registry);
        handlerHealthy = Gauge.builder().name("berth_handler_healthy")
                .help("1 if the handler's backend said it was ready the last time berth asked (the Status RPC asks "
                        + "the default handler), else 0; absent until it was asked.")
                .labelNames("handler", "plugin").withoutExemplars().register(registry);
        pullDuration = histogram("berth_image_pull_duration_seconds",
                "Time an image pull took, by result (success or the error kind).", "result");
        pullBytes = Counter.builder().name("berth_image_pull_bytes_total")
                .help("Layer bytes downloaded from registries by image pulls.").withoutExemplars().register(registry);
        unpackDuration = histogram("berth_image_layer_unpack_duration_seconds",
                "Time unpacking one layer into a snapshot took.");
        cniDuration = histogram("berth_cni_operation_duration_seconds",
                "Time a CNI ADD or DEL of a pod's network took, by operation and network name.",
                "operation", "network");
        cniFailures = Counter.builder().name("berth_cni_operation_failures_total")
                .help("CNI ADD and DEL calls that failed, by operation and network name.")
                .labelNames("operation", "network").withoutExemplars().register(registry);
        recordWrite = histogram("berth_record_write_duration_seconds",
                "Time writing one record (temp file, fsync, rename) took, by store.", "store");
        JvmMetrics.builder().register(registry);
    }

    private Histogram histogram(String name, String help, String... labels) {
        return Histogram.builder().name(name).help(help).labelNames(labels).classicOnly().classicUpperBounds(LATENCY)
                .withoutExemplars().register(registry);
    }

    /** Metrics that record nothing and serve nothing. */
    public static Metrics disabled() {
        return DISABLED;
    }

    /** A registry with every metric, served on {@code config.address()} by {@link #listen()}; none if disabled. */
    public static Metrics fromConfig(BerthConfig.Metrics config) {
        return config.enabled() ? new Metrics(new PrometheusRegistry(), config) : DISABLED;
    }

    public boolean enabled() {
        return on;
    }

    /** The registry, for callback metrics of other parts and for tests; null when disabled. */
    public PrometheusRegistry registry() {
        return registry;
    }

    /**
     * Starts the HTTP listener ({@code /metrics} in the Prometheus text format, or OpenMetrics when the scraper
     * asks for it); returns the port it bound, or -1 when disabled. Idempotent.
     *
     * @throws ConfigException when the address cannot be bound (in use, not an address of this node)
     */
    public synchronized int listen() {
        if (!on) {
            return -1;
        }
        if (server == null) {
            try {
                var b = HTTPServer.builder().registry(registry).port(config.port());
                if (!config.host().isEmpty()) {
                    b.hostname(config.host());
                }
                server = b.buildAndStart();
            } catch (IOException e) {
                throw new ConfigException("metrics.address: cannot listen on " + config.address() + ": "
                        + e.getMessage(), e);
            }
            LOG.log(System.Logger.Level.INFO, "serving Prometheus metrics on http://{0}:{1,number,#}/metrics",
                    config.host().isEmpty() ? "*" : config.host().contains(":") ? "[" + config.host() + "]"
                            : config.host(), server.getPort());
        }
        return server.getPort();
    }

    @Override
    public synchronized void close() {
        if (server != null) {
            server.close();
            server = null;
        }
    }

    /** Registers a metric of another part (gauges computed at scrape time); ignored when disabled. */
    public void register(Consumer<PrometheusRegistry> registration) {
        if (on) {
            registration.accept(registry);
        }
    }

    // ------------------------------------------------------------------------------------------------- CRI

    /** One CRI RPC answered. Empty handler and plugin when the call touched none. */
    public void rpc(String method, String apiVersion, String handler, String plugin, String code, long nanos) {
        if (!on) {
            return;
        }
        rpcDuration.labelValues(method, apiVersion, handler, plugin, code).observe(nanos / NANOS);
        rpcs.labelValues(method, apiVersion, handler, plugin, code).inc();
    }

    // --------------------------------------------------------------------------------------------- backends

    /** What the backend proxies report to; {@link BackendProxy.Observer#NONE} when disabled. */
    public BackendProxy.Observer backendObserver() {
        if (!on) {
            return BackendProxy.Observer.NONE;
        }
        return new BackendProxy.Observer() {
            @Override
            public void call(String plugin, String handler, String operation, Throwable failure, long nanos) {
                backendDuration.labelValues(plugin, handler, operation).observe(nanos / NANOS);
                if (failure != null) {
                    String kind = failure instanceof BackendException be ? be.kind().name().toLowerCase()
                            : "internal";
                    backendFailures.labelValues(plugin, handler, operation, kind).inc();
                }
            }

            @Override
            public void health(String plugin, String handler, BackendHealth health) {
                handlerHealthy.labelValues(handler, plugin).set(health.ready() ? 1 : 0);
            }
        };
    }

    // ------------------------------------------------------------------------------------------------ images

    /** One image pull ended: {@code failure} null for success. */
    public void imagePull(BackendException.Kind failure, long nanos) {
        if (on) {
            pullDuration.labelValues(failure == null ? "success" : failure.name().toLowerCase()).observe(nanos / NANOS);
        }
    }

    /** Layer bytes a pull downloaded. */
    public void imagePullBytes(long bytes) {
        if (on && bytes > 0) {
            pullBytes.inc(bytes);
        }
    }

    public void layerUnpacked(long nanos) {
        if (on) {
            unpackDuration.observe(nanos / NANOS);
        }
    }

    // ----------------------------------------------------------------------------------------------- network

    /** One CNI ADD or DEL of a network list ({@code operation} "add" or "del"). */
    public void cni(String operation, String network, boolean failed, long nanos) {
        if (!on) {
            return;
        }
        cniDuration.labelValues(operation, network).observe(nanos / NANOS);
        if (failed) {
            cniFailures.labelValues(operation, network).inc();
        }
    }

    // ----------------------------------------------------------------------------------------------- records

    /** One record written to {@code store} ("sandboxes", "containers"). */
    public void recordWrite(String store, long nanos) {
        if (on) {
            recordWrite.labelValues(store).observe(nanos / NANOS);
        }
    }

    /** A gauge computed at scrape time. */
    public void gauge(String name, String help, Consumer<GaugeWithCallback.Callback> callback, String... labels) {
        register(r -> GaugeWithCallback.builder().name(name).help(help).labelNames(labels).callback(callback)
                .register(r));
    }

    /** A counter whose value is read at scrape time. */
    public void counter(String name, String help, Consumer<CounterWithCallback.Callback> callback, String... labels) {
        register(r -> CounterWithCallback.builder().name(name).help(help).labelNames(labels).callback(callback)
                .register(r));
    }
}
