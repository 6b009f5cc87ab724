package dev.berth.hcs.layer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The {@code REPARSE_DATA_BUFFER} of a symbolic link ({@code IO_REPARSE_TAG_SYMLINK}) or a mount point (a junction,
 * {@code IO_REPARSE_TAG_MOUNT_POINT}), the data of a {@code BACKUP_REPARSE_DATA} stream: the tag, the data length,
 * a reserved word, the substitute name's offset and length, the print name's offset and length (all in bytes into
 * the path buffer), for a symbolic link a flags word ({@code SYMLINK_FLAG_RELATIVE}), then the path buffer: the
 * substitute name (the NT path, {@code \??\C:\...} for an absolute target) and the print name (the target as given),
 * each UTF-16LE and NUL-terminated although counted without the NUL.
 *
 * <p>Follows Microsoft's {@code REPARSE_DATA_BUFFER} reference and go-winio's {@code reparse.go}, which backuptar
 * uses for a tar's symlink entries ({@code MSWINDOWS.mountpoint} telling a mount point); written here, not copied.
 */
public final class ReparsePoints {
    public static final int IO_REPARSE_TAG_MOUNT_POINT = 0xA0000003;
    public static final int IO_REPARSE_TAG_SYMLINK = 0xA000000C;
    static final int SYMLINK_FLAG_RELATIVE = 1;
    /** {@code MAXIMUM_REPARSE_DATA_BUFFER_SIZE}. */
    static final int MAX_SIZE = 16 * 1024;
    private static final int HEAD = 8;

    private ReparsePoints() {}

    /** A decoded reparse point: the target (the print name), the NT path, and whether it is a mount point. */
    public record ReparsePoint(String target, String ntTarget, boolean mountPoint, boolean relative) {}

    /** Encodes a link to {@code target} (a Windows path; '/' is taken as '\'). */
    public static byte[] encode(String target, boolean mountPoint) throws IOException {
        String t = target.replace('/', '\\');
        if (t.isEmpty() || t.indexOf('\0') >= 0) {
            throw new IOException("a link target that is empty or holds a NUL");
        }
        String nt;
        boolean relative = false;
        if (t.startsWith("\\\\?\\")) {
            nt = "\\??\\" + t.substring(4);
        } else if (t.startsWith("\\\\")) {
            nt = "\\??\\UNC\\" + t.substring(2);
        } else if (t.length() >= 2 && t.charAt(1) == ':' && isDriveLetter(t.charAt(0))) {
            nt = "\\??\\" + t;
        } else {
            nt = t;
            relative = true;
        }
        byte[] ntBytes = (nt + "\0").getBytes(StandardCharsets.UTF_16LE);
        byte[] printBytes = (t + "\0").getBytes(StandardCharsets.UTF_16LE);
        int flags = mountPoint ? 0 : 4;
        int dataLength = 8 + flags + ntBytes.length + printBytes.length;
        if (HEAD + dataLength > MAX_SIZE) {
            throw new IOException("a link target too long for a reparse point (" + t.length() + " characters)");
        }
        ByteBuffer b = ByteBuffer.allocate(HEAD + dataLength).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(mountPoint ? IO_REPARSE_TAG_MOUNT_POINT : IO_REPARSE_TAG_SYMLINK);
        b.putShort((short) dataLength).putShort((short) 0);
        b.putShort((short) 0).putShort((short) (ntBytes.length - 2));
        b.putShort((short) ntBytes.length).putShort((short) (printBytes.length - 2));
        if (!mountPoint) {
            b.putInt(relative ? SYMLINK_FLAG_RELATIVE : 0);
        }
        b.put(ntBytes).put(printBytes);
        return b.array();
    }

    /** Decodes a symbolic link's or mount point's buffer; any other tag, or names outside the buffer, is refused. */
    public static ReparsePoint decode(byte[] buf) throws IOException {
        if (buf.length < HEAD + 8) {
            throw new IOException("a reparse buffer of " + buf.length + " bytes is too short");
        }
        ByteBuffer b = ByteBuffer.wrap(buf).order(ByteOrder.LITTLE_ENDIAN);
        int tag = b.getInt();
        int dataLength = Short.toUnsignedInt(b.getShort());
        b.getShort();
        boolean mountPoint;
        if (tag == IO_REPARSE_TAG_MOUNT_POINT) {
            mountPoint = true;
        } else if (tag == IO_REPARSE_TAG_SYMLINK) {
            mountPoint = false;
        } else {
            throw new IOException("reparse tag 0x" + Integer.toHexString(tag)
                    + " is neither a symlink nor a mount point");
        }
        if (HEAD + dataLength != buf.length) {
            throw new IOException("a reparse buffer of " + buf.length + " bytes says its data is " + dataLength);
        }
        int subOff = Short.toUnsignedInt(b.getShort());
        int subLen = Short.toUnsignedInt(b.getShort());
        int printOff = Short.toUnsignedInt(b.getShort());
        int printLen = Short.toUnsignedInt(b.getShort());
        int flags = mountPoint ? 0 : b.getInt();
        int path = b.position();
        return new ReparsePoint(name(buf, path, printOff, printLen), name(buf, path, subOff, subLen), mountPoint,
                (flags & SYMLINK_FLAG_RELATIVE) != 0);
    }

    private static String name(byte[] buf, int path, int off, int len) throws IOException {
        if (len % 2 != 0 || path + off + len > buf.length) {
            throw new IOException("a reparse point name lies outside its buffer");
        }
        return new String(buf, path + off, len, StandardCharsets.UTF_16LE);
    }

    private static boolean isDriveLetter(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }
}
