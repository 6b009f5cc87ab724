package dev.berth.core.tracing;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An OTLP/HTTP receiver for tests: the JDK's HttpServer on a free loopback port, taking
 * {@code POST /v1/traces} with an {@code ExportTraceServiceRequest} in protobuf, decoded field by field from the
 * OTLP trace protocol's field numbers (opentelemetry-proto's trace.proto, resource.proto and common.proto), so that
 * no generated OTLP classes are needed (only protobuf-java's wire reader, which the image has).
 *
 * <p>The one receiver of berth's tests: {@code TracingTest} uses it in process, and test/e2e/tracing-explain.sh runs
 * this file as a program against the image's daemon:
 * {@code java -cp 'IMAGE/lib/*' OtlpReceiver.java PORT_FILE OUT} writes its port to PORT_FILE once it listens and
 * appends one JSON object per span to OUT,
 * {@code {"trace":..,"span":..,"parent":..,"name":..,"kind":2,"status":0,"attrs":{..},"resource":{..}}}, until
 * killed.
 */
final class OtlpReceiver implements AutoCloseable {
    public static void main(String[] args) throws Exception {
        java.io.PrintStream out = new java.io.PrintStream(java.nio.file.Files.newOutputStream(Path.of(args[1])), true,
                java.nio.charset.StandardCharsets.UTF_8);
        OtlpReceiver receiver = new OtlpReceiver(spans -> {
            synchronized (out) {
                spans.forEach(s -> out.println(s.json()));
            }
        });
        Path port = Path.of(args[0]);
        Path tmp = port.resolveSibling(port.getFileName() + ".tmp");
        java.nio.file.Files.writeString(tmp, receiver.server.getAddress().getPort() + "\n");
        java.nio.file.Files.move(tmp, port);
    }

    /** One received span. Ids are lower-case hex; attributes hold strings, longs, doubles or booleans. */
    record Span(String traceId, String spanId, String parentSpanId, String name, int kind,
                Map<String, Object> attributes, int statusCode, String statusMessage, Map<String, Object> resource) {
        /** One line of JSON, as the e2e test's checks read it. */
        String json() {
            return "{\"trace\":\"" + traceId + "\",\"span\":\"" + spanId + "\",\"parent\":\"" + parentSpanId
                    + "\",\"name\":" + quote(name) + ",\"kind\":" + kind + ",\"status\":" + statusCode
                    + ",\"attrs\":" + json(attributes) + ",\"resource\":" + json(resource) + "}";
        }

        private static String json(Map<String, Object> values) {
            StringBuilder sb = new StringBuilder("{");
            for (var e : new java.util.TreeMap<>(values).entrySet()) {
                Object v = e.getValue();
                sb.append(sb.length() > 1 ? "," : "").append(quote(e.getKey())).append(':')
                        .append(v == null ? "null" : v instanceof String str ? quote(str) : v.toString());
            }
            return sb.append('}').toString();
        }

        private static String quote(String s) {
            StringBuilder sb = new StringBuilder("\"");
            for (char c : s.toCharArray()) {
                switch (c) {
                    case '"' -> sb.append("\\\"");
                    case '\\' -> sb.append("\\\\");
                    default -> sb.append(c < 0x20 ? String.format("\\u%04x", (int) c) : String.valueOf(c));
                }
            }
            return sb.append('"').toString();
        }
    }

    private final HttpServer server;
    final List<Span> spans = new CopyOnWriteArrayList<>();
    final List<String> contentTypes = new CopyOnWriteArrayList<>();

    OtlpReceiver() throws IOException {
        this(received -> {});
    }

    /** A receiver that also hands each export's spans to {@code sink}. */
    private OtlpReceiver(java.util.function.Consumer<List<Span>> sink) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/traces", exchange -> {
            contentTypes.add(String.valueOf(exchange.getRequestHeaders().getFirst("Content-Type")));
            byte[] body = exchange.getRequestBody().readAllBytes();
            try {
                List<Span> received = decode(body);
                spans.addAll(received);
                sink.accept(received);
                exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
                exchange.sendResponseHeaders(200, 0); // an empty ExportTraceServiceResponse
            } catch (IOException | RuntimeException e) {
                exchange.sendResponseHeaders(400, -1);
            }
            exchange.close();
        });
        server.start();
    }

    /** The base URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes it. */
    String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
    }

    static List<Span> decode(byte[] request) throws IOException {
        List<Span> out = new ArrayList<>();
        for (ByteString rs : fields(request).getOrDefault(1, List.of()).stream().map(ByteString.class::cast).toList()) {
            var resourceSpans = fields(rs.toByteArray());
            Map<String, Object> resource = new HashMap<>();
            for (Object r : resourceSpans.getOrDefault(1, List.of())) {
                resource = attributes(fields(((ByteString) r).toByteArray()).getOrDefault(1, List.of()));
            }
            for (Object ss : resourceSpans.getOrDefault(2, List.of())) {
                for (Object s : fields(((ByteString) ss).toByteArray()).getOrDefault(2, List.of())) {
                    out.add(span(fields(((ByteString) s).toByteArray()), resource));
                }
            }
        }
        return out;
    }

    private static Span span(Map<Integer, List<Object>> f, Map<String, Object> resource) throws IOException {
        int code = 0;
        String message = "";
        for (Object st : f.getOrDefault(15, List.of())) {
            var status = fields(((ByteString) st).toByteArray());
            message = str(status, 2);
            code = (int) num(status, 3);
        }
        return new Span(hex(f, 1), hex(f, 2), hex(f, 4), str(f, 5), (int) num(f, 6),
                attributes(f.getOrDefault(9, List.of())), code, message, resource);
    }

    private static Map<String, Object> attributes(List<Object> keyValues) throws IOException {
        Map<String, Object> out = new HashMap<>();
        for (Object kv : keyValues) {
            var f = fields(((ByteString) kv).toByteArray());
            Object value = null;
            for (Object v : f.getOrDefault(2, List.of())) {
                var any = fields(((ByteString) v).toByteArray());
                if (any.containsKey(1)) {
                    value = ((ByteString) any.get(1).getFirst()).toStringUtf8();
                } else if (any.containsKey(2)) {
                    value = ((Long) any.get(2).getFirst()) != 0;
                } else if (any.containsKey(3)) {
                    value = any.get(3).getFirst();
                } else if (any.containsKey(4)) {
                    value = Double.longBitsToDouble((Long) any.get(4).getFirst());
                }
            }
            out.put(str(f, 1), value);
        }
        return out;
    }

    /** Field number to values: varints and fixed values as Long, length-delimited ones as ByteString. */
    private static Map<Integer, List<Object>> fields(byte[] message) throws IOException {
        Map<Integer, List<Object>> out = new HashMap<>();
        CodedInputStream in = CodedInputStream.newInstance(message);
        while (!in.isAtEnd()) {
            int tag = in.readTag();
            Object v = switch (WireFormat.getTagWireType(tag)) {
                case WireFormat.WIRETYPE_VARINT -> in.readInt64();
                case WireFormat.WIRETYPE_FIXED64 -> in.readFixed64();
                case WireFormat.WIRETYPE_FIXED32 -> (long) in.readFixed32();
                case WireFormat.WIRETYPE_LENGTH_DELIMITED -> in.readBytes();
                default -> throw new IOException("unexpected wire type in tag " + tag);
            };
            out.computeIfAbsent(WireFormat.getTagFieldNumber(tag), k -> new ArrayList<>()).add(v);
        }
        return out;
    }

    private static String hex(Map<Integer, List<Object>> f, int field) {
        List<Object> v = f.get(field);
        return v == null ? "" : HexFormat.of().formatHex(((ByteString) v.getFirst()).toByteArray());
    }

    private static String str(Map<Integer, List<Object>> f, int field) {
        List<Object> v = f.get(field);
        return v == null ? "" : ((ByteString) v.getFirst()).toStringUtf8();
    }

    private static long num(Map<Integer, List<Object>> f, int field) {
        List<Object> v = f.get(field);
        return v == null ? 0 : (Long) v.getFirst();
    }
}
