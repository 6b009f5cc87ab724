package dev.berth.hcs.layer;

import dev.berth.hcs.bind.BackupFiles.BasicInfo;
import dev.berth.hcs.bind.BackupStream;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;

/**
 * A file, directory or link of a Windows layer tar with the Windows metadata of its PAX headers, as go-winio's
 * {@code backuptar} writes them ({@code backuptar/tar.go}) and hcsshim's {@code ociwclayer} reads them back:
 * {@code MSWINDOWS.fileattr} (the {@code FILE_ATTRIBUTE_*} bits, decimal), {@code MSWINDOWS.rawsd} (a self-relative
 * security descriptor, base64), {@code MSWINDOWS.xattr.<name>} (an extended attribute, base64),
 * {@code MSWINDOWS.mountpoint} (a symlink entry that is a mount point), {@code LIBARCHIVE.creationtime}, and the
 * tar's modification, access and change times. As in backuptar, the creation time defaults to the modification time
 * and the attributes to {@code FILE_ATTRIBUTE_DIRECTORY} for a directory and none otherwise; an access or change time
 * the tar does not carry is 0, which {@code SetFileInformationByHandle} leaves as the system sets it.
 *
 * <p>The tar is untrusted: a header that is not what backuptar writes is refused with an IOException naming the
 * entry. The older {@code MSWINDOWS.sd} (SDDL, which backuptar converts with a Windows API) is refused unless the
 * entry also has {@code MSWINDOWS.rawsd}, which takes precedence as in backuptar.
 *
 * @param info               the {@code FILE_BASIC_INFO} to set
 * @param securityDescriptor the raw descriptor, or null
 * @param extendedAttributes a {@code FILE_FULL_EA_INFORMATION} list, or null
 * @param reparse            the {@code REPARSE_DATA_BUFFER} of a link, or null
 */
