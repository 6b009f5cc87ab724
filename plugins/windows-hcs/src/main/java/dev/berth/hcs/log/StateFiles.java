package dev.berth.hcs.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * The one way this plugin replaces a file it keeps state in (records, exit files, relay records, layer markers and
 * owners), in berth and in a log relay of its own: the content goes to a temp file beside the target, is flushed to
 * disk and is moved over the target ({@code MoveFileEx} with {@code MOVEFILE_REPLACE_EXISTING} on Windows, where
 * NTFS journals the rename; {@code rename(2)} elsewhere), so a reader or a restarted berth finds the old content
 * or the new. Each write has a temp file of its own, named {@code <name>.<random>.tmp}: berth and a relay may
 * write one exit file at the same time, and the listings of this plugin's directories skip {@code .tmp} names.
 */
public final class StateFiles {
    private StateFiles() {}

    /** Replaces {@code file}'s content with {@code data}; its directory must exist. */
    public static void write(Path file, byte[] data) throws IOException {
        Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), file.getFileName() + ".", ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(data);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
