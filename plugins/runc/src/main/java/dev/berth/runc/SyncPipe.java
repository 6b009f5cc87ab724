package dev.berth.runc;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * conmon's sync pipe, as a FIFO: conmon writes JSON messages ({@code {"data": pid}}, {@code {"exit_code": n}})
 * and keeps the pipe open after it daemonises, so messages are split by brace matching, not by EOF.
 */
final class SyncPipe implements AutoCloseable {
    private final Path path;
    private final CompletableFuture<JsonNode> result = new CompletableFuture<>();
    private volatile FileChannel channel;
    private final Thread reader;

    /** Starts reading {@code path}; completes with the first message {@code done} accepts, or null at EOF. */
    SyncPipe(Path path, Predicate<JsonNode> done) {
        this.path = path;
        this.reader = Thread.ofPlatform().daemon().name("berth-runc-sync").start(() -> read(done));
    }

    private void read(Predicate<JsonNode> done) {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            channel = ch;
            ByteArrayOutputStream msg = new ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(4096);
            int depth = 0;
            boolean inString = false;
            boolean escaped = false;
            while (ch.read(buf.clear()) > 0) {
                buf.flip();
                while (buf.hasRemaining()) {
                    byte b = buf.get();
                    if (depth == 0 && b != '{') {
                        continue;
                    }
                    msg.write(b);
                    if (inString) {
                        if (escaped) {
                            escaped = false;
                        } else if (b == '\\') {
                            escaped = true;
                        } else if (b == '"') {
                            inString = false;
                        }
                    } else if (b == '"') {
                        inString = true;
                    } else if (b == '{') {
                        depth++;
                    } else if (b == '}' && --depth == 0) {
                        JsonNode node = OciSpecs.JSON.readTree(msg.toByteArray());
                        msg.reset();
                        if (done.test(node)) {
                            result.complete(node);
                            return;
                        }
                    }
                }
            }
            result.complete(null);
        } catch (IOException e) {
            result.complete(null);
        }
    }

    /** Unblocks a reader still waiting for a writer to open the FIFO. */
    void unblockOpen() {
        if (channel == null && !result.isDone()) {
            try {
                // Opened and closed at once: a reader blocked in open() returns and then sees EOF.
                FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE).close();
            } catch (IOException ignored) {
                // nothing to unblock
            }
        }
    }

    /** The message, null at EOF; throws TimeoutException after {@code millis}. */
    JsonNode await(long millis) throws TimeoutException, InterruptedException {
        try {
            return result.get(millis, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            return null;
        }
    }

    boolean isDone() {
        return result.isDone();
    }

    @Override
    public void close() {
        result.complete(null);
        FileChannel ch = channel;
        if (ch != null) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // closing only to unblock the reader
            }
        } else if (reader.isAlive()) {
            unblockOpen();
        }
    }
}
