package dev.berth.core.cri;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.cri.v1.ContainerConfig;
import dev.berth.cri.v1.ContainerMetadata;
import dev.berth.cri.v1.Device;
import dev.berth.cri.v1.ImageSpec;
import dev.berth.cri.v1.KeyValue;
import dev.berth.cri.v1.LinuxContainerConfig;
import dev.berth.cri.v1.LinuxContainerResources;
import dev.berth.cri.v1.LinuxContainerSecurityContext;
import dev.berth.cri.v1.Mount;
import dev.berth.cri.v1.MountPropagation;
import org.junit.jupiter.api.Test;

/** A CRI request as crictl inspect shows it under {@code info.config}, in containerd's shape. */
class ProtoJsonTest {
    @Test
    void fieldsByTheirProtoNamesWithDefaultsLeftOutNumbersAsNumbersEnumsByName() {
        ContainerConfig c = ContainerConfig.newBuilder()
                .setMetadata(ContainerMetadata.newBuilder().setName("app"))
                .setImage(ImageSpec.newBuilder().setImage("docker.io/library/busybox:1.36"))
                .addCommand("sleep").addArgs("3600")
                .addEnvs(KeyValue.newBuilder().setKey("A").setValue(com.google.protobuf.ByteString.copyFromUtf8("1")))
                .addMounts(Mount.newBuilder().setContainerPath("/data").setHostPath("/srv/data").setReadonly(true)
                        .setPropagation(MountPropagation.PROPAGATION_HOST_TO_CONTAINER))
                .addDevices(Device.newBuilder().setHostPath("/dev/null").setContainerPath("/dev/x"))
                .putLabels("tier", "web")
                .setLogPath("app.log")
                .setLinux(LinuxContainerConfig.newBuilder()
                        .setResources(LinuxContainerResources.newBuilder().setMemoryLimitInBytes(1L << 33))
                        .setSecurityContext(LinuxContainerSecurityContext.newBuilder().setPrivileged(false)))
                .build();
        JsonNode j = ProtoJson.of(c);
        assertThat(j.path("metadata").path("name").asText()).isEqualTo("app");
        assertThat(j.has("metadata") && !j.path("metadata").has("attempt")).as("a default left out").isTrue();
        assertThat(j.path("image").path("image").asText()).isEqualTo("docker.io/library/busybox:1.36");
        assertThat(j.path("command").get(0).asText()).isEqualTo("sleep");
        assertThat(j.path("envs").get(0).path("key").asText()).isEqualTo("A");
        assertThat(j.path("envs").get(0).path("value").asText()).as("a UTF-8 value as its text").isEqualTo("1");
        assertThat(j.path("mounts").get(0).path("container_path").asText()).isEqualTo("/data");
        assertThat(j.path("mounts").get(0).path("readonly").asBoolean()).isTrue();
        assertThat(j.path("mounts").get(0).path("propagation").asText()).isEqualTo("PROPAGATION_HOST_TO_CONTAINER");
        assertThat(j.path("devices").get(0).path("host_path").asText()).isEqualTo("/dev/null");
        assertThat(j.path("labels").path("tier").asText()).isEqualTo("web");
        assertThat(j.path("log_path").asText()).isEqualTo("app.log");
        JsonNode memory = j.path("linux").path("resources").path("memory_limit_in_bytes");
        assertThat(memory.isNumber()).as("an int64 as a number").isTrue();
        assertThat(memory.asLong()).isEqualTo(1L << 33);
        assertThat(j.path("linux").has("security_context")).as("a message set to its defaults is there").isTrue();
        assertThat(j.has("working_dir")).isFalse();
    }
}
