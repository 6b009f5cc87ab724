package dev.berth.core.image;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 digests in the form images name their content by: {@code sha256:<64 lowercase hex digits>}. */
public final class Digests {
    private Digests() {
    }

    /** A fresh SHA-256 digester, for content read in pieces. */
    public static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no SHA-256", e);
        }
    }

    /** The digest of {@code data}, as {@code sha256:<hex>}. */
    public static String sha256(byte[] data) {
        return "sha256:" + HexFormat.of().formatHex(newSha256().digest(data));
    }

    /** The digest of everything {@code md} (from {@link #newSha256}) was given, as {@code sha256:<hex>}. */
    public static String finish(MessageDigest md) {
        return "sha256:" + HexFormat.of().formatHex(md.digest());
    }
}
