package dev.berth.core.cri;

import com.google.protobuf.Message;
import dev.berth.core.cri.legacy.LegacyMethod;
import dev.berth.core.cri.legacy.Proto2Cri;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import dev.berth.core.explain.ObjectHistory;
import dev.berth.core.metrics.Metrics;
import dev.berth.core.tracing.Tracing;
import dev.berth.core.util.NonBlocking;

/**
 * Builds the gRPC services berth serves from its RPC classes: {@code runtime.v1.RuntimeService} and
 * {@code runtime.v1.ImageService}, and the same handlers again as {@code runtime.v1alpha2.*}.
 *
 * <p>Every method of the contract is bound: one without an RPC class answers UNIMPLEMENTED with a message
 * naming it. v1alpha2 reuses the v1 handlers and their message classes: the two versions share field numbers
 * for every field v1alpha2 has, so a v1alpha2 request parses as the v1 message and a v1 response reads as
 * v1alpha2 (fields v1alpha2 lacks are skipped by its parser as unknown fields). The proto2 CRI's
 * {@code runtime.*} services differ from v1 in a few fields, so their methods keep their own messages and are mapped
 * onto the v1 RPC classes by {@link Proto2Cri} (docs/api-versions.md).
 *
 * <p>Every method is bound with a lenient request marshaller ({@link LenientRequests}): a request that does not
 * parse is answered INVALID_ARGUMENT naming the method and the parser's reason, before any RPC class runs.
 *
 * <p>Every call, answered by an RPC class or not, ends in {@link #log}: one log line, and the RPC metrics (by
 * method, API version, handler, plugin and status code), the pod, container, handler and plugin as attributes of
 * the call's span (when tracing is on), and, for calls that change or fail on a pod or container, the object's
 * history ({@code berth explain}).
 */
public final class CriServer {
    private static final System.Logger LOG = System.getLogger("berth.rpc");
    /** The {@code api_version} label of the proto2 CRI and the draft's alias ({@code package runtime}). */
    private static final String LEGACY_VERSION = "runtime";
    /** The {@code api_version} label of berth's admin service. */
    private static final String ADMIN_VERSION = "admin";

    /** Method name to its handler for an API version ("v1", "v1alpha2"). */
    private final Map<String, Function<String, ServerCallHandler<?, ?>>> handlers = new HashMap<>();
    private final Metrics metrics;
    private final Map<String, UnaryRpc<?, ?>> unaryRpcs = new HashMap<>();
    private final ObjectHistory history;
    private final InlineReads inlineReads = new InlineReads();

    public CriServer(List<UnaryRpc<?, ?>> unary, List<StreamingRpc<?, ?>> streaming) {
        this(unary, streaming, Metrics.disabled());
    }

    public CriServer(List<UnaryRpc<?, ?>> unary, List<StreamingRpc<?, ?>> streaming, Metrics metrics) {
        this(unary, streaming, metrics, null);
    }

    /** With every call that changes or fails on a pod or container told to {@code history} (berth explain). */
    public CriServer(List<UnaryRpc<?, ?>> unary, List<StreamingRpc<?, ?>> streaming, Metrics metrics,
                     ObjectHistory history) {
        this.metrics = metrics;
        this.history = history;
        for (UnaryRpc<?, ?> rpc : unary) {
            handlers.put(rpc.method().getBareMethodName(), version -> unaryHandler(rpc, version));
            unaryRpcs.put(rpc.method().getBareMethodName(), rpc);
        }
        for (StreamingRpc<?, ?> rpc : streaming) {
            handlers.put(rpc.method().getBareMethodName(), version -> streamingHandler(rpc, version));
        }
    }

    /**
     * The service definitions: runtime.v1 and runtime.v1alpha2, runtime and image, and the proto2 CRI's
     * {@code runtime.RuntimeService} and {@code runtime.ImageService} ({@link Proto2Cri}), and berth's admin service.
     */
    public List<ServerServiceDefinition> services() {
        List<ServerServiceDefinition> out = new ArrayList<>(v1AndAdmin());
        out.addAll(olderContracts());
        return out;
    }

    /**
     * What a server serves: runtime.v1 and the admin service built now, and the older contracts behind a registry
     * that builds them on the first call to any method it is asked for. Building a contract's services initialises
     * every message class it has; a kubelet calls runtime.v1 alone, so a start need not pay for three others.
     */
    public record Served(List<ServerServiceDefinition> now, io.grpc.HandlerRegistry onFirstCall,
                         InlineReads inlineReads) {}

    public Served served() {
        return new Served(v1AndAdmin(), new OnFirstCall(this::olderContracts), inlineReads);
    }

    /** runtime.v1's RuntimeService and ImageService. */
    private static List<ServiceDescriptor> v1() {
        return List.of(dev.berth.cri.v1.RuntimeServiceGrpc.getServiceDescriptor(),
                dev.berth.cri.v1.ImageServiceGrpc.getServiceDescriptor());
    }

