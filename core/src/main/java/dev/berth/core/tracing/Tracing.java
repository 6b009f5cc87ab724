package dev.berth.core.tracing;

import dev.berth.core.BerthVersion;
import dev.berth.core.config.BerthConfig;
import io.grpc.ServerInterceptor;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.spi.ConfigurationException;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * berth's OpenTelemetry tracing: off unless the config's {@code [tracing]} table names an endpoint or the standard
 * {@code OTEL_*} variables ask for an OTLP exporter. Off, nothing of the SDK is started and every helper here
 * returns at once (the tracer is the API's no-op one).
 *
 * <p>On, the SDK is built by OpenTelemetry's autoconfigure module, so every {@code OTEL_*} variable it knows works
 * (endpoint, headers, timeout, sampler, resource attributes, batch settings); the {@code [tracing]} table gives
 * defaults that the variables override. Spans leave over OTLP/HTTP (protobuf), sent by the JDK's HttpClient.
 * Metrics and logs are never exported through OpenTelemetry (berth's metrics are Prometheus).
 *
 * <p>Spans: one server span per RPC ({@link TracingInterceptor}, parented on the client's W3C
 * {@code traceparent}), and child spans ({@link #child}) for backend calls, image pulls, CNI ADD and DEL and
 * record writes. A child is only made under a span: work outside any RPC (health checks, startup) is not traced.
 */
public final class Tracing implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Tracing.class.getName());
    private static final Tracing OFF = new Tracing(null);

    private static volatile Tracer tracer = OpenTelemetry.noop().getTracer("berth");
    private static volatile boolean on;

    private final OpenTelemetrySdk sdk;

    private Tracing(OpenTelemetrySdk sdk) {
        this.sdk = sdk;
    }

    /** Tracing that is off. */
    public static Tracing off() {
        return OFF;
    }

    /**
     * Starts tracing if {@code config} or {@code env} (the process environment) turn it on, and makes it the one
     * the helpers here use; otherwise returns {@link #off()}.
     *
     * @throws IllegalArgumentException naming the setting when the SDK cannot be configured
     */
    public static Tracing start(BerthConfig.Tracing config, Map<String, String> env) {
        if (!wanted(config, env)) {
            return OFF;
        }
        Map<String, String> defaults = new HashMap<>();
        defaults.put("otel.service.name", config.serviceName());
        defaults.put("otel.traces.exporter", "otlp");
        defaults.put("otel.exporter.otlp.protocol", "http/protobuf");
        if (!config.endpoint().isEmpty()) {
            defaults.put("otel.exporter.otlp.endpoint", config.endpoint());
        }
        if (config.samplingRatio() != null) {
            defaults.put("otel.traces.sampler", "parentbased_traceidratio");
            defaults.put("otel.traces.sampler.arg", Double.toString(config.samplingRatio()));
        }
        OpenTelemetrySdk sdk;
        try {
            sdk = AutoConfiguredOpenTelemetrySdk.builder()
                    .addPropertiesSupplier(() -> defaults)
                    // Metrics are Prometheus's and logs go to the journal: only traces leave through OpenTelemetry.
                    .addPropertiesCustomizer(p -> Map.of("otel.metrics.exporter", "none", "otel.logs.exporter", "none"))
                    .addResourceCustomizer((r, p) -> r.merge(io.opentelemetry.sdk.resources.Resource.builder()
                            .put("service.version", BerthVersion.VERSION).build()))
                    .disableShutdownHook()
                    .build()
                    .getOpenTelemetrySdk();
        } catch (ConfigurationException e) {
            throw new IllegalArgumentException("tracing: " + e.getMessage(), e);
        }
        Tracing t = new Tracing(sdk);
        tracer = sdk.getTracer("dev.berth", BerthVersion.VERSION);
        on = true;
        LOG.log(System.Logger.Level.INFO, "tracing on: OTLP/HTTP to {0}", describeEndpoint(config, env));
        return t;
    }

    /**
     * Whether tracing is asked for: not when {@code OTEL_SDK_DISABLED=true} or {@code OTEL_TRACES_EXPORTER=none};
     * yes when the config names an endpoint, an OTLP endpoint variable is set, or {@code OTEL_TRACES_EXPORTER}
     * names {@code otlp}.
     */
    static boolean wanted(BerthConfig.Tracing config, Map<String, String> env) {
        if ("true".equalsIgnoreCase(env.getOrDefault("OTEL_SDK_DISABLED", "").strip())) {
            return false;
        }
        String exporter = env.getOrDefault("OTEL_TRACES_EXPORTER", "").strip().toLowerCase(Locale.ROOT);
        if (exporter.equals("none")) {
            return false;
        }
        return !config.endpoint().isEmpty() || exporter.contains("otlp")
                || !env.getOrDefault("OTEL_EXPORTER_OTLP_ENDPOINT", "").isBlank()
                || !env.getOrDefault("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").isBlank();
    }

    private static String describeEndpoint(BerthConfig.Tracing config, Map<String, String> env) {
        String traces = env.getOrDefault("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "");
        if (!traces.isBlank()) {
            return traces;
        }
        String base = env.getOrDefault("OTEL_EXPORTER_OTLP_ENDPOINT", "");
        if (base.isBlank()) {
            base = config.endpoint().isEmpty() ? "http://localhost:4318" : config.endpoint();
        }
        return (base.endsWith("/") ? base : base + "/") + "v1/traces";
    }

    /** Whether tracing is on. */
    public static boolean enabled() {
        return on;
    }

    static Tracer tracer() {
        return tracer;
    }

    /** The interceptor that makes one server span per RPC, or null when tracing is off. */
    public ServerInterceptor interceptor() {
        return sdk == null ? null : new TracingInterceptor(tracer);
    }

    /** Sends what is buffered and stops the SDK; the helpers are no-ops again. */
    @Override
    public void close() {
        if (sdk == null) {
            return;
        }
        on = false;
        tracer = OpenTelemetry.noop().getTracer("berth");
        sdk.shutdown().join(10, TimeUnit.SECONDS);
    }

    /**
     * Adds what an RPC learned (the pod, container, handler and plugin it touched) to the current server span.
     * Empty values are left out.
     */
    public static void annotateRpc(String pod, String container, String handler, String plugin) {
        if (!on) {
            return;
        }
        Span span = Span.current();
        put(span, "berth.pod_id", pod);
        put(span, "berth.container_id", container);
        put(span, "berth.handler", handler);
        put(span, "berth.plugin", plugin);
    }

    private static void put(Span span, String key, String value) {
        if (value != null && !value.isEmpty()) {
            span.setAttribute(key, value);
        }
    }

    /**
     * Starts a child span of the current one, made current until closed; {@link Child#NONE} (which does nothing)
     * when tracing is off or no span is current.
     */
    public static Child child(String name) {
        if (!on) {
            return Child.NONE;
        }
        Context parent = Context.current();
        if (!Span.fromContext(parent).getSpanContext().isValid()) {
            return Child.NONE;
        }
        Span span = tracer.spanBuilder(name).setParent(parent).startSpan();
        return new Child(span, parent.with(span).makeCurrent());
    }

    /** {@link #child(String)} named {@code prefix + name}, concatenated only when a span is made. */
    public static Child child(String prefix, String name) {
        return on ? child(prefix + name) : Child.NONE;
    }

    /** {@code task} bound to the current trace context, for work handed to another thread. */
    public static Runnable wrap(Runnable task) {
        return on ? Context.current().wrap(task) : task;
    }

    /** A child span; closing it ends it. */
    public static final class Child implements AutoCloseable {
        public static final Child NONE = new Child(null, null);

        private final Span span;
        private final Scope scope;

        private Child(Span span, Scope scope) {
            this.span = span;
            this.scope = scope;
        }

        /** Sets an attribute, unless {@code value} is null or empty. */
        public Child attr(String key, String value) {
            if (span != null) {
                put(span, key, value);
            }
            return this;
        }

        /** Marks the span failed with {@code failure}'s message and records it; returns {@code failure}. */
        public <E extends Throwable> E fail(E failure) {
            if (span != null && failure != null) {
                span.recordException(failure);
                span.setStatus(StatusCode.ERROR, String.valueOf(failure.getMessage()));
            }
            return failure;
        }

        /** Runs {@code body} in this span, marking the span failed if it throws. */
        public <T> T call(Supplier<T> body) {
            try {
                return body.get();
            } catch (RuntimeException e) {
                throw fail(e);
            } catch (Error e) {
                throw fail(e);
            }
        }

        @Override
        public void close() {
            if (span != null) {
                scope.close();
                span.end();
            }
        }
    }
}
