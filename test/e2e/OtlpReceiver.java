import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An OTLP/HTTP (protobuf) trace receiver for end-to-end tests: the JDK's HttpServer on a free loopback port takes
 * {@code POST /v1/traces} ({@code ExportTraceServiceRequest}), decodes it by the field numbers of
 * opentelemetry-proto's trace, resource and common protos (only protobuf-java's wire reader, which the image has),
 * and appends one JSON object per span to OUT:
 * {@code {"trace":..,"span":..,"parent":..,"name":..,"kind":2,"status":0,"attrs":{..},"resource":{..}}}.
 * Writes its port to PORT_FILE once it listens. Runs until killed.
 *
 * Usage: java -cp 'IMAGE/lib/*' OtlpReceiver.java PORT_FILE OUT
 */
public final class OtlpReceiver {
    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(Files.newOutputStream(Path.of(args[1])), true, "UTF-8");
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/traces", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            try {
                String type = String.valueOf(exchange.getRequestHeaders().getFirst("Content-Type"));
                if (!type.equals("application/x-protobuf")) {
                    throw new IOException("content type " + type);
                }
                synchronized (out) {
                    for (String line : decode(body)) {
                        out.println(line);
                    }
                }
                exchange.getResponseHeaders().set("Content-Type", "application/x-protobuf");
                exchange.sendResponseHeaders(200, 0);
            } catch (IOException | RuntimeException e) {
                System.err.println("bad export: " + e);
                exchange.sendResponseHeaders(400, -1);
            }
            exchange.close();
        });
        server.start();
        Path port = Path.of(args[0]);
        Files.writeString(port.resolveSibling(port.getFileName() + ".tmp"), server.getAddress().getPort() + "\n");
        Files.move(port.resolveSibling(port.getFileName() + ".tmp"), port);
    }

    static List<String> decode(byte[] request) throws IOException {
        List<String> out = new ArrayList<>();
        for (Object rs : fields(request).getOrDefault(1, List.of())) {
            var resourceSpans = fields(((ByteString) rs).toByteArray());
            String resource = "{}";
            for (Object r : resourceSpans.getOrDefault(1, List.of())) {
                resource = attributes(fields(((ByteString) r).toByteArray()).getOrDefault(1, List.of()));
            }
            for (Object ss : resourceSpans.getOrDefault(2, List.of())) {
                for (Object s : fields(((ByteString) ss).toByteArray()).getOrDefault(2, List.of())) {
                    var f = fields(((ByteString) s).toByteArray());
                    long code = 0;
                    for (Object st : f.getOrDefault(15, List.of())) {
                        code = num(fields(((ByteString) st).toByteArray()), 3);
                    }
                    out.add("{\"trace\":\"" + hex(f, 1) + "\",\"span\":\"" + hex(f, 2) + "\",\"parent\":\"" + hex(f, 4)
                            + "\",\"name\":" + quote(str(f, 5)) + ",\"kind\":" + num(f, 6) + ",\"status\":" + code
                            + ",\"attrs\":" + attributes(f.getOrDefault(9, List.of())) + ",\"resource\":" + resource
                            + "}");
                }
            }
        }
        return out;
    }

    private static String attributes(List<Object> keyValues) throws IOException {
        StringBuilder sb = new StringBuilder("{");
        for (Object kv : keyValues) {
            var f = fields(((ByteString) kv).toByteArray());
            String value = "null";
            for (Object v : f.getOrDefault(2, List.of())) {
                var any = fields(((ByteString) v).toByteArray());
                if (any.containsKey(1)) {
                    value = quote(((ByteString) any.get(1).getFirst()).toStringUtf8());
                } else if (any.containsKey(2)) {
                    value = ((Long) any.get(2).getFirst()) != 0 ? "true" : "false";
                } else if (any.containsKey(3)) {
                    value = any.get(3).getFirst().toString();
                } else if (any.containsKey(4)) {
                    value = Double.toString(Double.longBitsToDouble((Long) any.get(4).getFirst()));
                }
            }
            sb.append(sb.length() > 1 ? "," : "").append(quote(str(f, 1))).append(':').append(value);
        }
        return sb.append('}').toString();
    }

    private static Map<Integer, List<Object>> fields(byte[] message) throws IOException {
        Map<Integer, List<Object>> out = new LinkedHashMap<>();
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

    private static String quote(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
