package dev.berth.hcs.fake;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Windows layer blobs as core keeps them: a tar of {@code Files/} and {@code Hives/} entries, gzip-compressed as a
 * registry serves it, with its digest (of the blob) and diff id (of the tar). Byte for byte the same on every run.
 */
public final class LayerBlobs {
    private LayerBlobs() {}

    public static final String GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";

    /** A blob written: its path, digest, diff id and media type. */
    public record Blob(Path path, String digest, String diffId, String mediaType) {}

    /** Writes a gzip layer blob holding {@code files} (path under the layer, e.g. "Files/a.txt", to content). */
    public static Blob gzip(Path dir, String name, Map<String, String> files) throws IOException {
        byte[] tar = tar(files);
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (OutputStream out = new GZIPOutputStream(gz)) {
            out.write(tar);
        }
        Files.createDirectories(dir);
        Path p = dir.resolve(name);
        Files.write(p, gz.toByteArray());
        return new Blob(p, "sha256:" + sha256(gz.toByteArray()), "sha256:" + sha256(tar), GZIP);
    }

    /** The uncompressed tar: directories first, then the files, in the map's order. */
    public static byte[] tar(Map<String, String> files) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (String top : new String[] {"Files/", "Hives/"}) {
                TarArchiveEntry d = new TarArchiveEntry(top);
                d.setModTime(0);
                tar.putArchiveEntry(d);
                tar.closeArchiveEntry();
            }
            for (var f : files.entrySet()) {
                byte[] content = f.getValue().getBytes(StandardCharsets.UTF_8);
                TarArchiveEntry e = new TarArchiveEntry(f.getKey());
                e.setSize(content.length);
                e.setModTime(0);
                tar.putArchiveEntry(e);
                tar.write(content);
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    public static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
