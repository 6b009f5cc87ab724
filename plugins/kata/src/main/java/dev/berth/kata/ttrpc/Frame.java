package dev.berth.kata.ttrpc;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * One ttrpc frame: a 10-byte big-endian header (uint32 data length, uint32 stream id, uint8 type, uint8 flags)
 * followed by the data. {@code data} is {@code null} for a frame whose announced length exceeded the limit; its
 * bytes were read and dropped, {@code length} says how many.
 */
public record Frame(int streamId, byte type, byte flags, byte[] data, long length) {
    public static final int HEADER_SIZE = 10;
    /** The largest data part either side accepts (4 MiB). */
    public static final int MAX_DATA = 4 << 20;
    /** Beyond this a length is taken as a corrupt stream rather than an oversized message. */
    static final long CORRUPT_LENGTH = 64L << 20;

    public static final byte TYPE_REQUEST = 0x01;
    public static final byte TYPE_RESPONSE = 0x02;
    public static final byte TYPE_DATA = 0x03;

    public static Frame of(int streamId, byte type, byte[] data) {
        return new Frame(streamId, type, (byte) 0, data, data.length);
    }

    public boolean oversized() {
        return data == null;
    }

    /** Writes the frame with one gathering write loop; the caller serialises writers. */
    public void writeTo(WritableByteChannel ch) throws IOException {
        if (data.length > MAX_DATA) {
            throw new IOException("frame of " + data.length + " bytes exceeds the " + MAX_DATA + " byte limit");
        }
        ByteBuffer buf = ByteBuffer.allocate(HEADER_SIZE + data.length).order(ByteOrder.BIG_ENDIAN);
        buf.putInt(data.length).putInt(streamId).put(type).put(flags).put(data).flip();
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    /**
     * Reads the next frame. Throws {@link EOFException} on a clean end of stream between frames and
     * {@link CorruptStreamException} when the header cannot belong to a sane stream.
     */
    public static Frame readFrom(ReadableByteChannel ch) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(HEADER_SIZE).order(ByteOrder.BIG_ENDIAN);
        if (!readFully(ch, header, true)) {
            throw new EOFException("connection closed");
        }
        header.flip();
        long length = Integer.toUnsignedLong(header.getInt());
        int stream = header.getInt();
        byte type = header.get();
        byte flags = header.get();
        if (length > CORRUPT_LENGTH) {
            throw new CorruptStreamException("frame header announces " + length + " bytes; the stream is corrupt");
        }
        if (length > MAX_DATA) {
            discard(ch, length);
            return new Frame(stream, type, flags, null, length);
        }
        ByteBuffer body = ByteBuffer.allocate((int) length);
        readFully(ch, body, false);
        return new Frame(stream, type, flags, body.array(), length);
    }

    private static boolean readFully(ReadableByteChannel ch, ByteBuffer buf, boolean eofAllowedAtStart)
            throws IOException {
        boolean first = true;
        while (buf.hasRemaining()) {
            int n = ch.read(buf);
            if (n < 0) {
                if (first && eofAllowedAtStart && buf.position() == 0) {
                    return false;
                }
                throw new EOFException("connection closed in the middle of a frame");
            }
            first = false;
        }
        return true;
    }

    private static void discard(ReadableByteChannel ch, long length) throws IOException {
        ByteBuffer scratch = ByteBuffer.allocate(64 * 1024);
        long left = length;
        while (left > 0) {
            scratch.clear().limit((int) Math.min(scratch.capacity(), left));
            int n = ch.read(scratch);
            if (n < 0) {
                throw new EOFException("connection closed in the middle of a frame");
            }
            left -= n;
        }
    }

    /** The byte stream cannot be re-synchronised; the connection must be dropped. */
    public static final class CorruptStreamException extends IOException {
        private static final long serialVersionUID = 1L;

        public CorruptStreamException(String message) {
            super(message);
        }
    }
}
