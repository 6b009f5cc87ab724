package dev.berth.core.image;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A JDK HttpServer in front of a real docker-registry: it can demand bearer tokens (and serves the token
 * endpoint itself, checking basic credentials), slow down, stall or corrupt blob downloads, and counts requests.
 * The registry behind it is real; only the token service is a stand-in.
 */
final class RegistryProxy implements AutoCloseable {
    private final HttpServer server;
    private final HttpClient http = HttpClient.newHttpClient();
    private final String backend;
    volatile String tokenUser;
    volatile String tokenPassword;
    volatile boolean requireToken;
    /** Answer blob GETs with a 307 to /cdn/ on this host spelled "localhost", which refuses Authorization. */
    volatile boolean redirectBlobs;
    final AtomicInteger cdnGets = new AtomicInteger();
    /** Bytes per second for blob bodies, 0 = unlimited. */
    volatile long throttle;
    /** Stop sending a blob body after this many bytes and hang, -1 = never. */
    volatile long stallAfter = -1;
    /** Flip one byte in the body of these blobs. */
    final Set<String> tamper = ConcurrentHashMap.newKeySet();
    final Map<String, AtomicInteger> blobGets = new ConcurrentHashMap<>();
    final AtomicInteger manifestGets = new AtomicInteger();
    /** The X-Berth-Test header of the last /v2/ request, "" when absent. */
    volatile String lastTestHeader = "";
    final AtomicInteger tokensIssued = new AtomicInteger();
    private final java.util.concurrent.CountDownLatch released = new java.util.concurrent.CountDownLatch(1);
    private final Set<String> tokens = ConcurrentHashMap.newKeySet();

    private final boolean tls;

    RegistryProxy(String backendUrl) throws IOException {
        this(backendUrl, null);
    }

    /** With {@code ssl}, serves HTTPS. */
    RegistryProxy(String backendUrl, javax.net.ssl.SSLContext ssl) throws IOException {
        this.backend = backendUrl;
        this.tls = ssl != null;
        if (ssl != null) {
            com.sun.net.httpserver.HttpsServer https = com.sun.net.httpserver.HttpsServer.create(
                    new InetSocketAddress("127.0.0.1", 0), 64);
            https.setHttpsConfigurator(new com.sun.net.httpserver.HttpsConfigurator(ssl));
            server = https;
        } else {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        }
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/token", this::token);
        server.createContext("/v2/", this::forward);
        server.createContext("/cdn/", this::cdn);
        server.start();
    }

    void addToken(String token) {
        tokens.add(token);
    }

    String url() {
        return (tls ? "https" : "http") + "://127.0.0.1:" + server.getAddress().getPort();
    }

    String hostPort() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    private void token(HttpExchange ex) throws IOException {
        try (ex) {
            String query = ex.getRequestURI().getQuery();
            if (tokenUser != null) {
                String want = "Basic " + Base64.getEncoder().encodeToString((tokenUser + ":" + tokenPassword)
                        .getBytes(StandardCharsets.UTF_8));
                if (!want.equals(ex.getRequestHeaders().getFirst("Authorization"))) {
                    ex.sendResponseHeaders(401, -1);
                    return;
                }
            }
            if (query == null || !query.contains("scope=repository")) {
                ex.sendResponseHeaders(400, -1);
                return;
            }
            String token = "tok-" + tokensIssued.incrementAndGet();
            tokens.add(token);
            byte[] body = ("{\"token\":\"" + token + "\",\"expires_in\":300}").getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
        }
    }

