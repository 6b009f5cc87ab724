package dev.berth.core.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An OCI distribution (v2) client on the JDK {@link HttpClient}: manifests and blobs, anonymous, basic and
 * bearer-token auth ({@link RegistryAuth}), retries with backoff, digest checks and a progress timeout for downloads.
 */
final class RegistryClient implements AutoCloseable {
    static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    static final String DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    static final String DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+prettyjws";
    private static final String ACCEPT = String.join(", ", OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST);
    private static final System.Logger LOG = System.getLogger(RegistryClient.class.getName());
    private static final int ATTEMPTS = 4;

    private final RegistryHosts hosts;
    private final Duration progressTimeout;
    private final long maxManifestBytes;
    private final ConcurrentHashMap<String, HttpClient> clients = new ConcurrentHashMap<>();
    private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "berth-image-pull-watchdog");
        t.setDaemon(true);
        return t;
    });
    private final ObjectMapper json = new ObjectMapper();
    /** Initial backoff between retries; tests may shorten it. */
    private final Duration backoff;

    RegistryClient(RegistryHosts hosts, Duration progressTimeout, long maxManifestBytes, Duration backoff) {
        this.hosts = hosts;
        this.progressTimeout = progressTimeout;
        this.maxManifestBytes = maxManifestBytes;
        this.backoff = backoff;
    }

    /** A manifest or index as fetched, digest checked. */
    record Fetched(byte[] body, String mediaType, String digest) {
    }

    /** Per-pull state: where to go, which credentials, which tokens were obtained. */
    Session session(ImageReference ref, RegistryCredentials credentials) {
        return new Session(ref, credentials == null ? RegistryCredentials.NONE : credentials,
                hosts.endpoints(ref.domain()));
    }

    final class Session {
        private final ImageReference ref;
        private final RegistryCredentials credentials;
        private final List<RegistryHosts.Endpoint> endpoints;
        private final Map<URI, String> authorization = new ConcurrentHashMap<>();
        private volatile RegistryHosts.Endpoint preferred;

        Session(ImageReference ref, RegistryCredentials credentials, List<RegistryHosts.Endpoint> endpoints) {
            this.ref = ref;
            this.credentials = credentials;
            this.endpoints = endpoints;
        }

        /** Fetches a manifest by tag or digest, trying each endpoint in turn. */
        Fetched manifest(String reference) {
            boolean byDigest = reference.startsWith("sha256:");
            BackendException first = null;
            for (RegistryHosts.Endpoint ep : ordered()) {
                if (!(byDigest ? ep.canPull() || ep.canResolve() : ep.canResolve())) {
                    continue;
                }
                try {
                    Fetched f = manifestFrom(ep, reference);
                    preferred = ep;
                    return f;
                } catch (BackendException e) {
                    LOG.log(System.Logger.Level.DEBUG,
                            () -> "manifest " + reference + " from " + ep.base() + ": " + e.getMessage());
                    if (first == null || first.kind() == Kind.NOT_FOUND && e.kind() != Kind.NOT_FOUND) {
                        first = e;
                    }
                    if (e.kind() == Kind.INVALID_ARGUMENT) {
                        throw e;
                    }
                }
            }
            throw first != null ? first : new BackendException(Kind.FAILED_PRECONDITION, "failed to pull image \""
                    + ref + "\": no registry host for " + ref.domain() + " has the resolve capability");
        }

        private Fetched manifestFrom(RegistryHosts.Endpoint ep, String reference) {
            String what = "manifest \"" + ref.name() + ":" + reference + "\"";
            HttpResponse<InputStream> resp = send(ep, "manifests/" + reference, ACCEPT, what);
            try (InputStream in = resp.body()) {
                byte[] body = readLimited(in, maxManifestBytes, what);
                String digest = Digests.sha256(body);
                if (reference.startsWith("sha256:") && !digest.equals(reference)) {
                    throw BackendException.invalid("failed to fetch " + what + ": digest mismatch, got " + digest);
                }
                String header = resp.headers().firstValue("Docker-Content-Digest").orElse("");
                if (!reference.startsWith("sha256:") && header.startsWith("sha256:") && !header.equals(digest)) {
                    throw BackendException.invalid("failed to fetch " + what + ": the registry says its digest is "
                            + header + " but the content hashes to " + digest);
                }
                String mediaType = resp.headers().firstValue("Content-Type").orElse("")
                        .split(";")[0].trim();
                mediaType = mediaType(body, mediaType, what);
                return new Fetched(body, mediaType, digest);
            } catch (IOException e) {
                throw unavailable("fetch " + what + " from " + ep.base(), e);
            }
        }

        /** Fetches a small blob (an image config) into memory, digest checked. */
        byte[] smallBlob(String digest, long size) {
            String what = "config \"" + digest + "\"";
            if (size > maxManifestBytes) {
                throw BackendException.invalid("failed to fetch " + what + ": its size " + size
                        + " exceeds the limit of " + maxManifestBytes + " bytes");
            }
            return blob(digest, what, in -> {
                byte[] body = readLimited(in, maxManifestBytes, what);
                if (!Digests.sha256(body).equals(digest)) {
                    throw BackendException.invalid("failed to fetch " + what + ": digest mismatch, got "
                            + Digests.sha256(body));
                }
                return body;
            });
        }

        /**
         * Streams a blob into the content store, with the progress timeout; size and digest checked there.
         *
         * @return true when this call wrote the blob, false when the store had it already
         */
        boolean layer(String digest, long size, ContentStore store) {
            String what = "layer \"" + digest + "\"";
            return blob(digest, what, in -> {
                // The timeout is the registry's: it runs while a read waits for bytes, not while the store writes
                // or syncs what came (a slow disk is not a stalled registry).
                AtomicLong last = new AtomicLong(System.nanoTime());
                AtomicBoolean reading = new AtomicBoolean();
                AtomicBoolean timedOut = new AtomicBoolean();
                Thread reader = Thread.currentThread();
                long period = Math.max(50, Math.min(1000, progressTimeout.toMillis() / 4));
                ScheduledFuture<?> check = watchdog.scheduleAtFixedRate(() -> {
                    if (reading.get() && System.nanoTime() - last.get() > progressTimeout.toNanos()
                            && timedOut.compareAndSet(false, true)) {
                        reader.interrupt();
                    }
                }, period, period, TimeUnit.MILLISECONDS);
                try {
                    return store.ingest(digest, size, new InputStream() {
                        @Override
                        public int read() throws IOException {
                            byte[] b = new byte[1];
                            return read(b, 0, 1) < 0 ? -1 : b[0] & 0xff;
                        }

                        @Override
                        public int read(byte[] b, int off, int len) throws IOException {
                            last.set(System.nanoTime());
                            reading.set(true);
                            try {
                                return in.read(b, off, len);
                            } finally {
                                reading.set(false);
                                last.set(System.nanoTime());
                            }
                        }
                    });
                } catch (IOException e) {
                    if (timedOut.get()) {
                        throw new BackendException(Kind.DEADLINE_EXCEEDED, "failed to fetch " + what + " of \"" + ref
                                + "\": no progress for " + progressTimeout.toSeconds() + "s");
                    }
                    throw e;
                } finally {
                    check.cancel(false);
                    if (timedOut.get()) {
                        Thread.interrupted();
                    }
                }
            });
        }

        private <T> T blob(String digest, String what, BodyReader<T> reader) {
            BackendException first = null;
            for (RegistryHosts.Endpoint ep : ordered()) {
                if (!ep.canPull()) {
                    continue;
                }
                HttpResponse<InputStream> resp;
                try {
                    resp = send(ep, "blobs/" + digest, "*/*", what);
                } catch (BackendException e) {
                    if (first == null) {
                        first = e;
                    }
                    continue;
                }
                try (InputStream in = resp.body()) {
                    return reader.read(in);
                } catch (IOException e) {
                    throw unavailable("fetch " + what + " from " + ep.base(), e);
                }
            }
            throw first != null ? first : new BackendException(Kind.FAILED_PRECONDITION, "failed to pull image \""
                    + ref + "\": no registry host for " + ref.domain() + " has the pull capability");
        }

        private List<RegistryHosts.Endpoint> ordered() {
            RegistryHosts.Endpoint p = preferred;
            if (p == null) {
                return endpoints;
            }
            List<RegistryHosts.Endpoint> out = new ArrayList<>();
            out.add(p);
            endpoints.stream().filter(e -> e != p).forEach(out::add);
            return out;
        }

        /** GET {@code <base>/<repo>/<suffix>} with auth, retries and backoff; returns a 200 response. */
        private HttpResponse<InputStream> send(RegistryHosts.Endpoint ep, String suffix, String accept, String what) {
            URI uri = URI.create(ep.base() + "/" + ref.path() + "/" + suffix);
            URI target = uri;
            int redirects = 0;
            HttpClient client = client(ep);
            boolean authTried = false;
            long delay = backoff.toMillis();
            IOException lastIo = null;
            for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
                HttpRequest.Builder rb = HttpRequest.newBuilder(target).GET().timeout(progressTimeout)
                        .header("Accept", accept).header("User-Agent", "berth");
                // Credentials and configured headers go to the registry only, never to a redirect target
                // (blob storage that signs its URLs refuses requests that also carry an Authorization header).
                boolean sameHost = java.util.Objects.equals(target.getRawAuthority(), uri.getRawAuthority())
                        && java.util.Objects.equals(target.getScheme(), uri.getScheme());
                String auth = authorization.get(ep.base());
                if (sameHost) {
                    ep.headers().forEach((k, vs) -> vs.forEach(v -> rb.header(k, v)));
                    if (auth != null) {
                        rb.header("Authorization", auth);
                    }
                }
                HttpResponse<InputStream> resp;
                try {
                    resp = client.send(rb.build(), HttpResponse.BodyHandlers.ofInputStream());
                } catch (HttpTimeoutException e) {
                    lastIo = e;
                    if (attempt >= 2) {
                        throw new BackendException(Kind.DEADLINE_EXCEEDED, "failed to fetch " + what + " from "
                                + ep.base() + ": no response within " + progressTimeout.toSeconds() + "s");
                    }
                    sleep(delay);
                    delay *= 2;
                    continue;
                } catch (InterruptedIOException e) {
                    throw unavailable("fetch " + what + " from " + ep.base(), e);
                } catch (IOException e) {
                    lastIo = e;
                    sleep(delay);
                    delay *= 2;
                    continue;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new BackendException(Kind.UNAVAILABLE, "failed to fetch " + what + ": interrupted");
                }
                int status = resp.statusCode();
                if (status == 200) {
                    return resp;
                }
                var location = resp.headers().firstValue("Location");
                if ((status == 301 || status == 302 || status == 303 || status == 307 || status == 308)
                        && location.isPresent() && redirects < 5) {
                    errorBody(resp);
                    try {
                        target = target.resolve(location.get());
                    } catch (IllegalArgumentException e) {
                        throw new BackendException(Kind.FAILED_PRECONDITION, "failed to fetch " + what + " from "
                                + ep.base() + ": bad redirect \"" + location.get() + "\"");
                    }
                    if (!"http".equals(target.getScheme()) && !"https".equals(target.getScheme())) {
                        throw new BackendException(Kind.FAILED_PRECONDITION, "failed to fetch " + what + " from "
                                + ep.base() + ": redirect to unsupported URL \"" + location.get() + "\"");
                    }
                    redirects++;
                    attempt--;
                    continue;
                }
                String body = errorBody(resp);
                if (status == 401 && !authTried) {
                    authTried = true;
                    String challenge = resp.headers().firstValue("WWW-Authenticate").orElse("");
                    authorization.put(ep.base(), new RegistryAuth(client(ep), ref, credentials, progressTimeout, json)
                            .authorize(ep.base(), challenge, what));
                    attempt--;
                    continue;
                }
                if (status == 401 || status == 403) {
                    throw new BackendException(Kind.FAILED_PRECONDITION, "failed to fetch " + what + " from "
                            + ep.base() + ": access denied (" + status + ")" + body);
                }
                if (status == 404) {
                    throw new BackendException(Kind.NOT_FOUND, "failed to fetch " + what + " from " + ep.base()
                            + ": not found" + body);
                }
                if (status == 429 || status >= 500) {
                    if (attempt < ATTEMPTS) {
                        sleep(delay);
                        delay *= 2;
                        continue;
                    }
                    throw new BackendException(Kind.UNAVAILABLE, "failed to fetch " + what + " from " + ep.base()
                            + ": registry answered " + status + body);
                }
                throw new BackendException(Kind.FAILED_PRECONDITION, "failed to fetch " + what + " from " + ep.base()
                        + ": registry answered " + status + body);
            }
            throw unavailable("fetch " + what + " from " + ep.base(), lastIo);
        }
    }

    @FunctionalInterface
    private interface BodyReader<T> {
        T read(InputStream in) throws IOException;
    }

    private String mediaType(byte[] body, String header, String what) {
        JsonNode node;
        try {
            node = json.readTree(body);
        } catch (IOException e) {
            throw BackendException.invalid("failed to parse " + what + ": not JSON");
        }
        String inBody = node.path("mediaType").asText("");
        String mt = !inBody.isEmpty() ? inBody : header;
        if (mt.isEmpty() || mt.equals("application/json") || mt.equals("application/octet-stream")) {
            mt = node.has("manifests") ? OCI_INDEX : node.has("layers") ? OCI_MANIFEST : "";
        }
        if (mt.equals(DOCKER_SCHEMA1) || mt.equals("application/vnd.docker.distribution.manifest.v1+json")
                || node.path("schemaVersion").asInt(2) == 1) {
            throw BackendException.unimplemented("failed to pull " + what
                    + ": Docker schema 1 manifests are not supported");
        }
        if (!List.of(DOCKER_MANIFEST, DOCKER_LIST, OCI_MANIFEST, OCI_INDEX).contains(mt)) {
            throw BackendException.invalid("failed to pull " + what + ": unsupported media type \"" + mt + "\"");
        }
        return mt;
    }

    private HttpClient client(RegistryHosts.Endpoint ep) {
        boolean tls = "https".equals(ep.base().getScheme());
        String key = tls ? ep.tlsKey() : "plain";
        return clients.computeIfAbsent(key, k -> {
            HttpClient.Builder b = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
                    .connectTimeout(Duration.ofSeconds(Math.min(30, Math.max(1, progressTimeout.toSeconds()))));
            if (tls && (ep.skipVerify() || !ep.ca().isEmpty() || !ep.clientCerts().isEmpty())) {
                b.sslContext(TlsConfig.context(ep));
            }
            return b.build();
        });
    }

    private static byte[] readLimited(InputStream in, long limit, String what) throws IOException {
        byte[] data = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
        if (data.length > limit) {
            throw BackendException.invalid("failed to fetch " + what + ": larger than the limit of " + limit + " bytes");
        }
        return data;
    }

    private static String errorBody(HttpResponse<InputStream> resp) {
        try (InputStream in = resp.body()) {
            String s = new String(in.readNBytes(512), StandardCharsets.UTF_8).strip();
            return s.isEmpty() ? "" : ": " + s.replaceAll("\\s+", " ");
        } catch (IOException e) {
            return "";
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackendException(Kind.UNAVAILABLE, "failed to pull: interrupted");
        }
    }

    static BackendException unavailable(String action, IOException e) {
        String cause = e == null ? "unknown error"
                : e instanceof ConnectException ? "connection refused"
                : e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return new BackendException(Kind.UNAVAILABLE, "failed to " + action + ": " + cause);
    }

    @Override
    public void close() {
        watchdog.shutdownNow();
        clients.values().forEach(HttpClient::close);
    }
}
