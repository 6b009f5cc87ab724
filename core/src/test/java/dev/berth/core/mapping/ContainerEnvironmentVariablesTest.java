package dev.berth.core.mapping;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.berth.cri.v1.ContainerConfig;
import dev.berth.cri.v1.KeyValue;
import dev.berth.spi.BackendException;
import dev.berth.spi.ImageConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The container's environment as core hands it to a backend: the request's variables and HOSTNAME. */
class ContainerEnvironmentVariablesTest {
    private static ContainerConfig config(String... kvs) {
        var b = ContainerConfig.newBuilder();
        for (int i = 0; i < kvs.length; i += 2) {
            b.addEnvs(KeyValue.newBuilder().setKey(kvs[i]).setValue(ByteString.copyFromUtf8(kvs[i + 1])));
        }
        return b.build();
    }

    private static ImageConfig image(String... env) {
        return new ImageConfig("sha256:i", "i", List.of(), List.of("sh"), List.of(env), "", "", 0, 0, List.of(), "",
                Map.of());
    }

    @Test
    void valuesAreTextAndHostnameComesFirst() {
        assertThat(SpiMapper.environment(config("FOO", "bar", "GREETING", "grüße =1"), image(), "web-0"))
                .containsExactly("HOSTNAME=web-0", "FOO=bar", "GREETING=grüße =1");
    }

    @Test
    void theRequestOrTheImageMaySetHostname() {
        assertThat(SpiMapper.environment(config("HOSTNAME", "mine"), image(), "web-0")).containsExactly("HOSTNAME=mine");
        assertThat(SpiMapper.environment(config(), image("PATH=/bin", "HOSTNAME=img"), "web-0")).isEmpty();
        assertThat(SpiMapper.environment(config("A", ""), image(), "")).containsExactly("A=");
    }

    @Test
    void badVariablesAreRefusedNamingThem() {
        assertThatThrownBy(() -> SpiMapper.environment(config("A", "1", "", "x"), image(), "h"))
                .isInstanceOfSatisfying(BackendException.class,
                        e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.INVALID_ARGUMENT))
                .hasMessageContaining("container envs[1]");
        assertThatThrownBy(() -> SpiMapper.environment(config("A=B", "1"), image(), "h"))
                .hasMessageContaining("envs[0] (A=B)").hasMessageContaining("'='");
        assertThatThrownBy(() -> SpiMapper.environment(config("A\0B", "1"), image(), "h"))
                .hasMessageContaining("envs[0] (A\\u0000B)");
        assertThatThrownBy(() -> SpiMapper.environment(config("A", "x\0y"), image(), "h"))
                .hasMessageContaining("envs[0] (A): the value holds a NUL byte");
        var invalidUtf8 = ContainerConfig.newBuilder().addEnvs(KeyValue.newBuilder().setKey("A")
                .setValue(ByteString.copyFrom(new byte[] {(byte) 0xff, (byte) 0xfe}))).build();
        assertThatThrownBy(() -> SpiMapper.environment(invalidUtf8, image(), "h"))
                .hasMessageContaining("envs[0] (A): the value is not valid UTF-8");
    }
}