    private List<ServerServiceDefinition> v1AndAdmin() {
        List<ServerServiceDefinition> out = new ArrayList<>();
        for (ServiceDescriptor sd : v1()) {
            // By name, not descriptor: the bound methods carry berth's lenient request marshaller.
            var b = ServerServiceDefinition.builder(sd.getName());
            for (MethodDescriptor<?, ?> m : sd.getMethods()) {
                bind(b, m, m, "v1");
            }
            out.add(b.build());
        }
        // berth's own admin service (berth.admin.v1), bound like CRI: same logging and error mapping.
        var admin = dev.berth.admin.v1.AdminServiceGrpc.getServiceDescriptor();
        var ab = ServerServiceDefinition.builder(admin.getName());
        for (MethodDescriptor<?, ?> m : admin.getMethods()) {
            bind(ab, m, m, ADMIN_VERSION);
        }
        out.add(ab.build());
        return out;
    }

    /** runtime.v1alpha2, and the proto2 CRI's and the draft's {@code runtime.*} services. */
    private List<ServerServiceDefinition> olderContracts() {
        List<ServerServiceDefinition> out = new ArrayList<>();
        Map<String, MethodDescriptor<?, ?>> v1Methods = new HashMap<>();
        for (ServiceDescriptor sd : v1()) {
            for (MethodDescriptor<?, ?> m : sd.getMethods()) {
                v1Methods.put(m.getBareMethodName(), m);
            }
        }
        for (ServiceDescriptor sd : List.of(dev.berth.cri.v1alpha2.RuntimeServiceGrpc.getServiceDescriptor(),
                dev.berth.cri.v1alpha2.ImageServiceGrpc.getServiceDescriptor())) {
            var b = ServerServiceDefinition.builder(sd.getName());
            for (MethodDescriptor<?, ?> alpha : sd.getMethods()) {
                MethodDescriptor<?, ?> m = v1Methods.get(alpha.getBareMethodName());
                if (m == null) {
                    throw new IllegalStateException("v1alpha2 method " + alpha.getFullMethodName() + " has no v1 twin");
                }
                bind(b, m.toBuilder().setFullMethodName(alpha.getFullMethodName()).build(), m, "v1alpha2");
            }
            out.add(b.build());
        }
        for (var service : Proto2Cri.services().entrySet()) {
            var b = ServerServiceDefinition.builder(service.getKey());
            service.getValue().forEach(m -> bindLegacy(b, m));
            out.add(b.build());
        }
        return out;
    }

    /** A registry of services built once, on the first lookup. */
    static final class OnFirstCall extends io.grpc.HandlerRegistry {
        private final java.util.function.Supplier<List<ServerServiceDefinition>> build;
        private volatile List<ServerServiceDefinition> services;
        private volatile Map<String, io.grpc.ServerMethodDefinition<?, ?>> methods;

        OnFirstCall(java.util.function.Supplier<List<ServerServiceDefinition>> build) {
            this.build = build;
        }

        private Map<String, io.grpc.ServerMethodDefinition<?, ?>> methods() {
            var m = methods;
            if (m == null) {
                synchronized (this) {
                    if (methods == null) {
                        Map<String, io.grpc.ServerMethodDefinition<?, ?>> all = new HashMap<>();
                        List<ServerServiceDefinition> built = List.copyOf(build.get());
                        for (ServerServiceDefinition d : built) {
                            d.getMethods().forEach(md -> all.put(md.getMethodDescriptor().getFullMethodName(), md));
                        }
                        services = built;
                        methods = Map.copyOf(all);
                    }
                    m = methods;
                }
            }
            return m;
        }

        /** Whether the services were built (for tests). */
        boolean built() {
            return methods != null;
        }

        @Override
        public io.grpc.ServerMethodDefinition<?, ?> lookupMethod(String methodName, String authority) {
            return methods().get(methodName);
        }

        @Override
        public List<ServerServiceDefinition> getServices() {
            methods();
            return services;
        }
    }

    /**
     * One service of its own, every method bound to this server's RPC classes by name (or UNIMPLEMENTED), with the
     * same lenient parsing, NUL-byte check, error mapping, log line and metrics (labelled {@code version}) as CRI:
     * for the legacy APIs served on sockets of their own (the containerd 0.2 API).
     */
    public ServerServiceDefinition service(ServiceDescriptor sd, String version) {
        var b = ServerServiceDefinition.builder(sd.getName());
        for (MethodDescriptor<?, ?> m : sd.getMethods()) {
            bind(b, m, m, version);
        }
        return b.build();
    }

