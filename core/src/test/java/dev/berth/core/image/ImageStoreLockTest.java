package dev.berth.core.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.core.util.NonBlocking;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A read of the image store on a thread that must not block (an inline ImageStatus or ListImages) takes the store's
 * lock only when it is free; while a writer holds it, the read gives up ({@link NonBlocking.WouldBlock}) rather than
 * wait, and a read elsewhere waits as before.
 */
class ImageStoreLockTest {
    @TempDir
    Path tmp;

    @Test
    void aNonBlockingReadGivesUpWhileAWriterHoldsTheLock() throws Exception {
        ImageStore store = new ImageStore(tmp);
        var queries = new ImageQueries(store);

        assertThat(NonBlocking.call(queries::list)).isEmpty(); // the lock is free: answered

        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread writer = Thread.ofVirtual().start(() -> store.withLock(() -> {
            held.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return null;
        }));
        held.await();
        assertThatThrownBy(() -> NonBlocking.call(queries::list)).isInstanceOf(NonBlocking.WouldBlock.class);
        assertThatThrownBy(() -> NonBlocking.call(() -> queries.find("busybox"))).isInstanceOf(NonBlocking.WouldBlock.class);

        Thread reader = Thread.ofVirtual().start(queries::list); // may block: waits for the writer
        Thread.sleep(50);
        assertThat(reader.isAlive()).isTrue();
        release.countDown();
        reader.join();
        writer.join();
        assertThat(NonBlocking.call(queries::list)).isEmpty();
    }

    @Test
    void aNonBlockingReadNeverReadsABlob() {
        ImageStore store = new ImageStore(tmp);
        assertThatThrownBy(() -> NonBlocking.call(() -> store.readText("sha256:" + "0".repeat(64))))
                .isInstanceOf(NonBlocking.WouldBlock.class);
        assertThat(store.readText("sha256:" + "0".repeat(64))).isEmpty();
    }
}