    private void cdn(HttpExchange ex) throws IOException {
        try (ex) {
            if (ex.getRequestHeaders().containsKey("Authorization")) {
                ex.sendResponseHeaders(400, -1);
                return;
            }
            cdnGets.incrementAndGet();
            String path = "/v2/" + ex.getRequestURI().getRawPath().substring("/cdn/".length());
            try {
                HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(backend + path)).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                ex.sendResponseHeaders(r.statusCode(), r.body().length == 0 ? -1 : r.body().length);
                ex.getResponseBody().write(r.body());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void forward(HttpExchange ex) throws IOException {
        try (ex) {
            String path = ex.getRequestURI().getRawPath();
            String testHeader = ex.getRequestHeaders().getFirst("X-Berth-Test");
            lastTestHeader = testHeader == null ? "" : testHeader;
            if (redirectBlobs && path.contains("/blobs/sha256:") && requireToken
                    && ex.getRequestHeaders().getFirst("Authorization") != null) {
                ex.getResponseHeaders().add("Location", "http://localhost:" + server.getAddress().getPort()
                        + "/cdn/" + path.substring("/v2/".length()));
                ex.sendResponseHeaders(307, -1);
                return;
            }
            if (requireToken) {
                String auth = ex.getRequestHeaders().getFirst("Authorization");
                if (auth == null || !auth.startsWith("Bearer ") || !tokens.contains(auth.substring(7))) {
                    String repo = path.replaceFirst("^/v2/", "").replaceFirst("/(manifests|blobs)/.*$", "");
                    ex.getResponseHeaders().add("WWW-Authenticate", "Bearer realm=\"" + url()
                            + "/token\",service=\"berth-test\",scope=\"repository:" + repo + ":pull\"");
                    ex.sendResponseHeaders(401, -1);
                    return;
                }
            }
            boolean blob = path.contains("/blobs/sha256:");
            String digest = blob ? path.substring(path.indexOf("/blobs/") + 7) : "";
            if (blob) {
                blobGets.computeIfAbsent(digest, d -> new AtomicInteger()).incrementAndGet();
            } else if (path.contains("/manifests/")) {
                manifestGets.incrementAndGet();
            }
            HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create(backend + path))
                    .method(ex.getRequestMethod(), HttpRequest.BodyPublishers.noBody());
            String accept = ex.getRequestHeaders().getFirst("Accept");
            if (accept != null) {
                rb.header("Accept", accept);
            }
            HttpResponse<InputStream> resp;
            try {
                resp = http.send(rb.build(), HttpResponse.BodyHandlers.ofInputStream());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                ex.sendResponseHeaders(502, -1);
                return;
            }
            for (String h : new String[] {"Content-Type", "Docker-Content-Digest"}) {
                resp.headers().firstValue(h).ifPresent(v -> ex.getResponseHeaders().add(h, v));
            }
            long length = resp.headers().firstValueAsLong("Content-Length").orElse(0);
            try (InputStream in = resp.body()) {
                if (ex.getRequestMethod().equals("HEAD") || resp.statusCode() != 200) {
                    byte[] body = in.readAllBytes();
                    ex.sendResponseHeaders(resp.statusCode(), body.length == 0 ? -1 : body.length);
                    if (body.length > 0) {
                        ex.getResponseBody().write(body);
                    }
                    return;
                }
                ex.sendResponseHeaders(200, length);
                OutputStream out = ex.getResponseBody();
                byte[] buf = new byte[16 * 1024];
                long sent = 0;
                boolean flipped = false;
                int n;
                while ((n = in.read(buf)) > 0) {
                    if (blob && tamper.contains(digest) && !flipped) {
                        buf[n / 2] ^= 0x55;
                        flipped = true;
                    }
                    if (blob && stallAfter >= 0 && sent + n > stallAfter) {
                        out.write(buf, 0, (int) Math.max(0, stallAfter - sent));
                        out.flush();
                        released.await(120, java.util.concurrent.TimeUnit.SECONDS);
                        return;
                    }
                    out.write(buf, 0, n);
                    sent += n;
                    if (blob && throttle > 0) {
                        out.flush();
                        Thread.sleep(Math.max(1, n * 1000L / throttle));
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (IOException e) {
                // the client went away
            }
        }
    }

    @Override
    public void close() {
        released.countDown();
        server.stop(0);
        http.close();
    }
}