    /**
     * Binds a method of an older contract to the runtime.v1 RPC class it maps to: the request is parsed as the older
     * message (leniently, like every method), checked for NUL bytes, mapped, served, and the response mapped back;
     * one log line and one error mapping, as for any RPC.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private void bindLegacy(ServerServiceDefinition.Builder b, LegacyMethod m) {
        MethodDescriptor as = m.method();
        UnaryRpc v1 = unaryRpcs.get(m.v1Method());
        ServerCallHandler h = v1 == null
                ? ServerCalls.asyncUnaryCall((req, obs) -> unimplemented(as.getFullMethodName(), LEGACY_VERSION,
                        (StreamObserver<?>) obs))
                : unaryHandler(new UnaryRpc<Message, Message>() {
                    @Override
                    public MethodDescriptor<Message, Message> method() {
                        return as;
                    }

                    @Override
                    public Message call(Message request, RpcContext ctx) {
                        return m.fromV1().apply((Message) v1.call(m.toV1().apply(request), ctx));
                    }
                }, LEGACY_VERSION);
        b.addMethod(LenientRequests.lenient(as), rejectingMalformed(as.getFullMethodName(), LEGACY_VERSION, h));
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private void bind(ServerServiceDefinition.Builder b, MethodDescriptor as, MethodDescriptor v1, String version) {
        Function<String, ServerCallHandler<?, ?>> make = handlers.get(v1.getBareMethodName());
        ServerCallHandler h;
        if (make == null) {
            String name = as.getFullMethodName();
            h = v1.getType() == MethodDescriptor.MethodType.UNARY
                    ? ServerCalls.asyncUnaryCall((req, obs) -> unimplemented(name, version, (StreamObserver<?>) obs))
                    : ServerCalls.asyncServerStreamingCall(
                            (req, obs) -> unimplemented(name, version, (StreamObserver<?>) obs));
        } else {
            h = make.apply(version);
            if (unaryRpcs.get(v1.getBareMethodName()) instanceof InlineRead) {
                inlineReads.add(as.getFullMethodName());
            }
        }
        b.addMethod(LenientRequests.lenient(as), rejectingMalformed(as.getFullMethodName(), version, h));
    }

    /**
     * Wraps {@code h} so that a request that did not parse is answered INVALID_ARGUMENT naming {@code fullName}
     * and the reason, as is one with a NUL byte in a string (naming the field), and any other is handed on
     * unwrapped. These are the checks every request gets before its RPC class sees it.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private ServerCallHandler rejectingMalformed(String fullName, String version, ServerCallHandler h) {
        String bare = fullName.substring(fullName.lastIndexOf('/') + 1);
        return (call, headers) -> {
            ServerCall.Listener inner = h.startCall(call, headers);
            return new ForwardingServerCallListener.SimpleForwardingServerCallListener(inner) {
                private boolean rejected;

                @Override
                public void onMessage(Object message) {
                    Status refused = switch ((LenientRequests.Parsed<?>) message) {
                        case LenientRequests.Parsed.Ok<?> ok -> ok.mayHoldNul() ? nulRefusal(ok.message(), bare) : null;
                        case LenientRequests.Parsed.Malformed<?> m -> Status.INVALID_ARGUMENT.withDescription(
                                "malformed " + fullName + " request: " + m.reason());
                    };
                    if (refused == null) {
                        super.onMessage(((LenientRequests.Parsed.Ok<?>) message).message());
                    } else {
                        rejected = true;
                        log(bare, version, new RpcContext(), refused, System.nanoTime());
                        call.close(refused, new Metadata());
                    }
                }

                @Override
                public void onHalfClose() {
                    if (!rejected) {
                        super.onHalfClose();
                    }
                }
            };
        };
    }

    private void unimplemented(String name, String version, StreamObserver<?> obs) {
        if (!WarmUp.active()) { // the daemon's calls to itself after its start count nowhere
            LOG.log(System.Logger.Level.INFO, "rpc={0} code=UNIMPLEMENTED", name);
            metrics.rpc(name.substring(name.lastIndexOf('/') + 1), version, "", "", Status.Code.UNIMPLEMENTED.name(),
                    0);
        }
        obs.onError(Status.UNIMPLEMENTED.withDescription("berth does not implement " + name + " yet")
                .asRuntimeException());
    }

    private <Q, R> ServerCallHandler<Q, R> unaryHandler(UnaryRpc<Q, R> rpc, String version) {
        String name = rpc.method().getBareMethodName();
        boolean inlineRead = rpc instanceof InlineRead;
        return ServerCalls.asyncUnaryCall((Q req, StreamObserver<R> obs) -> {
            java.util.concurrent.Executor offload = inlineRead ? inlineReads.offload() : null;
            long start = System.nanoTime();
            if (offload == null) {
                respond(rpc, name, version, req, obs, false, start);
            } else if (!respond(rpc, name, version, req, obs, true, start)) {
                // It would block the transport thread: run it again where it may.
                try {
                    offload.execute(io.grpc.Context.current().wrap(
                            Tracing.wrap(() -> respond(rpc, name, version, req, obs, false, start))));
                } catch (java.util.concurrent.RejectedExecutionException closing) {
                    Status s = Status.UNAVAILABLE.withDescription("berth is shutting down");
                    log(name, version, new RpcContext(), s, start);
                    obs.onError(s.asRuntimeException());
                }
            }
        });
    }

    /**
     * Runs one unary call and answers it; false, having done nothing, when {@code nonBlocking} and the call would
     * block ({@link InlineRead}).
     */
    private <Q, R> boolean respond(UnaryRpc<Q, R> rpc, String name, String version, Q req, StreamObserver<R> obs,
                                   boolean nonBlocking, long start) {
        RpcContext ctx = new RpcContext(io.grpc.Context.current()::isCancelled);
        R resp;
        try {
            resp = nonBlocking ? NonBlocking.call(() -> rpc.call(req, ctx)) : rpc.call(req, ctx);
        } catch (NonBlocking.WouldBlock wouldBlock) {
            return false;
        } catch (Throwable t) {
            Status s = Errors.toStatus(t, name);
            log(name, version, ctx, s, start);
            obs.onError(s.asRuntimeException());
            if (t instanceof Error e && !(t instanceof LinkageError)) {
                throw e;
            }
            return true;
        }
        log(name, version, ctx, Status.OK, start);
        obs.onNext(resp);
        obs.onCompleted();
        return true;
    }