public record BackupEntry(String name, Kind kind, long size, BasicInfo info, byte[] securityDescriptor,
                          byte[] extendedAttributes, byte[] reparse) {
    static final String FILEATTR = "MSWINDOWS.fileattr";
    static final String RAWSD = "MSWINDOWS.rawsd";
    static final String SDDL = "MSWINDOWS.sd";
    static final String MOUNTPOINT = "MSWINDOWS.mountpoint";
    static final String XATTR = "MSWINDOWS.xattr.";
    static final String CREATIONTIME = "LIBARCHIVE.creationtime";
    /** FILETIME of 1970-01-01T00:00:00Z: 100 ns intervals since 1601-01-01. */
    static final long UNIX_EPOCH = 116_444_736_000_000_000L;
    private static final Pattern DECIMAL = Pattern.compile("[0-9]{1,10}");
    private static final Pattern PAX_TIME = Pattern.compile("-?[0-9]{1,19}(\\.[0-9]{1,19})?");
    private static final int SE_SELF_RELATIVE = 0x8000;

    public enum Kind { FILE, DIRECTORY, SYMLINK, MOUNT_POINT }

    /** The Windows view of tar entry {@code e}, whose name relative to the layer is {@code name}. */
    public static BackupEntry of(TarArchiveEntry e, String name) throws IOException {
        Map<String, String> pax = e.getExtraPaxHeaders();
        Kind kind;
        if (e.isDirectory()) {
            kind = Kind.DIRECTORY;
        } else if (e.isSymbolicLink()) {
            kind = pax.containsKey(MOUNTPOINT) ? Kind.MOUNT_POINT : Kind.SYMLINK;
        } else if (e.isFile() && !e.isLink()) {
            kind = Kind.FILE;
        } else {
            throw refused(e, "is of a kind a Windows layer does not hold");
        }
        int attributes = attributes(e, pax.get(FILEATTR), kind);
        long mtime = filetime(e, "modification", e.getLastModifiedTime());
        long atime = e.getLastAccessTime() == null ? 0 : filetime(e, "access", e.getLastAccessTime());
        long ctime = e.getStatusChangeTime() == null ? 0 : filetime(e, "change", e.getStatusChangeTime());
        long created = mtime;
        String creation = pax.get(CREATIONTIME);
        if (creation != null) {
            created = filetime(e, "creation", paxTime(e, creation));
        } else if (e.getCreationTime() != null) {
            created = filetime(e, "creation", e.getCreationTime());
        }
        byte[] sd = securityDescriptor(e, pax);
        byte[] eas = extendedAttributes(e, pax);
        byte[] reparse = null;
        if (kind == Kind.SYMLINK || kind == Kind.MOUNT_POINT) {
            try {
                reparse = ReparsePoints.encode(e.getLinkName(), kind == Kind.MOUNT_POINT);
            } catch (IOException x) {
                throw refused(e, x.getMessage());
            }
        }
        return new BackupEntry(name, kind, kind == Kind.FILE ? e.getSize() : 0,
                new BasicInfo(created, atime, mtime, ctime, attributes), sd, eas, reparse);
    }

    /**
     * Writes the streams that come before the data, in backuptar's order: the security descriptor, the extended
     * attributes, the reparse data of a link, then for a file the {@code BACKUP_DATA} header, whose {@link #size}
     * bytes of data the caller copies next.
     */
    public void writeHead(OutputStream out) throws IOException {
        if (securityDescriptor != null) {
            BackupStream.write(out, BackupStream.BACKUP_SECURITY_DATA, securityDescriptor);
        }
        if (extendedAttributes != null) {
            BackupStream.write(out, BackupStream.BACKUP_EA_DATA, extendedAttributes);
        }
        if (reparse != null) {
            BackupStream.write(out, BackupStream.BACKUP_REPARSE_DATA, reparse);
        }
        if (kind == Kind.FILE) {
            BackupStream.writeHeader(out, new BackupStream.Header(BackupStream.BACKUP_DATA, 0, size, ""));
        }
    }

    /** The header of an alternate data stream: tar entry {@code file:stream} is stream {@code :stream:$DATA}. */
    public static BackupStream.Header alternate(String stream, long size) {
        return new BackupStream.Header(BackupStream.BACKUP_ALTERNATE_DATA, 0, size, ":" + stream + ":$DATA");
    }

    public boolean directory() {
        return kind == Kind.DIRECTORY;
    }

    /** A FILETIME (100 ns since 1601-01-01 UTC) of an instant. */
    public static long filetime(Instant t) {
        return Math.addExact(Math.addExact(Math.multiplyExact(t.getEpochSecond(), 10_000_000L), t.getNano() / 100),
                UNIX_EPOCH);
    }

    private static int attributes(TarArchiveEntry e, String value, Kind kind) throws IOException {
        if (value == null) {
            return kind == Kind.DIRECTORY ? BasicInfo.FILE_ATTRIBUTE_DIRECTORY : 0;
        }
        if (!DECIMAL.matcher(value).matches() || Long.parseLong(value) > 0xFFFF_FFFFL) {
            throw refused(e, "has " + FILEATTR + " \"" + value + "\", not a 32-bit decimal");
        }
        int a = (int) Long.parseLong(value);
        boolean dir = (a & BasicInfo.FILE_ATTRIBUTE_DIRECTORY) != 0;
        if (kind == Kind.DIRECTORY && !dir || kind == Kind.FILE && dir) {
            throw refused(e, "has " + FILEATTR + " " + value + ", which "
                    + (dir ? "says directory for a file" : "does not say directory for a directory"));
        }
        return a;
    }

    private static byte[] securityDescriptor(TarArchiveEntry e, Map<String, String> pax) throws IOException {
        String raw = pax.get(RAWSD);
        if (raw == null) {
            if (pax.containsKey(SDDL)) {
                throw refused(e, "has only an SDDL security descriptor (" + SDDL + ", written by older backuptar); "
                        + "berth takes the raw one (" + RAWSD + ")");
            }
            return null;
        }
        byte[] sd = base64(e, RAWSD, raw);
        // SECURITY_DESCRIPTOR_RELATIVE: Revision 1, Sbz1, Control (SE_SELF_RELATIVE set), four offsets
        if (sd.length < 20 || sd[0] != 1 || (ByteBuffer.wrap(sd, 2, 2).order(ByteOrder.LITTLE_ENDIAN).getShort()
                & SE_SELF_RELATIVE) == 0) {
            throw refused(e, "has a " + RAWSD + " that is not a self-relative security descriptor");
        }
        return sd;
    }

    /** {@code FILE_FULL_EA_INFORMATION} entries, by name, each padded to 4 bytes (go-winio {@code ea.go}). */
    private static byte[] extendedAttributes(TarArchiveEntry e, Map<String, String> pax) throws IOException {
        Map<String, byte[]> eas = new TreeMap<>();
        for (var h : pax.entrySet()) {
            if (h.getKey().startsWith(XATTR)) {
                String n = h.getKey().substring(XATTR.length());
                if (n.isEmpty() || n.length() > 255 || !StandardCharsets.US_ASCII.newEncoder().canEncode(n)
                        || n.indexOf('\0') >= 0) {
                    throw refused(e, "has an extended attribute named \"" + n + "\"");
                }
                byte[] v = base64(e, h.getKey(), h.getValue());
                if (v.length > 0xFFFF) {
                    throw refused(e, "has an extended attribute " + n + " of " + v.length + " bytes");
                }
                eas.put(n, v);
            }
        }
        if (eas.isEmpty()) {
            return null;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int i = 0;
        for (var ea : eas.entrySet()) {
            byte[] n = ea.getKey().getBytes(StandardCharsets.US_ASCII);
            int entry = 8 + n.length + 1 + ea.getValue().length;
            int padded = (entry + 3) & ~3;
            ByteBuffer b = ByteBuffer.allocate(padded).order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(++i == eas.size() ? 0 : padded).put((byte) 0).put((byte) n.length)
                    .putShort((short) ea.getValue().length).put(n).put((byte) 0).put(ea.getValue());
            out.write(b.array());
        }
        return out.toByteArray();
    }

    private static byte[] base64(TarArchiveEntry e, String header, String value) throws IOException {
        try {
            return Base64.getDecoder().decode(value);
        } catch (IllegalArgumentException x) {
            throw refused(e, "has " + header + " that is not base64: " + x.getMessage());
        }
    }

    private static FileTime paxTime(TarArchiveEntry e, String value) throws IOException {
        if (!PAX_TIME.matcher(value).matches()) {
            throw refused(e, "has " + CREATIONTIME + " \"" + value + "\", not a PAX time");
        }
        try {
            long nanos = new BigDecimal(value).movePointRight(9).setScale(0, RoundingMode.DOWN).longValueExact();
            return FileTime.from(nanos, TimeUnit.NANOSECONDS);
        } catch (ArithmeticException x) {
            throw refused(e, "has " + CREATIONTIME + " \"" + value + "\" out of range");
        }
    }

    private static long filetime(TarArchiveEntry e, String what, FileTime t) throws IOException {
        try {
            long ft = filetime(t.toInstant());
            if (ft <= 0) {
                throw new ArithmeticException();
            }
            return ft;
        } catch (ArithmeticException x) {
            throw refused(e, "has a " + what + " time out of a FILETIME's range: " + t);
        }
    }

    static IOException refused(TarArchiveEntry e, String why) {
        return new IOException("entry \"" + e.getName() + "\" " + why);
    }
}
