package dev.berth.core.network;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.spi.DnsConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PodFilesTest {
    @TempDir
    Path dir;

    @Test
    void resolvConfFromDnsConfig() throws Exception {
        Path file = dir.resolve("pod/resolv.conf");
        PodNetworking.writeResolvConf(file, new DnsConfig(List.of("10.96.0.10", "8.8.8.8"),
                List.of("default.svc.cluster.local", "svc.cluster.local"), List.of("ndots:5", "timeout:2")));
        assertThat(Files.readString(file)).isEqualTo("""
                search default.svc.cluster.local svc.cluster.local
                nameserver 10.96.0.10
                nameserver 8.8.8.8
                options ndots:5 timeout:2
                """);
    }

    @Test
    void emptyDnsConfigCopiesTheHostFile() throws Exception {
        Path host = dir.resolve("host-resolv.conf");
        Files.writeString(host, "nameserver 192.0.2.53\nsearch example.org\n");
        Path file = dir.resolve("resolv.conf");
        Files.writeString(file, "old");
        PodFiles.writeResolvConf(file, DnsConfig.NONE, host);
        assertThat(Files.readString(file)).isEqualTo("nameserver 192.0.2.53\nsearch example.org\n");
        PodFiles.writeResolvConf(file, null, dir.resolve("missing"));
        assertThat(Files.readString(file)).isEmpty();
    }

    @Test
    void rewritingHostsKeepsTheInodeThatContainersHaveMounted() throws Exception {
        Path hosts = dir.resolve("hosts");
        PodNetworking.writeHosts(hosts, "web-0", List.of());
        Object inode = Files.readAttributes(hosts, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        PodNetworking.rewriteHosts(hosts, "web-0", List.of("10.88.0.9"));
        assertThat(Files.readAttributes(hosts, java.nio.file.attribute.BasicFileAttributes.class).fileKey())
                .isEqualTo(inode);
        assertThat(Files.readAllLines(hosts)).endsWith("10.88.0.9\tweb-0").startsWith("127.0.0.1\tlocalhost");
    }

    @Test
    void hostsAndHostname() throws Exception {
        Path hosts = dir.resolve("hosts");
        PodNetworking.writeHosts(hosts, "web-0", List.of("10.88.0.4", "fd00::4"));
        assertThat(Files.readAllLines(hosts)).startsWith("127.0.0.1\tlocalhost",
                "::1\tlocalhost ip6-localhost ip6-loopback").endsWith("10.88.0.4\tweb-0", "fd00::4\tweb-0");
        PodNetworking.writeHosts(hosts, "web-0", List.of());
        assertThat(Files.readString(hosts)).doesNotContain("web-0");
        Path hostname = dir.resolve("hostname");
        PodNetworking.writeHostname(hostname, "web-0");
        assertThat(Files.readString(hostname)).isEqualTo("web-0\n");
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
        }
    }
}
