package dev.berth.hcs.fake;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Windows layer tars as go-winio's {@code backuptar} writes them: PAX entries carrying {@code MSWINDOWS.fileattr},
 * {@code MSWINDOWS.rawsd}, {@code MSWINDOWS.mountpoint}, {@code LIBARCHIVE.creationtime} and the access and change
 * times; an alternate data stream as a regular entry {@code file:stream} right after its file; a link's target as
 * the Windows path. Byte for byte the same on every run.
 */
public final class WindowsLayerTars {
    private WindowsLayerTars() {}

    /** A self-relative security descriptor: revision 1, SE_SELF_RELATIVE | SE_DACL_PRESENT, an empty DACL. */
    public static final String SD_BASE64 = "AQAEgAAAAAAAAAAAAAAAABQAAAACAAgAAAAAAA==";

    /** One tar entry: its type flag, name, content or link target, PAX records and times (null: not written). */
    public record Entry(byte type, String name, String content, String link, Map<String, String> pax,
                        Instant mtime, Instant atime, Instant ctime) {
        public static Entry file(String name, String content) {
            return new Entry(TarConstants.LF_NORMAL, name, content, null, new LinkedHashMap<>(), Instant.EPOCH, null,
                    null);
        }

        public static Entry dir(String name) {
            return new Entry(TarConstants.LF_DIR, name.endsWith("/") ? name : name + "/", "", null,
                    new LinkedHashMap<>(), Instant.EPOCH, null, null);
        }

        public static Entry symlink(String name, String target) {
            return new Entry(TarConstants.LF_SYMLINK, name, "", target, new LinkedHashMap<>(), Instant.EPOCH, null,
                    null);
        }

        public static Entry hardLink(String name, String target) {
            return new Entry(TarConstants.LF_LINK, name, "", target, new LinkedHashMap<>(), Instant.EPOCH, null,
                    null);
        }

        /**
         * A PAX extended header entry of its own, for the next entry, with one record written as given (a record
         * commons-compress would check when set through {@link #pax}).
         */
        public static Entry rawPax(String key, String value) {
            String record = " " + key + "=" + value + "\n";
            int len = record.length();
            while (String.valueOf(len + String.valueOf(len).length()).length() != String.valueOf(len).length()) {
                len++;
            }
            len += String.valueOf(len).length();
            return new Entry(TarConstants.LF_PAX_EXTENDED_HEADER_LC, "PaxHeader", len + record, null,
                    new LinkedHashMap<>(), Instant.EPOCH, null, null);
        }

        public Entry pax(String key, String value) {
            Map<String, String> p = new LinkedHashMap<>(pax);
            p.put(key, value);
            return new Entry(type, name, content, link, p, mtime, atime, ctime);
        }

        public Entry times(Instant m, Instant a, Instant c) {
            return new Entry(type, name, content, link, pax, m, a, c);
        }
    }

    /** The uncompressed tar of {@code entries}, in order. */
    public static byte[] tar(List<Entry> entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            for (Entry x : entries) {
                TarArchiveEntry e = new TarArchiveEntry(x.name(), x.type());
                byte[] content = x.content().getBytes(StandardCharsets.UTF_8);
                if (x.type() == TarConstants.LF_NORMAL || x.type() == TarConstants.LF_PAX_EXTENDED_HEADER_LC) {
                    e.setSize(content.length);
                }
                if (x.link() != null) {
                    e.setLinkName(x.link());
                }
                e.setLastModifiedTime(FileTime.from(x.mtime()));
                if (x.atime() != null) {
                    e.setLastAccessTime(FileTime.from(x.atime()));
                }
                if (x.ctime() != null) {
                    e.setStatusChangeTime(FileTime.from(x.ctime()));
                }
                x.pax().forEach(e::addPaxHeader);
                tar.putArchiveEntry(e);
                tar.write(content);
                tar.closeArchiveEntry();
            }
        }
        return bytes.toByteArray();
    }

    /** Writes {@code entries} as a plain (uncompressed) layer blob. */
    public static LayerBlobs.Blob blob(Path dir, String name, List<Entry> entries) throws IOException {
        byte[] tar = tar(entries);
        Files.createDirectories(dir);
        Path p = dir.resolve(name);
        Files.write(p, tar);
        String digest = "sha256:" + LayerBlobs.sha256(tar);
        return new LayerBlobs.Blob(p, digest, digest, "application/vnd.oci.image.layer.v1.tar");
    }
}
