package dev.berth.hcs.log;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Writes a container's output to its CRI log file, one record per line:
 * {@code <RFC3339Nano> <stdout|stderr> <F|P> <text>}; a line longer than 16 KiB is cut into {@code P} records
 * ending with an {@code F} record, and output that ends without a newline is flushed as a {@code P} record.
 * Windows programs end lines with CRLF; the CR is kept, as containerd's Windows log writer keeps it.
 *
 * <p>One writer serves both streams of a container; {@link #copy} runs on one thread per stream until the pipe
 * ends. {@link #reopen} is the kubelet's ReopenContainerLog.
 */
public final class CriLogWriter implements AutoCloseable {
    static final int MAX_LINE = 16 * 1024;
    private static final DateTimeFormatter TS =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSSXXX").withZone(ZoneOffset.UTC);

    private final Path file;
    private final Clock clock;
    private final ReentrantLock lock = new ReentrantLock();
    private FileChannel out; // guarded by lock

    public CriLogWriter(Path file, Clock clock) throws IOException {
        this.file = file;
        this.clock = clock;
        this.out = open(file);
    }

    private static FileChannel open(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        return FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    }

    /** Opens the path afresh after the kubelet renamed the file. */
    public void reopen() throws IOException {
        FileChannel fresh = open(file);
        FileChannel old;
        lock.lock();
        try {
            old = out;
            out = fresh;
        } finally {
            lock.unlock();
        }
        old.close();
    }

    /** Copies {@code in} as stream {@code name} ({@code stdout} or {@code stderr}) until it ends. */
    public void copy(InputStream in, String name) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        int n;
        while ((n = in.read(buf)) > 0) {
            for (int i = 0; i < n; i++) {
                byte b = buf[i];
                if (b == '\n') {
                    record(name, 'F', line.toByteArray());
                    line.reset();
                } else {
                    line.write(b);
                    if (line.size() == MAX_LINE) {
                        record(name, 'P', line.toByteArray());
                        line.reset();
                    }
                }
            }
        }
        if (line.size() > 0) {
            record(name, 'P', line.toByteArray());
        }
    }

    void record(String stream, char tag, byte[] text) throws IOException {
        byte[] head = (TS.format(clock.instant()) + " " + stream + " " + tag + " ").getBytes(StandardCharsets.UTF_8);
        ByteBuffer rec = ByteBuffer.allocate(head.length + text.length + 1);
        rec.put(head).put(text).put((byte) '\n').flip();
        lock.lock();
        try {
            while (rec.hasRemaining()) {
                out.write(rec);
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() throws IOException {
        lock.lock();
        try {
            out.close();
        } finally {
            lock.unlock();
        }
    }
}