    /** INVALID_ARGUMENT naming the field when a string in {@code request} holds a NUL byte; else null. */
    private static Status nulRefusal(Object request, String method) {
        try {
            if (request instanceof com.google.protobuf.Message m) {
                Validation.noNulBytes(m);
            }
            return null;
        } catch (RuntimeException e) {
            return Errors.toStatus(e, method);
        }
    }

    static boolean isRead(String method) {
        return method.startsWith("List") || method.endsWith("Status") || method.endsWith("Stats")
                || method.equals("Version") || method.equals("ImageFsInfo") || method.equals("RuntimeConfig");
    }

    /**
     * The calls a kubelet makes all day: the reads, and ExecSync, which runs its exec probes (one per probe and pod
     * every few seconds). When they succeed they are logged at DEBUG and left out of the object's history, which
     * would otherwise hold nothing but probes within minutes; a failure is logged and kept like any other.
     */
    static boolean isPolled(String method) {
        return isRead(method) || method.equals("ExecSync");
    }

    private <Q, R> ServerCallHandler<Q, R> streamingHandler(StreamingRpc<Q, R> rpc, String version) {
        String name = rpc.method().getBareMethodName();
        return ServerCalls.asyncServerStreamingCall((Q req, StreamObserver<R> obs) -> {
            RpcContext ctx = new RpcContext();
            long start = System.nanoTime();
            try {
                rpc.call(req, (ServerCallStreamObserver<R>) obs, ctx);
                log(name, version, ctx, Status.OK, start);
            } catch (Throwable t) {
                Status s = Errors.toStatus(t, name);
                log(name, version, ctx, s, start);
                try {
                    obs.onError(s.asRuntimeException());
                } catch (IllegalStateException alreadyClosed) {
                    // The client went away first.
                }
            }
        });
    }

    /**
     * One line per call: what changes the node at INFO; reads (the kubelet polls List*, *Status, *Stats and Version
     * every few seconds per pod) at DEBUG, so that a busy node's log is not all polling; failures at WARNING. The
     * same facts go to the RPC metrics.
     */
    private void log(String name, String version, RpcContext ctx, Status s, long start) {
        if (WarmUp.active()) {
            return; // the daemon's calls to itself after its start count nowhere
        }
        long nanos = System.nanoTime() - start;
        long micros = nanos / 1000;
        metrics.rpc(name, version, ctx.handlerName(), ctx.pluginId(), s.getCode().name(), nanos);
        Tracing.annotateRpc(ctx.podId(), ctx.containerId(), ctx.handlerName(), ctx.pluginId());
        if (history != null && (!s.isOk() || !isPolled(name)) && !ADMIN_VERSION.equals(version)) {
            history.rpc(name, ctx.podId(), ctx.containerId(), s.getCode().name(), s.getDescription(), nanos);
        }
        System.Logger.Level level = !s.isOk() ? System.Logger.Level.WARNING
                : isPolled(name) ? System.Logger.Level.DEBUG : System.Logger.Level.INFO;
        if (LOG.isLoggable(level)) {
            LOG.log(level, "rpc=" + name + ctx.describe() + " code=" + s.getCode()
                    + (s.getDescription() == null ? "" : " msg=\"" + s.getDescription() + "\"")
                    + " took=" + String.format("%.1fms", micros / 1000.0));
        }
    }
}
