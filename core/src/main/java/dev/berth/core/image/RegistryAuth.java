package dev.berth.core.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.spi.BackendException;
import dev.berth.spi.BackendException.Kind;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a pull answers a registry's 401 challenge ({@code WWW-Authenticate}): the credentials' registry token as is,
 * basic credentials, or a bearer token from the challenge's realm (with the identity token as a refresh token, or
 * with the basic credentials, or anonymous).
 */
final class RegistryAuth {
    private static final Pattern CHALLENGE_PARAM = Pattern.compile("([A-Za-z_]+)=\"([^\"]*)\"");

    private final HttpClient client;
    private final ImageReference ref;
    private final RegistryCredentials credentials;
    private final Duration timeout;
    private final ObjectMapper json;

    RegistryAuth(HttpClient client, ImageReference ref, RegistryCredentials credentials, Duration timeout,
                 ObjectMapper json) {
        this.client = client;
        this.ref = ref;
        this.credentials = credentials;
        this.timeout = timeout;
        this.json = json;
    }

    /** Answers a 401 challenge: basic credentials, or a bearer token from the challenge's realm. */
    String authorize(URI base, String challenge, String what) {
        String scheme = challenge.trim().split("\\s+", 2)[0].toLowerCase(Locale.ROOT);
        if (!credentials.registryToken().isEmpty()) {
            return "Bearer " + credentials.registryToken();
        }
        var userPass = credentials.userPassword();
        if (scheme.equals("basic")) {
            if (userPass.isEmpty()) {
                throw new BackendException(Kind.FAILED_PRECONDITION, "failed to fetch " + what + " from "
                        + base + ": the registry requires credentials and none were given");
            }
            return basic(userPass.get()[0], userPass.get()[1]);
        }
        if (!scheme.equals("bearer")) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "failed to fetch " + what + " from "
                    + base + ": unsupported auth challenge \"" + challenge + "\"");
        }
        Map<String, String> params = new LinkedHashMap<>();
        Matcher m = CHALLENGE_PARAM.matcher(challenge);
        while (m.find()) {
            params.put(m.group(1).toLowerCase(Locale.ROOT), m.group(2));
        }
        String realm = params.getOrDefault("realm", "");
        if (realm.isEmpty()) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "failed to fetch " + what + " from "
                    + base + ": bearer challenge without a realm");
        }
        String scope = params.getOrDefault("scope", "repository:" + ref.path() + ":pull");
        String service = params.getOrDefault("service", "");
        URI realmUri;
        try {
            realmUri = URI.create(realm);
        } catch (IllegalArgumentException e) {
            throw new BackendException(Kind.FAILED_PRECONDITION, "failed to fetch " + what
                    + ": bad token realm \"" + realm + "\"");
        }
        HttpRequest.Builder rb;
        if (!credentials.identityToken().isEmpty()) {
            String form = "grant_type=refresh_token&client_id=berth&service=" + enc(service) + "&scope="
                    + enc(scope) + "&refresh_token=" + enc(credentials.identityToken());
            rb = HttpRequest.newBuilder(realmUri).POST(HttpRequest.BodyPublishers.ofString(form))
                    .header("Content-Type", "application/x-www-form-urlencoded");
        } else {
            String q = (service.isEmpty() ? "" : "service=" + enc(service) + "&") + "scope=" + enc(scope);
            rb = HttpRequest.newBuilder(URI.create(realm + (realm.contains("?") ? "&" : "?") + q)).GET();
            userPass.ifPresent(up -> rb.header("Authorization", basic(up[0], up[1])));
        }
        rb.timeout(timeout).header("User-Agent", "berth");
        try {
            HttpResponse<byte[]> resp = client.send(rb.build(), HttpResponse.BodyHandlers.ofByteArray());
            if (resp.statusCode() != 200) {
                throw new BackendException(Kind.FAILED_PRECONDITION, "failed to fetch " + what
                        + ": token server " + realmUri.getAuthority() + " answered " + resp.statusCode());
            }
            JsonNode tok = json.readTree(resp.body());
            String token = tok.path("token").asText(tok.path("access_token").asText(""));
            if (token.isEmpty()) {
                throw new BackendException(Kind.FAILED_PRECONDITION, "failed to fetch " + what
                        + ": token server " + realmUri.getAuthority() + " returned no token");
            }
            return "Bearer " + token;
        } catch (IOException e) {
            throw RegistryClient.unavailable("get a token for " + what + " from " + realmUri.getAuthority(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BackendException(Kind.UNAVAILABLE, "failed to fetch " + what + ": interrupted");
        }
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
