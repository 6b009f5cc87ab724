package dev.berth.core.cri;

import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import java.io.InputStream;

/**
 * Request parsing that never throws, so that a malformed request reaches berth's handler and is answered there.
 *
 * <p>grpc-java parses a request with the method's request marshaller before any handler or interceptor of the
 * application sees it; when the protobuf parser throws (bytes that are not a message, a string field that is not
 * UTF-8, a length prefix past the end), the server closes the call with {@code UNKNOWN "Application error
 * processing RPC"} and the reason is lost. A {@link io.grpc.ServerInterceptor} cannot help: it wraps the listener
 * that receives the already parsed message. So berth binds every method with a request marshaller that wraps the
 * generated one and returns either the message or the parse failure ({@link Parsed}); the handler then answers
 * INVALID_ARGUMENT naming the method and the parser's reason, before any RPC class runs, so nothing is created.
 */
public final class LenientRequests {
    private LenientRequests() {}

    /** A request as it came off the wire: the message, or why it could not be read. */
    public sealed interface Parsed<Q> {
        /** A request that parsed. */
        record Ok<Q>(Q message) implements Parsed<Q> {}

        /** A request that did not parse; {@code reason} is the parser's one-line explanation. */
        record Malformed<Q>(String reason) implements Parsed<Q> {}
    }

    /**
     * {@code method} with a request marshaller that keeps parse failures instead of throwing them, and a response
     * marshaller that sends list items kept in wire form ({@link WireItems#encodingUnknownFields}).
     */
    public static <Q, R> MethodDescriptor<Parsed<Q>, R> lenient(MethodDescriptor<Q, R> method) {
        return method.toBuilder(new Marshaller<>(method.getRequestMarshaller()),
                WireItems.encodingUnknownFields(method.getResponseMarshaller())).build();
    }

    private record Marshaller<Q>(MethodDescriptor.Marshaller<Q> strict)
            implements MethodDescriptor.Marshaller<Parsed<Q>> {
        @Override
        public InputStream stream(Parsed<Q> value) {
            return switch (value) {
                case Parsed.Ok<Q> ok -> strict.stream(ok.message());
                case Parsed.Malformed<Q> m -> throw new IllegalStateException("a malformed request is never sent");
            };
        }

        @Override
        public Parsed<Q> parse(InputStream stream) {
            try {
                return new Parsed.Ok<>(strict.parse(stream));
            } catch (RuntimeException e) {
                return new Parsed.Malformed<>(reason(e));
            }
        }

        /** The innermost message: protobuf's own sentence rather than grpc's "Invalid protobuf byte sequence". */
        private static String reason(Throwable e) {
            Throwable t = e;
            while (t.getCause() != null && t.getCause() != t) {
                t = t.getCause();
            }
            String msg = t.getMessage();
            if (msg == null || msg.isBlank()) {
                msg = e instanceof StatusRuntimeException s && s.getStatus().getDescription() != null
                        ? s.getStatus().getDescription() : t.getClass().getSimpleName();
            }
            return msg.strip().lines().findFirst().orElse(msg);
        }
    }
}
