package dev.berth.core.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.berth.core.image.Digests;
import dev.berth.core.image.ImageSettings;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * A registry of one small image on the loopback, for the image build's training run only
 * ({@link TrainingCalls}): pulling it, and then asking for it and removing it, runs the image service's whole path
 * (the registry client, digest checks, unpacking, the stores) so that its classes and profiles are in the AOT
 * cache, and a node's first pull and image calls do not start cold. It serves the OCI distribution API's read side
 * for that one repository ({@code GET /v2/}, manifests by tag or digest, blobs) and nothing else.
 */
final class TrainingRegistry implements AutoCloseable {
    static final String REPOSITORY = "berth/training";
    private static final String MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";

    private final HttpServer server;
    private final Map<String, byte[]> blobs;
    private final byte[] manifest;
    private final String manifestDigest;

    private TrainingRegistry(HttpServer server, Map<String, byte[]> blobs, byte[] manifest) {
        this.server = server;
        this.blobs = blobs;
        this.manifest = manifest;
        this.manifestDigest = Digests.sha256(manifest);
    }

    /** Serves the image on 127.0.0.1 and a free port. */
    static TrainingRegistry start() throws IOException {
        byte[] tar = layerTar();
        byte[] layer = gzip(tar);
        ObjectMapper json = new ObjectMapper();
        byte[] config = json.writeValueAsBytes(Map.of(
                "architecture", ImageSettings.nodeArchitecture(), "os", "linux",
                "config", Map.of("Env", List.of("PATH=/bin"), "Cmd", List.of("/bin/true"), "WorkingDir", "/"),
                "rootfs", Map.of("type", "layers", "diff_ids", List.of(Digests.sha256(tar)))));
        byte[] manifest = json.writeValueAsBytes(Map.of("schemaVersion", 2, "mediaType", MANIFEST_TYPE,
                "config", Map.of("mediaType", "application/vnd.oci.image.config.v1+json",
                        "digest", Digests.sha256(config), "size", config.length),
                "layers", List.of(Map.of("mediaType", "application/vnd.oci.image.layer.v1.tar+gzip",
                        "digest", Digests.sha256(layer), "size", layer.length))));
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        TrainingRegistry r = new TrainingRegistry(server,
                Map.of(Digests.sha256(config), config, Digests.sha256(layer), layer),
                manifest);
        server.createContext("/v2/", r::handle);
        server.start();
        return r;
    }

    /** The image's reference: {@code 127.0.0.1:<port>/berth/training:1}. */
    String image() {
        return "127.0.0.1:" + server.getAddress().getPort() + "/" + REPOSITORY + ":1";
    }

    private void handle(HttpExchange x) throws IOException {
        try (x) {
            String path = x.getRequestURI().getPath();
            String prefix = "/v2/" + REPOSITORY + "/";
            byte[] body = null;
            String type = "application/octet-stream";
            if (path.equals("/v2/")) {
                body = "{}".getBytes(StandardCharsets.UTF_8);
                type = "application/json";
            } else if (path.equals(prefix + "manifests/1") || path.equals(prefix + "manifests/" + manifestDigest)) {
                body = manifest;
                type = MANIFEST_TYPE;
                x.getResponseHeaders().set("Docker-Content-Digest", manifestDigest);
            } else if (path.startsWith(prefix + "blobs/")) {
                body = blobs.get(path.substring((prefix + "blobs/").length()));
            }
            if (body == null) {
                x.sendResponseHeaders(404, -1);
                return;
            }
            x.getResponseHeaders().set("Content-Type", type);
            boolean head = x.getRequestMethod().equals("HEAD");
            if (head) {
                x.getResponseHeaders().set("Content-Length", Integer.toString(body.length));
            }
            x.sendResponseHeaders(200, head ? -1 : body.length);
            if (!head) {
                try (OutputStream out = x.getResponseBody()) {
                    out.write(body);
                }
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }

    /** A small root file system with what unpacking handles: directories, files, a symlink, a hard link. */
    static byte[] layerTar() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        entry(out, "bin/", '5', 0755, new byte[0], "");
        entry(out, "etc/", '5', 0755, new byte[0], "");
        entry(out, "etc/hostname", '0', 0644, "training\n".getBytes(StandardCharsets.US_ASCII), "");
        entry(out, "etc/passwd", '0', 0644, "root:x:0:0:root:/:/bin/true\n".getBytes(StandardCharsets.US_ASCII), "");
        entry(out, "etc/group", '0', 0644, "root:x:0:\n".getBytes(StandardCharsets.US_ASCII), "");
        entry(out, "etc/hosts", '1', 0644, new byte[0], "etc/hostname");
        entry(out, "bin/true", '2', 0777, new byte[0], "/etc/hostname");
        entry(out, "data/", '5', 0755, new byte[0], "");
        entry(out, "data/blob", '0', 0600, new byte[64 * 1024], "");
        out.writeBytes(new byte[1024]); // two zero blocks end the archive
        return out.toByteArray();
    }

    /** One ustar entry: its 512-byte header, then its data padded to a whole block. */
    private static void entry(ByteArrayOutputStream out, String name, char type, int mode, byte[] data,
                              String link) {
        byte[] h = new byte[512];
        put(h, 0, 100, name);
        put(h, 100, 8, String.format("%07o", mode));
        put(h, 108, 8, "0000000");
        put(h, 116, 8, "0000000");
        put(h, 124, 12, String.format("%011o", data.length));
        put(h, 136, 12, String.format("%011o", 1_700_000_000L));
        h[156] = (byte) type;
        put(h, 157, 100, link);
        put(h, 257, 6, "ustar");
        put(h, 263, 2, "00");
        java.util.Arrays.fill(h, 148, 156, (byte) ' ');
        int sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        put(h, 148, 8, String.format("%06o", sum) + "\0 ");
        out.writeBytes(h);
        out.writeBytes(data);
        out.writeBytes(new byte[(512 - data.length % 512) % 512]);
    }

    private static void put(byte[] h, int at, int len, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, at, Math.min(len, b.length));
    }

    private static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(data);
        }
        return out.toByteArray();
    }
}
