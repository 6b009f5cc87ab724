package dev.berth.oci;

import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Reads of the small text files the backends poll: /proc entries, cgroup files, pid and exit files. The kubelet's
 * load reads several of them per container every few seconds, so the reads keep their garbage small:
 * {@code Files.readString} sizes its buffer from the file's size, which /proc and cgroupfs report as 0 or 4096, so
 * every read of a 10-byte file started with an 8 KiB buffer and a copy, and {@code Files.readAllLines} adds a
 * 16 KiB reader buffer and a list of lines. Here the caller says how large the file usually is, and the buffer
 * grows only past that. The text is decoded as ISO-8859-1, byte for char: these files are ASCII, and a byte that is
 * not cannot make a read fail.
 */
public final class SmallFiles {
    private SmallFiles() {}

    /**
     * The whole file as text.
     *
     * @param usual the size in bytes most such files have: the first buffer's size
     */
    public static String read(Path file, int usual) throws IOException {
        try (FileInputStream in = new FileInputStream(file.toFile())) {
            byte[] buf = new byte[Math.max(16, usual)];
            int n = 0;
            for (int r; (r = in.read(buf, n, buf.length - n)) > 0; ) {
                n += r;
                if (n == buf.length) {
                    buf = Arrays.copyOf(buf, buf.length * 2);
                }
            }
            return new String(buf, 0, n, StandardCharsets.ISO_8859_1);
        }
    }

    /** The number a file holds alone (a pid file, memory.current), surrounding white space allowed; -1 if unreadable. */
    public static long readLong(Path file) {
        try {
            String s = read(file, 32).strip();
            return s.isEmpty() ? -1 : Long.parseLong(s);
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }
}
