package dev.berth.hcs.bind;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The Win32 backup stream format, as {@code BackupRead} produces it and {@code BackupWrite} takes it: a sequence of
 * streams, each a {@code WIN32_STREAM_ID} header ({@code DWORD dwStreamId}, {@code DWORD dwStreamAttributes},
 * {@code LARGE_INTEGER Size}, {@code DWORD dwStreamNameSize}: 20 bytes, little-endian) followed by the stream's name
 * in UTF-16LE ({@code dwStreamNameSize} bytes, no terminator) and then {@code Size} bytes of data. Only
 * {@code BACKUP_ALTERNATE_DATA} streams have a name (":name:$DATA"). A {@code BACKUP_SPARSE_BLOCK} stream's size
 * counts an 8-byte offset that precedes its data.
 *
 * <p>Follows Microsoft's {@code WIN32_STREAM_ID} reference and go-winio's {@code backup.go} (the stream ids and the
 * header layout); the bytes are written here, not copied.
 */
public final class BackupStream {
    public static final int BACKUP_DATA = 1;
    public static final int BACKUP_EA_DATA = 2;
    public static final int BACKUP_SECURITY_DATA = 3;
    public static final int BACKUP_ALTERNATE_DATA = 4;
    public static final int BACKUP_LINK = 5;
    public static final int BACKUP_PROPERTY_DATA = 6;
    public static final int BACKUP_OBJECT_ID = 7;
    public static final int BACKUP_REPARSE_DATA = 8;
    public static final int BACKUP_SPARSE_BLOCK = 9;
    public static final int BACKUP_TXFS_DATA = 10;
    /** {@code STREAM_SPARSE_ATTRIBUTE} in {@code dwStreamAttributes}. */
    public static final int STREAM_SPARSE_ATTRIBUTE = 8;
    /** The size of a {@code WIN32_STREAM_ID} without its name. */
    public static final int HEADER_SIZE = 20;
    /** The longest stream name taken when reading (NTFS names are at most 255 UTF-16 units, plus ":" and ":$DATA"). */
    static final int MAX_NAME_BYTES = 2 * 512;

    private BackupStream() {}

    /** One stream's header: its id, attributes, size of its data, and its name (empty but for alternate data). */
    public record Header(int id, int attributes, long size, String name) {
        public Header {
            if (size < 0) {
                throw new IllegalArgumentException("a stream size is never negative: " + size);
            }
            name = name == null ? "" : name;
        }
    }

    /** Writes {@code h} (header and name); its {@code size} bytes of data must follow. */
    public static void writeHeader(OutputStream out, Header h) throws IOException {
        byte[] name = h.name().getBytes(StandardCharsets.UTF_16LE);
        ByteBuffer b = ByteBuffer.allocate(HEADER_SIZE + name.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(h.id()).putInt(h.attributes()).putLong(h.size()).putInt(name.length).put(name);
        out.write(b.array());
    }

    /** Writes a whole stream whose data is at hand: its header, then {@code data}. */
    public static void write(OutputStream out, int id, byte[] data) throws IOException {
        writeHeader(out, new Header(id, 0, data.length, ""));
        out.write(data);
    }

    /**
     * Reads a backup stream stream by stream: {@link #next} gives the next header (or null at the end), and
     * {@link #data} the data of that stream, which need not be read to its end before the next {@link #next}.
     */
    public static final class Reader {
        private final InputStream in;
        private long left;

        public Reader(InputStream in) {
            this.in = in;
        }

        /** The next stream's header, or null when the backup stream ends cleanly between two streams. */
        public Header next() throws IOException {
            skip(left);
            left = 0;
            byte[] fixed = new byte[HEADER_SIZE];
            int n = in.readNBytes(fixed, 0, HEADER_SIZE);
            if (n == 0) {
                return null;
            }
            if (n < HEADER_SIZE) {
                throw new EOFException("the backup stream ends inside a stream header (" + n + " of "
                        + HEADER_SIZE + " bytes)");
            }
            ByteBuffer b = ByteBuffer.wrap(fixed).order(ByteOrder.LITTLE_ENDIAN);
            int id = b.getInt();
            int attributes = b.getInt();
            long size = b.getLong();
            int nameSize = b.getInt();
            if (size < 0) {
                throw new IOException("stream " + id + " has a size out of range: " + Long.toUnsignedString(size));
            }
            if (nameSize < 0 || nameSize > MAX_NAME_BYTES || nameSize % 2 != 0) {
                throw new IOException("stream " + id + " has a name size out of range: "
                        + Integer.toUnsignedString(nameSize));
            }
            byte[] name = in.readNBytes(nameSize);
            if (name.length < nameSize) {
                throw new EOFException("the backup stream ends inside the name of stream " + id);
            }
            left = size;
            return new Header(id, attributes, size, new String(name, StandardCharsets.UTF_16LE));
        }

        /** The current stream's data that is left; it ends with the stream (an early end is an EOFException). */
        public InputStream data() {
            return new InputStream() {
                @Override
                public int read() throws IOException {
                    byte[] one = new byte[1];
                    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (left == 0) {
                        return -1;
                    }
                    int n = in.read(b, off, (int) Math.min(len, left));
                    if (n < 0) {
                        throw new EOFException("the backup stream ends " + left + " bytes before its stream does");
                    }
                    left -= n;
                    return n;
                }
            };
        }

        /** The current stream's data, which must be at most {@code max} bytes. */
        public byte[] readAll(int max) throws IOException {
            if (left > max) {
                throw new IOException("a stream of " + left + " bytes where at most " + max + " are taken");
            }
            return data().readAllBytes();
        }

        private void skip(long n) throws IOException {
            while (n > 0) {
                long s = in.skip(n);
                if (s <= 0) {
                    if (in.read() < 0) {
                        throw new EOFException("the backup stream ends " + n + " bytes before its stream does");
                    }
                    s = 1;
                }
                n -= s;
            }
        }
    }
}
