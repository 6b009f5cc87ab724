package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.oci.spec.OciJson;
import dev.berth.oci.spec.RuntimeSpec;
import dev.berth.oci.spec.SpecMapper;
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
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The plugin's OCI output for a table of pods and containers, against golden files captured from its
 * {@code ObjectNode} builder before the move onto the typed model (src/test/resources/oci-golden): the JSON trees
 * must be equal (key order aside). A change to the JSON berth hands runc shows up here;
 * {@code -Dberth.golden.update=true} rewrites the files after a deliberate change.
 */
class OciSpecGoldenTest {
    private static final String SB = "a".repeat(64);
    private static final String CT = "c".repeat(64);
    private static final OciSpecs.Host HOST = new OciSpecs.Host(-500, true, false, p -> OciSpecs.JSON.valueToTree(
            Map.of("defaultAction", "SCMP_ACT_ERRNO", "defaultErrnoRet", 1, "flags", List.of("SECCOMP_FILTER_FLAG_LOG"),
                    "archMap", List.of(Map.of("architecture", "SCMP_ARCH_X86_64",
                            "subArchitectures", List.of("SCMP_ARCH_X86"))),
                    "syscalls", List.of(Map.of("names", List.of("personality"), "action", "SCMP_ACT_ALLOW",
                            "args", List.of(Map.of("index", 0, "value", 131080, "valueTwo", 0, "op", "SCMP_CMP_EQ"))),
                            Map.of("name", "read", "action", "SCMP_ACT_ERRNO", "errnoRet", 38)))),
            Set.of("CAP_CHOWN", "CAP_KILL", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"));
    private static final OciSpecs.Host SYSTEMD = new OciSpecs.Host(0, false, true, p -> null);
    private static final LinuxResources FULL = new LinuxResources(100000, 50000, 2, 1L << 30, 300, "0-1", "0",
            new LinkedHashMap<>(Map.of("2MB", 4L << 20, "1GB", 1L << 30)),
            new LinkedHashMap<>(Map.of("memory.high", "900000000", "cpu.weight", "10")), 2L << 30);
    private static final Namespaces HOST_NS = new Namespaces(NamespaceMode.NODE, NamespaceMode.NODE,
            NamespaceMode.NODE, "", null);

    private static SandboxSpec pod(PodSecurity sec, Map<String, String> sysctls, List<String> cmd) {
        ImageConfig pause = new ImageConfig("p", "pause", cmd, List.of(), List.of("A=1"), "", "", 0, 0,
                List.of(), "", Map.of());
        return new SandboxSpec(SB, new PodMetadata("web", "uid-1", "prod", 0), "web-0", "/var/log/pods/x", null,
                List.of(), Map.of(), Map.of("team", "a", "b", "c"), "/kubepods", sysctls, sec, null, null,
                Path.of("/var/run/netns/cni-1"), List.of(), pause, Path.of("/r/resolv.conf"), Path.of("/r/hosts"),
                Path.of("/r/hostname"), null);
    }

    private static ContainerSpec container(ContainerSecurity sec, List<ContainerMount> mounts, LinuxResources r,
                                           boolean tty, List<String> env) {
        ImageConfig image = new ImageConfig("id", "nginx", List.of("/entry"), List.of("a"),
                List.of("IMG=1", "PATH=/img/bin", "DUP=image"), "/srv", "", 101, 102, List.of(7L), "SIGQUIT",
                Map.of());
        return new ContainerSpec(CT, SB, "nginx", 0, image, List.of(), List.of("b"), "", env, mounts, List.of(),
                Map.of(), Map.of("note", "x", "a", "b"), "", false, false, tty, r, sec,
                List.of(new MountSpec("bind", "/x", "", List.of("rbind"))), null);
    }

    private static ContainerSecurity security(boolean privileged, SecurityProfile seccomp, SecurityProfile apparmor,
                                              List<String> masked, Namespaces ns) {
        return new ContainerSecurity(List.of("CAP_NET_ADMIN"), List.of("CAP_KILL"), privileged, ns,
                OptionalLong.of(33), OptionalLong.empty(), "", true, List.of(9L), true, masked, List.of("/proc/y"),
                seccomp, apparmor, null, null);
    }

    private static ContainerSecurity plain(SecurityProfile seccomp, Namespaces ns) {
        return security(false, seccomp, null, List.of(), ns);
    }

    private static OciSpecs.Pod runcPod(Path shm) {
        return new OciSpecs.Pod(SB, "/kubepods", 42, Path.of("/var/run/netns/cni-1"), Namespaces.POD_DEFAULT,
                Path.of("/r/resolv.conf"), Path.of("/r/hosts"), Path.of("/r/hostname"), List.of(7L, 9L), 0, shm);
    }

    private static final List<SpecMapper.HostDevice> DEVICES = List.of(
            new SpecMapper.HostDevice("/dev/fuse", "/dev/fuse", "c", 10, 229, 0666, "rwm"),
            new SpecMapper.HostDevice("/dev/xnull", "/dev/null", "c", 1, 3, 0640, "rw"));

    private static Map<String, Supplier<Object>> table() {
        Map<String, Supplier<Object>> t = new LinkedHashMap<>();
        t.put("sandbox", () -> OciSpecs.sandbox(pod(null, Map.of("net.ipv4.ip_forward", "1", "kernel.msgmax", "1"),
                List.of("/pause")), HOST, Path.of("/run/shm")));
        t.put("sandbox-default-pause", () -> OciSpecs.sandbox(pod(null, Map.of(), List.of()), SYSTEMD, null));
        t.put("sandbox-host", () -> OciSpecs.sandbox(pod(new PodSecurity(HOST_NS, true, true, OptionalLong.of(1000),
                OptionalLong.of(2000), List.of(3000L), null, null, null), Map.of("kernel.shm_rmid_forced", "1"),
                List.of("/pause")), HOST, null));
        t.put("container", () -> OciSpecs.container(container(security(false,
                new SecurityProfile(SecurityProfile.Type.LOCALHOST, "/profiles/p.json"),
                new SecurityProfile(SecurityProfile.Type.LOCALHOST, "berth-default"), List.of("/proc/x"),
                Namespaces.POD_DEFAULT),
                List.of(new ContainerMount("/ro", "/host/ro", true, true, ContainerMount.Propagation.HOST_TO_CONTAINER,
                                false, ""),
                        new ContainerMount("/m", "/host/m", false, false, ContainerMount.Propagation.BIDIRECTIONAL,
                                false, ""),
                        new ContainerMount("/r", "/host/r", true, false, ContainerMount.Propagation.PRIVATE,
                                false, ""),
                        new ContainerMount("/etc/hosts", "/mine/hosts", false, false,
                                ContainerMount.Propagation.PRIVATE, false, ""),
                        new ContainerMount("/sys/fs/cgroup", "/host/cg", false, false,
                                ContainerMount.Propagation.PRIVATE, false, "")),
                FULL, true, List.of("REQ=2", "DUP=request")), runcPod(Path.of("/run/shm")), HOST, DEVICES));
        t.put("container-runtime-default", () -> OciSpecs.container(container(plain(SecurityProfile.RUNTIME_DEFAULT,
                Namespaces.POD_DEFAULT), List.of(), LinuxResources.NONE, false, List.of()), runcPod(null), HOST,
                List.of()));
        t.put("container-privileged", () -> OciSpecs.container(container(security(true,
                SecurityProfile.RUNTIME_DEFAULT, null, List.of(), Namespaces.POD_DEFAULT), List.of(),
                LinuxResources.NONE, false, List.of()), runcPod(null), HOST, DEVICES));
        t.put("container-host-namespaces", () -> OciSpecs.container(container(plain(SecurityProfile.UNCONFINED,
                HOST_NS), List.of(), LinuxResources.NONE, false, List.of()), new OciSpecs.Pod(SB, "", 42, null,
                HOST_NS, Path.of("/r/resolv.conf"), Path.of("/r/hosts"), Path.of("/r/hostname"), List.of(), 0),
                SYSTEMD, List.of()));
        t.put("container-target-pid", () -> OciSpecs.container(container(plain(SecurityProfile.UNCONFINED,
                new Namespaces(NamespaceMode.POD, NamespaceMode.TARGET, NamespaceMode.POD, "t", null)), List.of(),
                LinuxResources.NONE, false, List.of()), new OciSpecs.Pod(SB, "", 42, Path.of("/run/netns/p"),
                Namespaces.POD_DEFAULT, null, null, null, List.of(), 777), HOST, List.of()));
        t.put("container-pinned", () -> OciSpecs.container(container(plain(SecurityProfile.UNCONFINED,
                new Namespaces(NamespaceMode.POD, NamespaceMode.POD, NamespaceMode.POD, "", null)), List.of(),
                LinuxResources.NONE, false, List.of()), new OciSpecs.Pod(SB, "", 55, Path.of("/run/netns/p"),
                Namespaces.POD_DEFAULT, null, null, null, List.of(), 0, null, Path.of("/run/pins/" + SB)), HOST,
                List.of()));
        t.put("update", () -> OciResources.updateResources(FULL));
        t.put("update-empty", () -> OciResources.updateResources(LinuxResources.NONE));
        t.put("exec", () -> OciSpecs.execProcess(((RuntimeSpec) table().get("container").get()).process(),
                List.of("ls", "-l"), false));
        return t;
    }

    @TestFactory
    List<DynamicTest> outputMatchesTheGoldenFiles() {
        boolean update = Boolean.getBoolean("berth.golden.update");
        return table().entrySet().stream().map(e -> DynamicTest.dynamicTest(e.getKey(), () -> {
            String actual = OciJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(e.getValue().get());
            if (update) {
                Path dir = Path.of("src/test/resources/oci-golden");
                Files.createDirectories(dir);
                Files.writeString(dir.resolve(e.getKey() + ".json"), actual + "\n", StandardCharsets.UTF_8);
                return;
            }
            assertThat(tree(actual)).as(e.getKey()).isEqualTo(tree(golden(e.getKey())));
        })).toList();
    }

    private static JsonNode tree(String json) throws IOException {
        return OciJson.mapper().readTree(json);
    }

    private static String golden(String name) throws IOException {
        try (InputStream in = OciSpecGoldenTest.class.getResourceAsStream("/oci-golden/" + name + ".json")) {
            assertThat(in).as("golden file " + name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
        }
    }
}
