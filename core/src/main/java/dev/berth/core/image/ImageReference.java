package dev.berth.core.image;

import dev.berth.spi.BackendException;
import java.util.regex.Pattern;

/**
 * A normalised image reference, as Docker normalises them: {@code busybox} is
 * {@code docker.io/library/busybox:latest}, {@code quay.io/a/b@sha256:...} keeps its digest, and a reference
 * with neither tag nor digest gets the tag {@code latest}.
 *
 * @param domain the registry host, with port when one was given ({@code docker.io}, {@code 127.0.0.1:5000})
 * @param path the repository path inside the registry ({@code library/busybox})
 * @param tag the tag, or empty when only a digest was given
 * @param digest {@code sha256:<hex>}, or empty
 */
public record ImageReference(String domain, String path, String tag, String digest) {

    public static final String DOCKER_DOMAIN = "docker.io";

    private static final Pattern COMPONENT = Pattern.compile("[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*");
    private static final Pattern DOMAIN = Pattern.compile(
            "(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*"
                    + "|\\[[0-9a-fA-F:.]+\\])(?::[0-9]{1,5})?");
    private static final Pattern TAG = Pattern.compile("[\\w][\\w.-]{0,127}");
    private static final Pattern DIGEST = Pattern.compile("sha256:[a-f0-9]{64}");
    private static final int MAX_NAME = 255;

    /**
     * Parses and normalises a reference.
     *
     * @throws BackendException INVALID_ARGUMENT naming what is wrong
     */
    public static ImageReference parse(String reference) {
        if (reference == null || reference.isBlank()) {
            throw BackendException.invalid("failed to parse image reference \"\": it is empty");
        }
        String rest = reference.trim();
        String digest = "";
        int at = rest.indexOf('@');
        if (at >= 0) {
            digest = rest.substring(at + 1);
            rest = rest.substring(0, at);
            if (!DIGEST.matcher(digest).matches()) {
                throw invalid(reference, "the digest must be sha256: followed by 64 lowercase hex digits");
            }
        }
        String tag = "";
        int lastSlash = rest.lastIndexOf('/');
        int colon = rest.lastIndexOf(':');
        if (colon > lastSlash) {
            tag = rest.substring(colon + 1);
            rest = rest.substring(0, colon);
            if (!TAG.matcher(tag).matches()) {
                throw invalid(reference, "tag \"" + tag + "\" is not valid");
            }
        }
        if (rest.isEmpty()) {
            throw invalid(reference, "the repository name is empty");
        }
        String domain;
        String path;
        int slash = rest.indexOf('/');
        String first = slash < 0 ? "" : rest.substring(0, slash);
        if (slash >= 0 && (first.contains(".") || first.contains(":") || first.equals("localhost"))) {
            domain = first;
            path = rest.substring(slash + 1);
            if (!DOMAIN.matcher(domain).matches()) {
                throw invalid(reference, "registry host \"" + domain + "\" is not valid");
            }
        } else {
            domain = DOCKER_DOMAIN;
            path = rest;
        }
        if (domain.equals("index.docker.io") || domain.equals("registry-1.docker.io")) {
            domain = DOCKER_DOMAIN;
        }
        if (domain.equals(DOCKER_DOMAIN) && !path.contains("/")) {
            path = "library/" + path;
        }
        for (String component : path.split("/", -1)) {
            if (!COMPONENT.matcher(component).matches()) {
                throw invalid(reference, "repository name component \"" + component
                        + "\" must be lowercase letters, digits and separators");
            }
        }
        if (domain.length() + 1 + path.length() > MAX_NAME) {
            throw invalid(reference, "the repository name is longer than " + MAX_NAME + " characters");
        }
        if (tag.isEmpty() && digest.isEmpty()) {
            tag = "latest";
        }
        return new ImageReference(domain, path, tag, digest);
    }

    /** {@code s} parsed as a reference, or empty when it is not one. */
    public static java.util.Optional<ImageReference> tryParse(String s) {
        try {
            return java.util.Optional.of(parse(s));
        } catch (BackendException e) {
            return java.util.Optional.empty();
        }
    }

    /**
     * {@code s} parsed as a reference that names a repository alone, without a tag or digest ({@code busybox},
     * {@code quay.io/org/app}), or empty when it is not one.
     */
    public static java.util.Optional<ImageReference> tryParseRepository(String s) {
        if (s == null || s.contains("@") || s.trim().lastIndexOf(':') > s.trim().lastIndexOf('/')) {
            return java.util.Optional.empty();
        }
        return tryParse(s).map(r -> new ImageReference(r.domain(), r.path(), "", ""));
    }

    private static BackendException invalid(String reference, String why) {
        return BackendException.invalid("failed to parse image reference \"" + reference + "\": " + why);
    }

    /** {@code domain/path}. */
    public String name() {
        return domain + "/" + path;
    }

    /** {@code name:tag}, or empty when there is no tag. */
    public String tagged() {
        return tag.isEmpty() ? "" : name() + ":" + tag;
    }

    /** {@code name@digest} for the given digest. */
    public String withDigest(String manifestDigest) {
        return name() + "@" + manifestDigest;
    }

    /** What the registry is asked for: the digest when there is one, else the tag. */
    String manifestReference() {
        return digest.isEmpty() ? tag : digest;
    }

    @Override
    public String toString() {
        return name() + (tag.isEmpty() ? "" : ":" + tag) + (digest.isEmpty() ? "" : "@" + digest);
    }
}
