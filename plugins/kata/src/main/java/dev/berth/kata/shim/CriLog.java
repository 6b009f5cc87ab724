package dev.berth.kata.shim;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Copies a container's stdout and stderr FIFOs into its CRI log file, one line per record:
 * {@code <RFC3339Nano> <stdout|stderr> <F|P> <text>}. A line longer than 16 KiB is cut into {@code P}
 * (partial) records ending with one {@code F} record.
 *
 * <p>The copier lives in the JVM; the shim keeps the FIFOs open, so while berth is down the container's output
 * waits in the pipe (64 KiB) and a chatty container blocks on write until berth is back and reopens the FIFOs.
 * That is the price of CRI's line format with a shim that only knows FIFOs, files and binaries.
 */
public final class CriLog implements AutoCloseable {
    static final int MAX_LINE = 16 * 1024;
    private static final DateTimeFormatter TS =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSSXXX").withZone(ZoneOffset.UTC);

    private final Path file;
    private FileChannel out; // guarded by lock
    private final ReentrantLock lock = new ReentrantLock();
    private final List<FifoReader> readers = new ArrayList<>();
    private final List<Tap> taps = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** Receives the raw bytes of both streams as they are copied, e.g. for an attach session. */
    public interface Tap {
        void accept(boolean stderr, byte[] chunk);
    }

    public void addTap(Tap t) {
        taps.add(t);
    }

    public void removeTap(Tap t) {
        taps.remove(t);
    }

    private CriLog(Path file, FileChannel out) {
        this.file = file;
        this.out = out;
    }

    private static FileChannel open(Path logFile) throws IOException {
        Files.createDirectories(logFile.toAbsolutePath().getParent());
        return FileChannel.open(logFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
    }

    /**
     * Opens the log path afresh, after the kubelet renamed the file for rotation: later lines go to the new file,
     * none is split between the two. Throws if the file cannot be created; the old one then stays in use.
     */
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

    /** Starts copying; {@code stderr} may be null (a TTY merges it into stdout). */
    public static CriLog start(Path logFile, Path stdout, Path stderr, String name) throws IOException {
        CriLog log = new CriLog(logFile, open(logFile));
        log.readers.add(log.stream(stdout, "stdout", name));
        if (stderr != null) {
            log.readers.add(log.stream(stderr, "stderr", name));
        }
        return log;
    }

    private FifoReader stream(Path fifo, String streamName, String name) {
        LineSplitter split = new LineSplitter(streamName);
        boolean err = streamName.equals("stderr");
        return FifoReader.start(fifo, "cri-log-" + streamName + "-" + name, chunk -> {
            split.accept(chunk);
            for (Tap t : taps) {
                t.accept(err, chunk);
            }
        }, split::finish);
    }

    /** Waits up to {@code timeout} for both streams to end (the process and its children closed them). */
    public boolean awaitEnd(Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        for (FifoReader r : readers) {
            if (!r.awaitEnd(Duration.ofNanos(Math.max(0, end - System.nanoTime())))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        readers.forEach(FifoReader::stop);
        lock.lock();
        try {
            out.close();
        } catch (IOException ignored) {
            // nothing to save
        } finally {
            lock.unlock();
        }
    }

    private void write(String stream, char tag, byte[] text, int off, int len) {
        byte[] head = (TS.format(Instant.now()) + " " + stream + " " + tag + " ").getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(head.length + len + 1);
        b.put(head).put(text, off, len).put((byte) '\n').flip();
        lock.lock();
        try {
            while (b.hasRemaining()) {
                out.write(b);
            }
        } catch (IOException e) {
            // the log file is gone (rotated away or disk full): drop the line rather than block the container
        } finally {
            lock.unlock();
        }
    }

    /** Splits one stream's bytes into CRI records. */
    final class LineSplitter {
        private final String stream;
        private final byte[] pending = new byte[MAX_LINE];
        private int used;

        LineSplitter(String stream) {
            this.stream = stream;
        }

        void accept(byte[] chunk) {
            for (byte c : chunk) {
                if (c == '\n') {
                    write(stream, 'F', pending, 0, used);
                    used = 0;
                } else {
                    if (used == MAX_LINE) {
                        write(stream, 'P', pending, 0, used);
                        used = 0;
                    }
                    pending[used++] = c;
                }
            }
        }

        void finish() {
            if (used > 0) {
                write(stream, 'F', pending, 0, used);
                used = 0;
            }
        }
    }
}
