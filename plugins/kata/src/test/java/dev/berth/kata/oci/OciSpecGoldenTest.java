package dev.berth.kata.oci;

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
 * The plugin's OCI output for a table of pods and containers, against golden files captured from the map-based
 * builder it had before the typed model (src/test/resources/oci-golden): the JSON trees must be equal (key order
 * aside). A change to the JSON berth hands the shim shows up here; {@code -Dberth.golden.update=true} rewrites the
 * files after a deliberate change.
 */
class OciSpecGoldenTest {
    private static final LinuxResources SIZED = new LinuxResources(100000, 200000, 1024, 512L << 20, 0, "", "",
            Map.of(), Map.of(), 0);
    private static final LinuxResources OVERHEAD = new LinuxResources(100000, 25000, 0, 128L << 20, 0, "", "",
            Map.of(), Map.of(), 0);
    private static final LinuxResources FULL = new LinuxResources(100000, 50000, 2, 1L << 30, 0, "0-1", "0",
            new LinkedHashMap<>(Map.of("2MB", 4L << 20)), Map.of("memory.high", "900000000"), 2L << 30);

    private static final SpecMapper.Host HOST = new SpecMapper.Host(Set.of("CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_KILL"),
            ref -> ref.equals("/profiles/deny-hostname.json") ? Map.of("defaultAction", "SCMP_ACT_ALLOW",
                    "syscalls", List.of(Map.of("names", List.of("sethostname"), "action", "SCMP_ACT_ERRNO")))
                    : null);

    private static SandboxSpec pod(String id, PodSecurity sec, LinuxResources overhead, LinuxResources resources,
                                   Map<String, String> sysctls, ImageConfig image) {
        return new SandboxSpec(id, new PodMetadata("web", "uid-1", "prod", 0), "web-0", "/var/log/pods/x", null,
                List.of(), Map.of(), Map.of("team", "a"), "", sysctls, sec, overhead, resources,
                Path.of("/var/run/netns/cni-1"), List.of(), image, Path.of("/r/resolv.conf"), Path.of("/r/hosts"),
                Path.of("/r/hostname"), null);
    }

    private static SandboxSpec plainPod() {
        return pod("sb1", null, LinuxResources.NONE, LinuxResources.NONE, Map.of("net.ipv4.ip_forward", "1"), null);
    }

    private static PodSecurity hostPodSecurity() {
        return new PodSecurity(new Namespaces(NamespaceMode.NODE, NamespaceMode.NODE, NamespaceMode.NODE, "", null),
                true, true, OptionalLong.of(1000), OptionalLong.of(2000), List.of(3000L, 4000L), null, null, null);
    }

    private static ContainerSecurity security(boolean privileged, List<String> add, List<String> drop,
                                              SecurityProfile seccomp, Namespaces ns, boolean readonly,
                                              List<String> masked) {
        var d = ContainerSecurity.DEFAULT;
        return new ContainerSecurity(add, drop, privileged, ns == null ? d.namespaces() : ns, OptionalLong.of(33),
                OptionalLong.empty(), "", readonly, List.of(5L), true, masked, List.of(), seccomp, d.apparmor(),
                d.selinux(), d.supplementalGroupsPolicy());
    }

    private static ContainerSpec container(String id, ContainerSecurity sec, List<ContainerMount> mounts,
                                           LinuxResources r, boolean tty, List<String> env) {
        ImageConfig image = new ImageConfig("id", "docker.io/library/nginx:1", List.of("/entry"), List.of("a"),
                List.of("IMG=1"), "/srv", "", 101, 102, List.of(7L), "SIGQUIT", Map.of());
        return new ContainerSpec(id, "sb1", "nginx", 0, image, List.of(), List.of("b"), "", env, mounts, List.of(),
                Map.of(), Map.of("note", "x\"y"), "", false, false, tty, r, sec, List.of(), null);
    }

