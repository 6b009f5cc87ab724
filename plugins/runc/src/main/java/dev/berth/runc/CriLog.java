package dev.berth.runc;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/**
 * The CRI log format conmon writes: {@code <RFC3339Nano> <stream> <P|F> <message>}, one line per chunk; a
 * {@code P} (partial) line continues in the next one, an {@code F} line ends with a newline that was stripped.
 */
final class CriLog {
    /** One parsed line. */
    record Line(OffsetDateTime time, String stream, boolean partial, String message) {}

    private CriLog() {}

    /** Parses one line; conmon writes an offset ({@code +00:00}) where others write {@code Z}: both parse. */
    static Line parse(String line) {
        String[] f = line.split(" ", 4);
        if (f.length < 3) {
            throw new IllegalArgumentException("not a CRI log line: " + line);
        }
        try {
            OffsetDateTime t = OffsetDateTime.parse(f[0], DateTimeFormatter.ISO_OFFSET_DATE_TIME);
            return new Line(t, f[1], f[2].equals("P"), f.length > 3 ? f[3] : "");
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("not a CRI log line: " + line, e);
        }
    }

    /** Splits a log into stdout and stderr bytes, restoring the newlines of full lines. */
    static byte[][] split(byte[] log) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String text = new String(log, StandardCharsets.UTF_8);
        for (String raw : text.split("\n")) {
            if (raw.isEmpty()) {
                continue;
            }
            Line l;
            try {
                l = parse(raw);
            } catch (IllegalArgumentException e) {
                continue;
            }
            ByteArrayOutputStream target = l.stream().equals("stderr") ? err : out;
            target.writeBytes(l.message().getBytes(StandardCharsets.UTF_8));
            if (!l.partial()) {
                target.write('\n');
            }
        }
        return new byte[][] {out.toByteArray(), err.toByteArray()};
    }
}
