package dev.berth.core.image;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;

/**
 * Credentials for one pull, as CRI's {@code AuthConfig} carries them. Any field may be empty.
 *
 * @param username user name for basic auth or a token request
 * @param password password for basic auth or a token request
 * @param auth base64 of {@code username:password}, used when {@code username} is empty
 * @param identityToken an OAuth2 refresh token, exchanged at the registry's token endpoint
 * @param registryToken a bearer token sent to the registry as it is
 */
public record RegistryCredentials(String username, String password, String auth, String identityToken,
                                  String registryToken) {

    /** Anonymous access. */
    public static final RegistryCredentials NONE = new RegistryCredentials("", "", "", "", "");

    public RegistryCredentials {
        username = username == null ? "" : username;
        password = password == null ? "" : password;
        auth = auth == null ? "" : auth;
        identityToken = identityToken == null ? "" : identityToken;
        registryToken = registryToken == null ? "" : registryToken;
    }

    /** Credentials from a user name and password. */
    public static RegistryCredentials basic(String username, String password) {
        return new RegistryCredentials(username, password, "", "", "");
    }

    /** The user name and password, from {@code username}/{@code password} or else from {@code auth}. */
    Optional<String[]> userPassword() {
        if (!username.isEmpty()) {
            return Optional.of(new String[] {username, password});
        }
        if (!auth.isEmpty()) {
            String decoded;
            try {
                decoded = new String(Base64.getDecoder().decode(auth.trim()), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                return Optional.empty();
            }
            int colon = decoded.indexOf(':');
            if (colon > 0) {
                return Optional.of(new String[] {decoded.substring(0, colon), decoded.substring(colon + 1)});
            }
        }
        return Optional.empty();
    }

    boolean isAnonymous() {
        return userPassword().isEmpty() && identityToken.isEmpty() && registryToken.isEmpty();
    }

    @Override
    public String toString() {
        return isAnonymous() ? "RegistryCredentials[anonymous]" : "RegistryCredentials[redacted]";
    }
}
