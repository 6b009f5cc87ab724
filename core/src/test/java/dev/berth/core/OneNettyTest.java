package dev.berth.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.channel.epoll.Epoll;
import io.netty.util.Version;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * gRPC and the streaming server run on one Netty: no relocated copy from grpc-netty-shaded, every Netty jar of one
 * version (grpc-netty's own Netty dependencies included), and epoll's native library loads for the CRI socket.
 */
class OneNettyTest {
    @Test
    void thereIsNoShadedNetty() {
        assertThatThrownBy(() -> Class.forName("io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder"))
                .isInstanceOf(ClassNotFoundException.class);
        assertThatThrownBy(() -> Class.forName("io.grpc.netty.shaded.io.netty.channel.Channel"))
                .isInstanceOf(ClassNotFoundException.class);
    }

    @Test
    void everyNettyArtifactHasOneVersion() {
        Map<String, String> versions = new TreeMap<>();
        Version.identify().forEach((artifact, v) -> versions.put(artifact, v.artifactVersion()));
        // grpc-netty's HTTP/2 codec, the streaming server's HTTP codec and the epoll transport are all there.
        assertThat(versions).containsKeys("netty-codec-http2", "netty-codec-http", "netty-transport-classes-epoll",
                "netty-transport-native-epoll");
        assertThat(versions.values()).as("Netty artifacts and versions: %s", versions).containsOnly(
                versions.get("netty-transport"));
    }

    @Test
    void epollIsAvailableForTheCriSocket() {
        Epoll.ensureAvailability();
        assertThat(Epoll.isAvailable()).isTrue();
    }
}