    private static Map<String, Supplier<String>> table() {
        Map<String, Supplier<String>> t = new LinkedHashMap<>();
        var ref = SpecMapper.podRef(plainPod(), 4242);
        var hostRef = SpecMapper.podRef(pod("sb2", hostPodSecurity(), LinuxResources.NONE, LinuxResources.NONE,
                Map.of(), null), 4343);
        t.put("sandbox-plain", () -> OciJson.write(KataSpecs.sandbox(plainPod(), "/berth-kata-sb1")));
        t.put("sandbox-sized", () -> OciJson.write(KataSpecs.sandbox(pod("sb1", null, OVERHEAD, SIZED, Map.of(),
                new ImageConfig("pid", "pause", List.of("/pause"), List.of("-v"), List.of("A=1"), "", "", 0, 0,
                        List.of(), "", Map.of())), "kubepods/pod1")));
        t.put("sandbox-host", () -> OciJson.write(KataSpecs.sandbox(pod("sb2", hostPodSecurity(), LinuxResources.NONE,
                LinuxResources.NONE, Map.of("kernel.shm_rmid_forced", "1"), null), "/berth-kata-sb2")));
        t.put("container-default", () -> OciJson.write(KataSpecs.container(container("c1", null, List.of(),
                LinuxResources.NONE, false, List.of("REQ=2")), ref, 0, "/berth-kata-c1", HOST)));
        t.put("container-resources-tty", () -> OciJson.write(KataSpecs.container(container("c2", null, List.of(), FULL,
                true, List.of("PATH=/bin")), ref, 0, "kubepods/pod1/c2", HOST)));
        t.put("container-caps-runtime-default", () -> OciJson.write(KataSpecs.container(container("c3",
                security(false, List.of("ALL"), List.of("CAP_KILL"), SecurityProfile.RUNTIME_DEFAULT, null, true,
                        List.of("/proc/x")), List.of(), LinuxResources.NONE, false, List.of()), ref, 0, "/c3",
                HOST)));
        t.put("container-localhost-mounts", () -> OciJson.write(KataSpecs.container(container("c4",
                security(false, List.of("CAP_CHOWN"), List.of(), new SecurityProfile(SecurityProfile.Type.LOCALHOST,
                        "/profiles/deny-hostname.json"), null, false, List.of()),
                List.of(new ContainerMount("/m", "/host/m", false, false, ContainerMount.Propagation.BIDIRECTIONAL,
                                false, ""),
                        new ContainerMount("/ro", "/host/ro", true, false, ContainerMount.Propagation.HOST_TO_CONTAINER,
                                false, ""),
                        new ContainerMount("/etc/hosts", "/mine/hosts", false, false, null, false, "")),
                LinuxResources.NONE, false, List.of()), ref, 0, "/c4", HOST)));
        t.put("container-privileged", () -> OciJson.write(KataSpecs.container(container("c5",
                security(true, List.of(), List.of(), SecurityProfile.RUNTIME_DEFAULT, null, false, List.of()),
                List.of(), LinuxResources.NONE, false, List.of()), ref, 0, "/c5", HOST)));
        t.put("container-target-pid", () -> OciJson.write(KataSpecs.container(container("c6",
                security(false, List.of(), List.of(), SecurityProfile.UNCONFINED, new Namespaces(NamespaceMode.POD,
                        NamespaceMode.TARGET, NamespaceMode.POD, "c1", null), false, List.of()),
                List.of(), LinuxResources.NONE, false, List.of()), ref, 777, "/c6", HOST)));
        t.put("container-pod-pid-host-pod", () -> OciJson.write(KataSpecs.container(container("c7",
                security(false, List.of(), List.of(), SecurityProfile.UNCONFINED, new Namespaces(NamespaceMode.NODE,
                        NamespaceMode.POD, NamespaceMode.POD, "", null), false, List.of()),
                List.of(), LinuxResources.NONE, false, List.of()), hostRef, 0, "/c7", SpecMapper.Host.UNRESTRICTED)));
        t.put("resources-update", () -> OciJson.write(SpecMapper.resources(FULL)));
        t.put("resources-empty", () -> OciJson.write(SpecMapper.resources(LinuxResources.NONE)));
        t.put("exec-process", () -> {
            RuntimeSpec spec = read(OciJson.write(KataSpecs.container(
                    container("c8", null, List.of(), LinuxResources.NONE, true, List.of()), ref, 0, "/c8", HOST)));
            return OciJson.write(SpecMapper.execProcess(spec.process(), List.of("ls", "-l"), false));
        });
        return t;
    }

    @TestFactory
    List<DynamicTest> outputMatchesTheGoldenFiles() {
        boolean update = Boolean.getBoolean("berth.golden.update");
        return table().entrySet().stream().map(e -> DynamicTest.dynamicTest(e.getKey(), () -> {
            String actual = e.getValue().get();
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

    private static RuntimeSpec read(String json) {
        try {
            return OciJson.mapper().readValue(json, RuntimeSpec.class);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String golden(String name) throws IOException {
        try (InputStream in = OciSpecGoldenTest.class.getResourceAsStream("/oci-golden/" + name + ".json")) {
            assertThat(in).as("golden file " + name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
        }
    }
}
