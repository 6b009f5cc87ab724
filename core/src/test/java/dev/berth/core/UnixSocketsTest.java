package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.cri.v1.RuntimeServiceGrpc;
import dev.berth.cri.v1.VersionRequest;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The event loops behind a unix socket server or channel are shut down with it. */
class UnixSocketsTest {
    @TempDir
    Path dir;

    @Test
    void daemonCloseShutsDownTheServersEventLoops() throws Exception {
        Daemon daemon = FakeDaemons.create(FakeDaemons.config(dir, ""));
        Path socket = dir.resolve("berth.sock");
        daemon.serveUnix(socket);
        UnixSockets.EventLoops loops = daemon.eventLoops();
        ManagedChannel channel = UnixSockets.channel(socket);
        try {
            assertThat(RuntimeServiceGrpc.newBlockingStub(channel).version(VersionRequest.getDefaultInstance())
                    .getRuntimeName()).isEqualTo("berth");
            assertThat(loops.groups()).hasSize(2).noneMatch(g -> g.isShuttingDown());
        } finally {
            channel.shutdownNow();
            daemon.close();
        }
        assertThat(loops.terminated()).isTrue();
        assertThat(channel.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        assertThat(((UnixSockets.OwningChannel) channel).eventLoops().terminated()).isTrue();
    }
}
