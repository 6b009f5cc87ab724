package dev.berth.core.cri;

import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import java.io.FilterInputStream;
import java.io.IOException;
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
 *
 * <p>The marshaller also notes whether the request's bytes held a zero byte at all. A NUL in a string field is a
 * zero byte on the wire (UTF-8 has no other encoding of U+0000), so a request without one needs no walk of its
 * fields for NUL bytes ({@link Validation#noNulBytes}); the kubelet's polled requests never hold one.
 */
public final class LenientRequests {
    private LenientRequests() {}

    /** A request as it came off the wire: the message, or why it could not be read. */
    public sealed interface Parsed<Q> {
        /**
         * A request that parsed; {@code mayHoldNul} is false when none of its bytes was zero, so that none of its
         * strings can hold a NUL.
         */
        record Ok<Q>(Q message, boolean mayHoldNul) implements Parsed<Q> {}

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
            // grpc's parser reads a stream of known length into an array through read(byte[], int, int); any
            // other stream is read as it comes, and its request is walked for NUL bytes as before.
            ZeroWatch watched = stream instanceof KnownLength ? new ZeroWatch(stream) : null;
            try {
                Q message = strict.parse(watched != null ? watched : stream);
                return new Parsed.Ok<>(message, watched == null || watched.sawZero);
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

    /** Hands a request's bytes through unchanged and notes whether any of them was zero. */
    private static final class ZeroWatch extends FilterInputStream implements KnownLength {
        private boolean sawZero;

        ZeroWatch(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            sawZero |= b == 0;
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            for (int i = off, end = off + n; i < end && !sawZero; i++) {
                sawZero = b[i] == 0;
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            sawZero = true; // bytes not seen: walk the request
            return in.skip(n);
        }

        @Override
        public boolean markSupported() {
            return false;
        }
    }
}
