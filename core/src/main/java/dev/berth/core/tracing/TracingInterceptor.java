package dev.berth.core.tracing;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One server span per RPC, named {@code package.Service/Method} with the RPC semantic conventions' attributes
 * ({@code rpc.system}, {@code rpc.service}, {@code rpc.method}, {@code rpc.grpc.status_code}). Its parent is the
 * client's trace context from the call's {@code traceparent} (and {@code tracestate}) metadata, as the kubelet sends
 * when its own tracing is on. The span is current while the call's listener runs, so that the RPC class's backend
 * calls, CNI calls, pulls and record writes become its children; it ends when the call is closed or cancelled.
 */
final class TracingInterceptor implements ServerInterceptor {
    static final AttributeKey<Long> STATUS_CODE = AttributeKey.longKey("rpc.grpc.status_code");

    private static final TextMapGetter<Metadata> METADATA = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Metadata carrier) {
            return carrier.keys();
        }

        @Override
        public String get(Metadata carrier, String key) {
            return carrier == null ? null : carrier.get(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
        }
    };

    private final Tracer tracer;

    TracingInterceptor(Tracer tracer) {
        this.tracer = tracer;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                      ServerCallHandler<Q, R> next) {
        Context parent = W3CTraceContextPropagator.getInstance().extract(Context.root(), headers, METADATA);
        var method = call.getMethodDescriptor();
        String service = method.getServiceName();
        String bare = method.getBareMethodName();
        Span span = tracer.spanBuilder(method.getFullMethodName()).setParent(parent).setSpanKind(SpanKind.SERVER)
                .setAttribute("rpc.system", "grpc")
                .setAttribute("rpc.service", service == null ? "" : service)
                .setAttribute("rpc.method", bare == null ? "" : bare)
                .startSpan();
        Context context = parent.with(span);
        AtomicBoolean ended = new AtomicBoolean();
        ServerCall<Q, R> traced = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                end(span, ended, status);
                super.close(status, trailers);
            }
        };
        ServerCall.Listener<Q> listener;
        try (Scope ignored = context.makeCurrent()) {
            listener = next.startCall(traced, headers);
        }
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onMessage(Q message) {
                try (Scope ignored = context.makeCurrent()) {
                    super.onMessage(message);
                }
            }

            @Override
            public void onHalfClose() {
                try (Scope ignored = context.makeCurrent()) {
                    super.onHalfClose();
                }
            }

            @Override
            public void onCancel() {
                try (Scope ignored = context.makeCurrent()) {
                    super.onCancel();
                } finally {
                    end(span, ended, Status.CANCELLED);
                }
            }

            @Override
            public void onComplete() {
                try (Scope ignored = context.makeCurrent()) {
                    super.onComplete();
                }
            }

            @Override
            public void onReady() {
                try (Scope ignored = context.makeCurrent()) {
                    super.onReady();
                }
            }
        };
    }

    private static void end(Span span, AtomicBoolean ended, Status status) {
        if (!ended.compareAndSet(false, true)) {
            return;
        }
        span.setAttribute(STATUS_CODE, (long) status.getCode().value());
        if (!status.isOk()) {
            span.setStatus(StatusCode.ERROR, status.getCode() + (status.getDescription() == null ? ""
                    : ": " + status.getDescription()));
        }
        span.end();
    }
}
