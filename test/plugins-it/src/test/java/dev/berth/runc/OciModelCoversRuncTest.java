package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.oci.spec.OciJson;
import dev.berth.oci.spec.RuntimeSpec;
import dev.berth.spi.ContainerMount;
import dev.berth.spi.ContainerSecurity;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.ImageConfig;
import dev.berth.spi.LinuxResources;
import dev.berth.spi.MountSpec;
import dev.berth.spi.NamespaceMode;
import dev.berth.spi.Namespaces;
import dev.berth.spi.PodMetadata;
import dev.berth.spi.PodSecurity;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.SecurityProfile;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The typed OCI model in berth-oci ({@link RuntimeSpec}) can say everything the runc plugin's own builder writes
 * today: each of runc's specs, read strictly into the model (an unknown field fails) and written back, is the same
 * JSON. The precondition for moving the runc plugin onto the model.
 */
class OciModelCoversRuncTest {
    private static final String SB = "a".repeat(64);
    private static final OciSpecs.Host HOST = new OciSpecs.Host(-500, true, false, p -> OciSpecs.JSON.valueToTree(
            Map.of("defaultAction", "SCMP_ACT_ERRNO", "defaultErrnoRet", 1, "flags", List.of("SECCOMP_FILTER_FLAG_LOG"),
                    "archMap", List.of(Map.of("architecture", "SCMP_ARCH_X86_64",
                            "subArchitectures", List.of("SCMP_ARCH_X86"))),
                    "syscalls", List.of(Map.of("names", List.of("personality"), "action", "SCMP_ACT_ALLOW",
                            "args", List.of(Map.of("index", 0, "value", 131080, "valueTwo", 0, "op", "SCMP_CMP_EQ"))),
                            Map.of("name", "read", "action", "SCMP_ACT_ERRNO", "errnoRet", 38)))),
            java.util.Set.of("CAP_CHOWN", "CAP_KILL", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"));
    private static final LinuxResources FULL = new LinuxResources(100000, 50000, 2, 1L << 30, 300, "0-1", "0",
            new LinkedHashMap<>(Map.of("2MB", 4L << 20)), Map.of("memory.high", "900000000"), 2L << 30);

    private static SandboxSpec pod(PodSecurity sec, Map<String, String> sysctls) {
        ImageConfig pause = new ImageConfig("p", "pause", List.of("/pause"), List.of(), List.of("A=1"), "", "", 0, 0,
                List.of(), "", Map.of());
        return new SandboxSpec(SB, new PodMetadata("web", "uid-1", "prod", 0), "web-0", "/var/log/pods/x", null,
                List.of(), Map.of(), Map.of("team", "a"), "/kubepods", sysctls, sec, null, null,
                Path.of("/var/run/netns/cni-1"), List.of(), pause, Path.of("/r/resolv.conf"), Path.of("/r/hosts"),
                Path.of("/r/hostname"), null);
    }

    private static ContainerSpec container(ContainerSecurity sec, List<ContainerMount> mounts, LinuxResources r,
                                           boolean tty) {
        ImageConfig image = new ImageConfig("id", "nginx", List.of("/entry"), List.of("a"), List.of("IMG=1"), "/srv",
                "", 101, 102, List.of(7L), "SIGQUIT", Map.of());
        return new ContainerSpec("c".repeat(64), SB, "nginx", 0, image, List.of(), List.of("b"), "",
                List.of("REQ=2"), mounts, List.of(), Map.of(), Map.of("note", "x"), "", false, false, tty, r, sec,
                List.of(new MountSpec("bind", "/x", "", List.of("rbind"))), null);
    }

    private static ContainerSecurity security(boolean privileged, SecurityProfile seccomp, SecurityProfile apparmor,
                                              List<String> masked) {
        return new ContainerSecurity(List.of("CAP_NET_ADMIN"), List.of("CAP_KILL"), privileged,
                Namespaces.POD_DEFAULT, OptionalLong.of(33), OptionalLong.empty(), "", true, List.of(9L), true,
                masked, List.of(), seccomp, apparmor, null, null);
    }

    private static OciSpecs.Pod runcPod(Path shm) {
        return new OciSpecs.Pod(SB, "/kubepods", 42, Path.of("/var/run/netns/cni-1"), Namespaces.POD_DEFAULT,
                Path.of("/r/resolv.conf"), Path.of("/r/hosts"), Path.of("/r/hostname"), List.of(7L), 0, shm);
    }

    private static Map<String, JsonNode> table() {
        Map<String, JsonNode> t = new LinkedHashMap<>();
        t.put("sandbox", OciSpecs.sandbox(pod(null, Map.of("net.ipv4.ip_forward", "1")), HOST, Path.of("/run/shm")));
        t.put("sandbox-host", OciSpecs.sandbox(pod(new PodSecurity(new Namespaces(NamespaceMode.NODE,
                NamespaceMode.NODE, NamespaceMode.NODE, "", null), true, true, OptionalLong.of(1000),
                OptionalLong.of(2000), List.of(3000L), null, null, null), Map.of("kernel.shm_rmid_forced", "1")),
                HOST, null));
        List<OciSpecs.Device> devices = List.of(new OciSpecs.Device("/dev/fuse", "/dev/fuse", "c", 10, 229, 0666,
                "rwm"));
        t.put("container", OciSpecs.container(container(security(false,
                new SecurityProfile(SecurityProfile.Type.LOCALHOST, "/profiles/p.json"),
                new SecurityProfile(SecurityProfile.Type.LOCALHOST, "berth-default"), List.of("/proc/x")),
                List.of(new ContainerMount("/ro", "/host/ro", true, true, ContainerMount.Propagation.HOST_TO_CONTAINER,
                                false, ""),
                        new ContainerMount("/m", "/host/m", false, false, ContainerMount.Propagation.BIDIRECTIONAL,
                                false, "")), FULL, true), runcPod(Path.of("/run/shm")), HOST, devices));
        t.put("container-runtime-default", OciSpecs.container(container(security(false,
                SecurityProfile.RUNTIME_DEFAULT, null, List.of()), List.of(), LinuxResources.NONE, false),
                runcPod(null), HOST, List.of()));
        t.put("container-privileged", OciSpecs.container(container(security(true, SecurityProfile.RUNTIME_DEFAULT,
                null, List.of()), List.of(), LinuxResources.NONE, false), runcPod(null), HOST, devices));
        t.put("update", OciResources.updateResources(FULL));
        t.put("exec", OciSpecs.execProcess(t.get("container").path("process"), List.of("ls"), true));
        return t;
    }

    @TestFactory
    List<DynamicTest> everyRuncSpecReadsIntoTheModelAndWritesBackTheSame() {
        var strict = OciJson.mapper().copy().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        return table().entrySet().stream().map(e -> DynamicTest.dynamicTest(e.getKey(), () -> {
            Class<?> type = switch (e.getKey()) {
                case "update" -> RuntimeSpec.Resources.class;
                case "exec" -> RuntimeSpec.Process.class;
                default -> RuntimeSpec.class;
            };
            String runc = OciSpecs.JSON.writeValueAsString(e.getValue());
            Object typed = strict.readValue(runc, type);
            assertThat(OciJson.mapper().readTree(OciJson.write(typed))).as(e.getKey())
                    .isEqualTo(OciJson.mapper().readTree(runc));
        })).toList();
    }
}
