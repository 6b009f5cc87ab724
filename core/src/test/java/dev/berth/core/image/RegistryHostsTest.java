package dev.berth.core.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.spi.BackendException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryHostsTest {
    @TempDir
    Path dir;

    private void write(String host, String toml) throws Exception {
        Files.createDirectories(dir.resolve(host));
        Files.writeString(dir.resolve(host).resolve("hosts.toml"), toml);
    }

    @Test
    void withoutConfigUsesTheRegistryItself() {
        RegistryHosts hosts = new RegistryHosts(dir);
        assertThat(hosts.endpoints("docker.io")).singleElement()
                .satisfies(e -> assertThat(e.base()).isEqualTo(URI.create("https://registry-1.docker.io/v2")));
        assertThat(hosts.endpoints("quay.io").getFirst().base()).isEqualTo(URI.create("https://quay.io/v2"));
        assertThat(new RegistryHosts(null).endpoints("localhost:5000").getFirst().base())
                .isEqualTo(URI.create("http://localhost:5000/v2"));
    }

    @Test
    void serverMirrorReplacesTheUpstream() throws Exception {
        write("registry.k8s.io", """
                server = "http://127.0.0.1:5000"
                [host."http://127.0.0.1:5000"]
                  capabilities = ["pull", "resolve"]
                """);
        List<RegistryHosts.Endpoint> eps = new RegistryHosts(dir).endpoints("registry.k8s.io");
        assertThat(eps).singleElement().satisfies(e -> {
            assertThat(e.base()).isEqualTo(URI.create("http://127.0.0.1:5000/v2"));
            assertThat(e.canPull()).isTrue();
            assertThat(e.canResolve()).isTrue();
        });
    }

    @Test
    void mirrorsComeFirstThenServer() throws Exception {
        write("docker.io", """
                server = "https://registry-1.docker.io"
                [host."https://mirror.example.com/base"]
                  capabilities = ["pull"]
                  skip_verify = true
                  ca = "ca.pem"
                  client = [["c.pem", "c.key"]]
                  [host."https://mirror.example.com/base".header]
                    x-custom = "1"
                    x-list = ["a", "b"]
                [host."http://10.0.0.1:5000/v2/proxy"]
                  override_path = true
                """);
        List<RegistryHosts.Endpoint> eps = new RegistryHosts(dir).endpoints("docker.io");
        assertThat(eps).extracting(RegistryHosts.Endpoint::base).containsExactly(
                URI.create("https://mirror.example.com/base/v2"), URI.create("http://10.0.0.1:5000/v2/proxy"),
                URI.create("https://registry-1.docker.io/v2"));
        RegistryHosts.Endpoint m = eps.getFirst();
        assertThat(m.canResolve()).isFalse();
        assertThat(m.skipVerify()).isTrue();
        assertThat(m.ca()).containsExactly(dir.resolve("docker.io/ca.pem"));
        assertThat(m.clientCerts().getFirst()[1]).isEqualTo(dir.resolve("docker.io/c.key"));
        assertThat(m.headers()).containsEntry("x-custom", List.of("1")).containsEntry("x-list", List.of("a", "b"));
    }

    @Test
    void defaultDirectoryAndPortDirectories() throws Exception {
        write("_default", "server = \"http://127.0.0.1:5000\"\n");
        write("myreg.local_8443", "server = \"https://myreg.local:8443\"\n");
        RegistryHosts hosts = new RegistryHosts(dir);
        assertThat(hosts.endpoints("gcr.io").getFirst().base()).isEqualTo(URI.create("http://127.0.0.1:5000/v2"));
        assertThat(hosts.endpoints("myreg.local:8443").getFirst().base())
                .isEqualTo(URI.create("https://myreg.local:8443/v2"));
    }

    @Test
    void badConfigIsAnInvalidArgument() throws Exception {
        write("bad.io", "server = \"ftp://x\"\n");
        assertThatThrownBy(() -> new RegistryHosts(dir).endpoints("bad.io")).isInstanceOf(BackendException.class)
                .hasMessageContaining("hosts.toml").hasMessageContaining("http or https");
        write("worse.io", "server = [\n");
        assertThatThrownBy(() -> new RegistryHosts(dir).endpoints("worse.io")).isInstanceOf(BackendException.class)
                .hasMessageContaining("failed to read registry config");
    }
}
