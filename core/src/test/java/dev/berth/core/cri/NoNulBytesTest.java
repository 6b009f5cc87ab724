package dev.berth.core.cri;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.berth.cri.v1.ContainerConfig;
import dev.berth.cri.v1.ContainerMetadata;
import dev.berth.cri.v1.CreateContainerRequest;
import dev.berth.cri.v1.KeyValue;
import dev.berth.cri.v1.ListContainersRequest;
import dev.berth.cri.v1.Mount;
import dev.berth.spi.BackendException;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** {@link Validation#noNulBytes} finds a NUL at any depth, in any kind of field, and names where. */
class NoNulBytesTest {

    private static CreateContainerRequest request(UnaryOperator<ContainerConfig.Builder> change) {
        ContainerConfig.Builder c = ContainerConfig.newBuilder()
                .setMetadata(ContainerMetadata.newBuilder().setName("c").setAttempt(3))
                .addCommand("sh").addArgs("-c").addArgs("true")
                .addEnvs(KeyValue.newBuilder().setKey("A").setValue(ByteString.copyFromUtf8("1")))
                .addMounts(Mount.newBuilder().setContainerPath("/a").setHostPath("/b").setReadonly(true))
                .putAnnotations("k", "v").putLabels("l", "w");
        return CreateContainerRequest.newBuilder().setPodSandboxId("p").setConfig(change.apply(c)).build();
    }

    private static void refused(CreateContainerRequest r, String message) {
        assertThatThrownBy(() -> Validation.noNulBytes(r)).isInstanceOfSatisfying(BackendException.class, e -> {
            assertThat(e.kind()).isEqualTo(BackendException.Kind.INVALID_ARGUMENT);
            assertThat(e.getMessage()).isEqualTo(message);
        });
    }

    @Test
    void cleanRequestsPass() {
        assertThatCode(() -> Validation.noNulBytes(request(c -> c))).doesNotThrowAnyException();
        assertThatCode(() -> Validation.noNulBytes(ListContainersRequest.getDefaultInstance()))
                .doesNotThrowAnyException();
    }

    @Test
    void everyKindOfFieldIsSearched() {
        refused(request(c -> c).toBuilder().setPodSandboxId("p\0").build(), "pod_sandbox_id must not contain a NUL byte");
        refused(request(c -> c.setWorkingDir("/w\0")), "config.working_dir must not contain a NUL byte");
        refused(request(c -> c.addArgs("x\0")), "config.args[2] must not contain a NUL byte");
        refused(request(c -> c.addEnvs(KeyValue.newBuilder().setKey("B\0"))),
                "config.envs[1].key must not contain a NUL byte");
        refused(request(c -> c.addMounts(Mount.newBuilder().setContainerPath("/c").setHostPath("/d\0"))),
                "config.mounts[1].host_path must not contain a NUL byte");
        refused(request(c -> c.putAnnotations("k2", "v\0")), "config.annotations[\"k2\"] must not contain a NUL byte");
        refused(request(c -> c.putLabels("l\0", "w")), "config.labels key must not contain a NUL byte");
    }
}
