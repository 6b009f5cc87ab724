package dev.berth.oci.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.oci.SeccompProfiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RuntimeSpecTest {
    @TempDir
    Path dir;

    @Test
    void nullComponentsAreLeftOutAndTheRestKeepTheirOrder() {
        var spec = new RuntimeSpec(RuntimeSpec.VERSION, new RuntimeSpec.Process(false, null,
                new RuntimeSpec.User(0, 0, null, null), List.of("/pause"), List.of(), "/",
                RuntimeSpec.Capabilities.of(List.of("CAP_KILL")), null, true, null, null, null),
                new RuntimeSpec.Root("rootfs", false), null, List.of(), null, null,
                new RuntimeSpec.Linux(null, null, new RuntimeSpec.Resources(null, null, null, null, null, null), "/x",
                        List.of(new RuntimeSpec.Namespace("mount", null)), null, null, null, null, null, null, null));
        assertThat(OciJson.write(spec)).isEqualTo("{\"ociVersion\":\"1.0.2\",\"process\":{\"terminal\":false,"
                + "\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"/pause\"],\"env\":[],\"cwd\":\"/\","
                + "\"capabilities\":{\"bounding\":[\"CAP_KILL\"],\"effective\":[\"CAP_KILL\"],"
                + "\"permitted\":[\"CAP_KILL\"]},\"noNewPrivileges\":true},\"root\":{\"path\":\"rootfs\","
                + "\"readonly\":false},\"mounts\":[],\"linux\":{\"resources\":{},\"cgroupsPath\":\"/x\","
                + "\"namespaces\":[{\"type\":\"mount\"}]}}");
    }

    @Test
    void aBundleConfigReadsBackEqualAndUnknownFieldsAreIgnored() throws Exception {
        var hooks = new RuntimeSpec.Hooks(null, null, List.of(new RuntimeSpec.Hook("/bin/hook", List.of("hook", "x"),
                null, 5)), null, null, null);
        var spec = new RuntimeSpec(RuntimeSpec.VERSION, null, null, "h", null, hooks, Map.of("a", "b"),
                new RuntimeSpec.Linux(List.of(new RuntimeSpec.IdMapping(0, 100000, 65536)), null,
                        new RuntimeSpec.Resources(null, null, new RuntimeSpec.Pids(100), null, null,
                                List.of(new RuntimeSpec.DeviceRule(true, "c", 10L, 229L, "rwm"))),
                        null, null, List.of(new RuntimeSpec.Device("/dev/fuse", "c", 10L, 229L, 0666, 0L, 0L)),
                        Map.of("net.core.somaxconn", "1024"), null, null, null, null, null));
        Path file = dir.resolve("config.json");
        OciJson.write(file, spec);
        assertThat(OciJson.read(file)).isEqualTo(spec);
        Files.writeString(file, "{\"ociVersion\":\"1.2.0\",\"hostname\":\"x\",\"vm\":{\"hypervisor\":{}}}");
        assertThat(OciJson.read(file).hostname()).isEqualTo("x");
    }

    @Test
    void seccompProfilesBecomeTheModelsRecordOrAreRefused() {
        RuntimeSpec.Seccomp rd = SpecMapper.seccomp(SeccompProfiles.runtimeDefault(List.of()));
        assertThat(rd.defaultAction()).isEqualTo("SCMP_ACT_ALLOW");
        assertThat(rd.syscalls().getFirst().errnoRet()).isEqualTo(1);
        assertThat(rd.syscalls().getFirst().names()).contains("mount", "keyctl");
        RuntimeSpec.Seccomp masked = SpecMapper.seccomp(Map.of("defaultAction", "SCMP_ACT_ALLOW", "syscalls",
                List.of(Map.of("names", List.of("ioctl"), "action", "SCMP_ACT_ERRNO", "args", List.of(Map.of(
                        "index", 1, "value", new java.math.BigInteger("18446744073709551615"), "op",
                        "SCMP_CMP_MASKED_EQ"))))));
        assertThat(OciJson.write(masked)).as("a uint64 beyond Long.MAX_VALUE, written as given")
                .contains("\"value\":18446744073709551615");
        assertThatThrownBy(() -> SpecMapper.seccomp(Map.of("defaultAction", "SCMP_ACT_ALLOW",
                "syscalls", List.of(Map.of("names", "read", "action", List.of())))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unusable");
    }
}
