package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.berth.oci.spec.OciJson;
import dev.berth.oci.spec.RuntimeSpec;
import dev.berth.oci.spec.SpecMapper;
import dev.berth.spi.BackendException;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class OciSpecsTest {
    static final String SB = "a".repeat(64);
    static final String CT = "c".repeat(64);
    static final OciSpecs.Host HOST = new OciSpecs.Host(0, true, false,
            p -> parse("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86_64\","
                    + "\"subArchitectures\":[\"SCMP_ARCH_X86\"]}],\"syscalls\":[{\"names\":[\"read\"],"
                    + "\"action\":\"SCMP_ACT_ALLOW\"}]}"));
    static final OciSpecs.Pod POD = new OciSpecs.Pod(SB, "", 42, null, Namespaces.POD_DEFAULT,
            Path.of("/run/pod/resolv.conf"), Path.of("/run/pod/hosts"), Path.of("/run/pod/hostname"), List.of(7L), 0);

    static JsonNode tree(Object spec) {
        return OciJson.mapper().valueToTree(spec);
    }

    static JsonNode parse(String json) {
        try {
            return OciSpecs.JSON.readTree(json);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static ImageConfig image(List<String> entry, List<String> cmd, List<String> env, String wd, long uid, long gid) {
        return new ImageConfig("id", "ref", entry, cmd, env, wd, "", uid, gid, List.of(100L), "SIGQUIT", Map.of());
    }

    static ContainerSpec spec(ImageConfig image, List<String> command, List<String> args, String wd,
                              List<String> env, List<ContainerMount> mounts, LinuxResources res, ContainerSecurity sec) {
        return new ContainerSpec(CT, SB, "c", 0, image, command, args, wd, env, mounts, List.of(), Map.of(),
                Map.of("a", "b"), "", false, false, false, res, sec,
                List.of(new MountSpec("bind", "/x", "", List.of("rbind"))), null);
    }

    static ContainerSpec simple(ImageConfig image) {
        return spec(image, List.of(), List.of(), "", List.of(), List.of(), null, null);
    }

    static ContainerSecurity security(boolean privileged, List<String> add, List<String> drop, OptionalLong uid,
                                      OptionalLong gid, boolean ro, SecurityProfile seccomp, Namespaces ns) {
        return new ContainerSecurity(add, drop, privileged, ns, uid, gid, "", ro, List.of(9L), true, List.of(),
                List.of(), seccomp, null, null, null);
    }

    static JsonNode container(ContainerSpec spec) {
        return tree(OciSpecs.container(spec, POD, HOST, List.of()));
    }

    static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    // ---- process -------------------------------------------------------------------------------------------

    static Stream<Arguments> processCases() {
        ImageConfig img = image(List.of("/entry"), List.of("cmd1"), List.of("PATH=/img", "A=1"), "/imgwd", 5, 6);
        return Stream.of(
                Arguments.of("image defaults", simple(img), List.of("/entry", "cmd1"), "/imgwd", 5L, 6L,
                        List.of("PATH=/img", "A=1")),
                Arguments.of("command replaces entrypoint and drops cmd",
                        spec(img, List.of("/bin/sh"), List.of(), "", List.of(), List.of(), null, null),
                        List.of("/bin/sh"), "/imgwd", 5L, 6L, List.of("PATH=/img", "A=1")),
                Arguments.of("args replace cmd only",
                        spec(img, List.of(), List.of("a1", "a2"), "/wd", List.of("A=2", "B=3"), List.of(), null, null),
                        List.of("/entry", "a1", "a2"), "/wd", 5L, 6L, List.of("PATH=/img", "A=2", "B=3")),
                Arguments.of("run_as_user overrides the image user; core resolved it without a passwd entry: gid 0",
                        spec(image(List.of("/entry"), List.of("cmd1"), List.of("PATH=/img", "A=1"), "/imgwd", 1000, 0),
                                List.of(), List.of(), "", List.of(), List.of(), null,
                                security(false, List.of(), List.of(), OptionalLong.of(1000), OptionalLong.empty(),
                                        false, null, null)),
                        List.of("/entry", "cmd1"), "/imgwd", 1000L, 0L, List.of("PATH=/img", "A=1")),
                Arguments.of("no image config: root, / and a default PATH",
                        spec(ImageConfig.NONE, List.of("x"), List.of(), "", List.of(), List.of(), null, null),
                        List.of("x"), "/", 0L, 0L, List.of(OciSpecs.DEFAULT_PATH)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("processCases")
    void process(String name, ContainerSpec spec, List<String> args, String cwd, long uid, long gid,
                 List<String> env) {
        JsonNode p = container(spec).path("process");
        assertThat(texts(p.path("args"))).isEqualTo(args);
        assertThat(p.path("cwd").asText()).isEqualTo(cwd);
        assertThat(p.path("user").path("uid").asLong()).isEqualTo(uid);
        assertThat(p.path("user").path("gid").asLong()).isEqualTo(gid);
        assertThat(texts(p.path("env"))).isEqualTo(env);
    }

    @Test
    void groupsArePrimaryImageContainerAndPodUnlessStrict() {
        ContainerSecurity merge = security(false, List.of(), List.of(), OptionalLong.empty(), OptionalLong.empty(),
                false, null, null);
        ImageConfig img = image(List.of("x"), List.of(), List.of(), "", 0, 0);
        assertThat(container(spec(img, List.of(), List.of(), "", List.of(), List.of(), null, merge))
                .path("process").path("user").path("additionalGids").toString()).as("primary, image, container, pod")
                .isEqualTo("[0,100,9,7]");
        ContainerSecurity strict = new ContainerSecurity(List.of(), List.of(), false, null, OptionalLong.empty(),
                OptionalLong.empty(), "", false, List.of(9L), false, List.of(), List.of(), null, null, null,
                ContainerSecurity.SupplementalGroupsPolicy.STRICT);
        assertThat(container(spec(img, List.of(), List.of(), "", List.of(), List.of(), null, strict))
                .path("process").path("user").path("additionalGids").toString()).isEqualTo("[0,9,7]");
    }

    @Test
    void noCommandAtAllIsInvalid() {
        assertThatThrownBy(() -> container(simple(ImageConfig.NONE)))
                .isInstanceOfSatisfying(BackendException.class,
                        e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.INVALID_ARGUMENT));
    }

    // ---- oom score, capabilities ----------------------------------------------------------------------------

    static Stream<Arguments> oomCases() {
        return Stream.of(Arguments.of(0, -998L, 0), Arguments.of(0, 500L, 500), Arguments.of(200, 100L, 200),
                Arguments.of(-500, -998L, -500), Arguments.of(-500, 1000L, 1000));
    }

    @ParameterizedTest(name = "own {0}, asked {1} -> {2}")
    @MethodSource("oomCases")
    void oomScoreAdjIsNeverBelowBerthsOwn(int own, long asked, int expected) {
        LinuxResources res = new LinuxResources(0, 0, 0, 0, asked, "", "", Map.of(), Map.of(), 0);
        JsonNode spec = tree(OciSpecs.container(spec(image(List.of("x"), List.of(), List.of(), "", 0, 0), List.of(),
                List.of(), "", List.of(), List.of(), res, null), POD, new OciSpecs.Host(own, false, false, p -> null),
                List.of()));
        assertThat(spec.path("process").path("oomScoreAdj").asInt()).isEqualTo(expected);
    }

    static Stream<Arguments> capCases() {
        return Stream.of(
                Arguments.of("defaults", false, List.of(), List.of(), OciSpecs.DEFAULT_CAPS),
                Arguments.of("add without prefix", false, List.of("sys_admin"), List.of(),
                        concat(OciSpecs.DEFAULT_CAPS, List.of("CAP_SYS_ADMIN"))),
                Arguments.of("drop one", false, List.of(), List.of("NET_RAW"),
                        OciSpecs.DEFAULT_CAPS.stream().filter(c -> !c.equals("CAP_NET_RAW")).toList()),
                Arguments.of("drop ALL, add one", false, List.of("NET_BIND_SERVICE"), List.of("ALL"),
                        List.of("CAP_NET_BIND_SERVICE")),
                Arguments.of("add ALL", false, List.of("ALL"), List.of(), unionAll()),
                Arguments.of("privileged ignores drops", true, List.of(), List.of("ALL"), OciSpecs.ALL_CAPS));
    }

    static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    static List<String> unionAll() {
        var set = new java.util.LinkedHashSet<>(OciSpecs.DEFAULT_CAPS);
        set.addAll(OciSpecs.ALL_CAPS);
        return List.copyOf(set);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("capCases")
    void capabilities(String name, boolean privileged, List<String> add, List<String> drop, List<String> expected) {
        ContainerSecurity sec = security(privileged, add, drop, OptionalLong.empty(), OptionalLong.empty(), false,
                null, null);
        JsonNode caps = container(spec(image(List.of("x"), List.of(), List.of(), "", 0, 0), List.of(), List.of(),
                "", List.of(), List.of(), null, sec)).path("process").path("capabilities");
        for (String set : List.of("bounding", "effective", "permitted")) {
            assertThat(texts(caps.path(set))).as(set).isEqualTo(expected);
        }
    }

    @Test
    void capabilitiesBerthDoesNotHoldAreNeverAskedFor() {
        ContainerSecurity sec = security(true, List.of(), List.of(), OptionalLong.empty(), OptionalLong.empty(),
                false, null, null);
        var host = new OciSpecs.Host(0, true, false, p -> null,
                java.util.Set.copyOf(OciSpecs.ALL_CAPS.stream().filter(c -> !c.equals("CAP_SYS_RESOURCE")).toList()));
        JsonNode caps = tree(OciSpecs.container(spec(image(List.of("x"), List.of(), List.of(), "", 0, 0), List.of(),
                List.of(), "", List.of(), List.of(), null, sec), POD, host, List.of())).path("process").path("capabilities");
        assertThat(texts(caps.path("bounding"))).hasSize(OciSpecs.ALL_CAPS.size() - 1)
                .doesNotContain("CAP_SYS_RESOURCE").contains("CAP_SYS_ADMIN");
    }

    @Test
    void privilegedHasNoMaskedPathsAndWritableSys() {
        ContainerSecurity sec = security(true, List.of(), List.of(), OptionalLong.empty(), OptionalLong.empty(),
                false, null, null);
        JsonNode spec = container(spec(image(List.of("x"), List.of(), List.of(), "", 0, 0), List.of(), List.of(),
                "", List.of(), List.of(), null, sec));
        assertThat(spec.path("linux").has("maskedPaths")).isFalse();
        assertThat(mount(spec, "/sys").path("options").toString()).doesNotContain("\"ro\"");
        assertThat(spec.path("linux").path("resources").path("devices").get(0).path("allow").asBoolean()).isTrue();
    }

    @Test
    void defaultsMaskPathsAndReadOnlyRootfsIsSet() {
        ContainerSecurity sec = security(false, List.of(), List.of(), OptionalLong.empty(), OptionalLong.empty(),
                true, null, null);
        JsonNode spec = container(spec(image(List.of("x"), List.of(), List.of(), "", 0, 0), List.of(), List.of(),
                "", List.of(), List.of(), null, sec));
        assertThat(texts(spec.path("linux").path("maskedPaths"))).isEqualTo(OciSpecs.DEFAULT_MASKED);
        assertThat(texts(spec.path("linux").path("readonlyPaths"))).isEqualTo(OciSpecs.DEFAULT_READONLY);
        assertThat(spec.path("root").path("readonly").asBoolean()).isTrue();
        assertThat(spec.path("root").path("path").asText()).isEqualTo("rootfs");
        assertThat(spec.path("process").path("noNewPrivileges").asBoolean()).isTrue();
    }

    // ---- mounts --------------------------------------------------------------------------------------------

    static JsonNode mount(JsonNode spec, String dest) {
        for (JsonNode m : spec.path("mounts")) {
            if (m.path("destination").asText().equals(dest)) {
                return m;
            }
        }
        return null;
    }

    static Stream<Arguments> mountCases() {
        return Stream.of(
                Arguments.of(new ContainerMount("/data", "/host/data", false, false,
                        ContainerMount.Propagation.PRIVATE, false, ""), List.of("rbind", "rprivate")),
                Arguments.of(new ContainerMount("/data", "/host/data", true, false,
                        ContainerMount.Propagation.HOST_TO_CONTAINER, false, ""), List.of("rbind", "rslave", "ro")),
                Arguments.of(new ContainerMount("/data", "/host/data", true, true,
                        ContainerMount.Propagation.BIDIRECTIONAL, false, ""), List.of("rbind", "rshared", "rro")));
    }

    @ParameterizedTest
    @MethodSource("mountCases")
    void criMounts(ContainerMount m, List<String> options) {
        JsonNode spec = container(spec(image(List.of("x"), List.of(), List.of(), "", 0, 0), List.of(), List.of(),
                "", List.of(), List.of(m), null, null));
        JsonNode n = mount(spec, "/data");
        assertThat(n.path("type").asText()).isEqualTo("bind");
        assertThat(n.path("source").asText()).isEqualTo("/host/data");
        assertThat(texts(n.path("options"))).isEqualTo(options);
    }

    @Test
    void recursiveReadOnlyIsRefusedWithoutSupport() {
        ContainerMount m = new ContainerMount("/d", "/h", true, true, null, false, "");
        ContainerSpec c = spec(image(List.of("x"), List.of(), List.of(), "", 0, 0), List.of(), List.of(), "",
                List.of(), List.of(m), null, null);
        OciSpecs.Host noRro = new OciSpecs.Host(0, false, false, p -> null);
        assertThatThrownBy(() -> OciSpecs.container(c, POD, noRro, List.of())).isInstanceOf(BackendException.class)
                .hasMessageContaining("recursive read-only");
    }

    @Test
    void defaultAndPodFileMountsWithCriMountsWinning() {
        ContainerMount hosts = new ContainerMount("/etc/hosts", "/kubelet/hosts", false, false, null, false, "");
        JsonNode spec = container(spec(image(List.of("x"), List.of(), List.of(), "", 0, 0), List.of(), List.of(),
                "", List.of(), List.of(hosts), null, null));
        List<String> dests = new ArrayList<>();
        spec.path("mounts").forEach(m -> dests.add(m.path("destination").asText()));
        assertThat(dests).containsExactly("/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys",
                "/sys/fs/cgroup", "/etc/resolv.conf", "/etc/hostname", "/etc/hosts");
        assertThat(mount(spec, "/etc/hosts").path("source").asText()).isEqualTo("/kubelet/hosts");
        assertThat(mount(spec, "/etc/resolv.conf").path("source").asText()).isEqualTo("/run/pod/resolv.conf");
    }

    // ---- namespaces and cgroups ----------------------------------------------------------------------------

    static Stream<Arguments> namespaceCases() {
        Namespaces podPid = new Namespaces(NamespaceMode.POD, NamespaceMode.POD, NamespaceMode.POD, "", null);
        return Stream.of(
                Arguments.of("pod default", Namespaces.POD_DEFAULT, null,
                        "mount=;network=/proc/42/ns/net;uts=/proc/42/ns/uts;ipc=/proc/42/ns/ipc;pid="),
                Arguments.of("shared pid namespace", podPid, null,
                        "mount=;network=/proc/42/ns/net;uts=/proc/42/ns/uts;ipc=/proc/42/ns/ipc;pid=/proc/42/ns/pid"),
                Arguments.of("pinned netns wins", Namespaces.POD_DEFAULT, Path.of("/run/netns/p"),
                        "mount=;network=/run/netns/p;uts=/proc/42/ns/uts;ipc=/proc/42/ns/ipc;pid="),
                Arguments.of("host everything", new Namespaces(NamespaceMode.NODE, NamespaceMode.NODE,
                        NamespaceMode.NODE, "", null), null, "mount="));
    }

    /** The container's namespaces as {@code type=path;...}, for a container asking for {@code ns} in {@code pod}. */
    static String namespacesIn(OciSpecs.Pod pod, Namespaces ns) {
        ContainerSecurity sec = security(false, List.of(), List.of(), OptionalLong.empty(), OptionalLong.empty(),
                false, null, ns);
        JsonNode spec = tree(OciSpecs.container(spec(image(List.of("x"), List.of(), List.of(), "", 0, 0), List.of(),
                List.of(), "", List.of(), List.of(), null, sec), pod, HOST, List.of()));
        List<String> got = new ArrayList<>();
        spec.path("linux").path("namespaces").forEach(n -> got.add(n.path("type").asText() + "=" + n.path("path").asText()));
        return String.join(";", got);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("namespaceCases")
    void namespaces(String name, Namespaces ns, Path netns, String expected) {
        OciSpecs.Pod pod = new OciSpecs.Pod(SB, "", 42, netns, ns, null, null, null, List.of(), 0);
        assertThat(namespacesIn(pod, ns)).isEqualTo(expected);
    }

    static Stream<Arguments> pinnedNamespaceCases() {
        Namespaces containerPid = Namespaces.POD_DEFAULT;
        Namespaces hostIpc = new Namespaces(NamespaceMode.POD, NamespaceMode.CONTAINER, NamespaceMode.NODE, "", null);
        Namespaces hostNet = new Namespaces(NamespaceMode.NODE, NamespaceMode.CONTAINER, NamespaceMode.POD, "", null);
        return Stream.of(
                Arguments.of("pod default", containerPid,
                        "mount=;network=/run/netns/p;uts=/b/ns/uts;ipc=/b/ns/ipc;pid="),
                Arguments.of("host ipc", hostIpc, "mount=;network=/run/netns/p;uts=/b/ns/uts;pid="),
                Arguments.of("host network: no uts of its own either", hostNet, "mount=;ipc=/b/ns/ipc;pid="));
    }

    /** A pod without a pause process: its containers join the pinned namespaces, never a /proc/0 path. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("pinnedNamespaceCases")
    void pinnedNamespaces(String name, Namespaces ns, String expected) {
        Path netns = ns.network() == NamespaceMode.NODE ? null : Path.of("/run/netns/p");
        OciSpecs.Pod pod = new OciSpecs.Pod(SB, "", 0, netns, ns, null, null, null, List.of(), 0, null,
                Path.of("/b/ns"));
        assertThat(namespacesIn(pod, ns)).isEqualTo(expected);
    }

    /**
     * A pod without a pause process has no pod-wide pid namespace (pods that ask for one keep their pause
     * container), so a container that asks to share it, as crictl's configs do by default, gets its own.
     */
    @Test
    void aContainerOfAPodWithoutPauseProcessGetsItsOwnPidNamespace() {
        Namespaces podPid = new Namespaces(NamespaceMode.POD, NamespaceMode.POD, NamespaceMode.POD, "", null);
        OciSpecs.Pod pod = new OciSpecs.Pod(SB, "", 0, Path.of("/run/netns/p"), Namespaces.POD_DEFAULT, null, null,
                null, List.of(), 0, null, Path.of("/b/ns"));
        assertThat(namespacesIn(pod, podPid)).isEqualTo("mount=;network=/run/netns/p;uts=/b/ns/uts;ipc=/b/ns/ipc;pid=");
    }

    static Stream<Arguments> cgroupCases() {
        return Stream.of(
                Arguments.of(false, "", "/berth/" + SB + "/" + CT),
                Arguments.of(false, "/kubepods/besteffort/pod1", "/kubepods/besteffort/pod1/" + SB + "/" + CT),
                Arguments.of(false, "kubepods/", "/kubepods/" + SB + "/" + CT),
                Arguments.of(true, "/kubepods.slice/kubepods-pod1.slice", "kubepods-pod1.slice:berth:" + CT),
                Arguments.of(true, "kubepods-besteffort-pod1.slice", "kubepods-besteffort-pod1.slice:berth:" + CT),
                Arguments.of(true, "", "system.slice:berth:" + CT));
    }

    @ParameterizedTest
    @MethodSource("cgroupCases")
    void cgroupsPaths(boolean systemd, String parent, String expected) {
        assertThat(OciResources.cgroupsPath(systemd, parent, SB, CT)).isEqualTo(expected);
    }

    @Test
    void resources() {
        LinuxResources r = new LinuxResources(100_000, 50_000, 256, 1L << 30, 0, "0-1", "0", Map.of("2MB", 4L << 20),
                Map.of("memory.high", "1000000"), 2L << 30);
        JsonNode res = tree(OciResources.updateResources(r));
        assertThat(res.toString()).isEqualTo("{\"cpu\":{\"shares\":256,\"quota\":50000,\"period\":100000,"
                + "\"cpus\":\"0-1\",\"mems\":\"0\"},\"memory\":{\"limit\":1073741824,\"swap\":2147483648},"
                + "\"hugepageLimits\":[{\"pageSize\":\"2MB\",\"limit\":4194304}],"
                + "\"unified\":{\"memory.high\":\"1000000\"}}");
        assertThat(tree(OciResources.updateResources(LinuxResources.NONE)).toString()).isEqualTo("{}");
    }

    @Test
    void devicesAreCreatedAndAllowed() {
        var dev = new SpecMapper.HostDevice("/dev/xnull", "/dev/null", "c", 1, 3, 0666, "rw");
        JsonNode spec = tree(OciSpecs.container(simple(image(List.of("x"), List.of(), List.of(), "", 0, 0)), POD, HOST,
                List.of(dev)));
        assertThat(spec.path("linux").path("devices").get(0).toString())
                .isEqualTo("{\"path\":\"/dev/xnull\",\"type\":\"c\",\"major\":1,\"minor\":3,\"fileMode\":438,\"uid\":0,\"gid\":0}");
        assertThat(spec.path("linux").path("resources").path("devices").toString())
                .isEqualTo("[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rw\"}]");
    }

    @Test
    void seccompLocalhostIsLoadedAndDockerFormatConverted() {
        ContainerSecurity sec = security(false, List.of(), List.of(), OptionalLong.empty(), OptionalLong.empty(),
                false, new SecurityProfile(SecurityProfile.Type.LOCALHOST, "/profiles/p.json"), null);
        JsonNode spec = container(spec(image(List.of("x"), List.of(), List.of(), "", 0, 0), List.of(), List.of(),
                "", List.of(), List.of(), null, sec));
        assertThat(spec.path("linux").path("seccomp").toString()).isEqualTo("{\"defaultAction\":\"SCMP_ACT_ERRNO\","
                + "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],"
                + "\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"}]}");
    }

    @Test
    void runtimeDefaultSeccompBlocksHostReachingCallsUnlessTheCapabilityIsHeld() {
        ContainerSecurity rd = security(false, List.of(), List.of(), OptionalLong.empty(), OptionalLong.empty(),
                false, SecurityProfile.RUNTIME_DEFAULT, null);
        JsonNode seccomp = container(spec(image(List.of("x"), List.of(), List.of(), "", 0, 0), List.of(), List.of(),
                "", List.of(), List.of(), null, rd)).path("linux").path("seccomp");
        assertThat(seccomp.path("defaultAction").asText()).isEqualTo("SCMP_ACT_ALLOW");
        assertThat(texts(seccomp.path("syscalls").get(0).path("names")))
                .contains("mount", "kexec_load", "init_module", "ptrace", "keyctl").doesNotContain("read", "chown");
        assertThat(seccomp.path("syscalls").get(0).path("action").asText()).isEqualTo("SCMP_ACT_ERRNO");

        ContainerSecurity admin = security(false, List.of("SYS_ADMIN"), List.of(), OptionalLong.empty(),
                OptionalLong.empty(), false, SecurityProfile.RUNTIME_DEFAULT, null);
        assertThat(texts(container(spec(image(List.of("x"), List.of(), List.of(), "", 0, 0), List.of(), List.of(),
                "", List.of(), List.of(), null, admin)).path("linux").path("seccomp").path("syscalls").get(0)
                .path("names"))).doesNotContain("mount", "unshare").contains("kexec_load");

        ContainerSecurity privileged = security(true, List.of(), List.of(), OptionalLong.empty(),
                OptionalLong.empty(), false, SecurityProfile.RUNTIME_DEFAULT, null);
        assertThat(container(spec(image(List.of("x"), List.of(), List.of(), "", 0, 0), List.of(), List.of(), "",
                List.of(), List.of(), null, privileged)).path("linux").has("seccomp")).isFalse();
    }

    // ---- sandbox -------------------------------------------------------------------------------------------

    static SandboxSpec sandbox(Namespaces ns, Map<String, String> sysctls) {
        PodSecurity sec = new PodSecurity(ns, false, false, OptionalLong.empty(), OptionalLong.empty(), List.of(),
                null, null, null);
        return new SandboxSpec(SB, new PodMetadata("p", "u", "n", 0), "myhost", "", null, List.of(), Map.of(),
                Map.of(), "/kubepods/pod1", sysctls, sec, null, null, Path.of("/run/netns/x"),
                List.of(new MountSpec("bind", "/r", "", List.of())), image(List.of(), List.of(), List.of(), "", 0, 0),
                Path.of("/run/pod/resolv.conf"), null, null, null);
    }

    @Test
    void sandboxOwnsPodNamespacesHostnameAndSysctls() {
        JsonNode spec = tree(OciSpecs.sandbox(sandbox(Namespaces.POD_DEFAULT, Map.of("net.ipv4.ip_forward", "1")),
                HOST));
        assertThat(texts(spec.path("process").path("args"))).isEqualTo(OciSpecs.DEFAULT_PAUSE);
        assertThat(spec.path("hostname").asText()).isEqualTo("myhost");
        List<String> got = new ArrayList<>();
        spec.path("linux").path("namespaces").forEach(n -> got.add(n.path("type").asText() + "=" + n.path("path").asText()));
        assertThat(got).containsExactly("mount=", "uts=", "network=/run/netns/x", "ipc=", "pid=");
        assertThat(spec.path("linux").path("sysctl").path("net.ipv4.ip_forward").asText()).isEqualTo("1");
        assertThat(spec.path("linux").path("cgroupsPath").asText()).isEqualTo("/kubepods/pod1/" + SB + "/" + SB);
        assertThat(spec.path("process").path("oomScoreAdj").asInt()).isZero();
        assertThat(mount(spec, "/etc/resolv.conf").path("source").asText()).isEqualTo("/run/pod/resolv.conf");
    }

    @Test
    void hostNetworkSandboxHasNoNetworkOrUtsNamespaceAndRefusesNetSysctls() {
        Namespaces host = new Namespaces(NamespaceMode.NODE, NamespaceMode.NODE, NamespaceMode.NODE, "", null);
        JsonNode spec = tree(OciSpecs.sandbox(sandbox(host, Map.of()), HOST));
        assertThat(spec.has("hostname")).isFalse();
        List<String> got = new ArrayList<>();
        spec.path("linux").path("namespaces").forEach(n -> got.add(n.path("type").asText()));
        assertThat(got).containsExactly("mount");
        assertThatThrownBy(() -> tree(OciSpecs.sandbox(sandbox(host, Map.of("net.core.somaxconn", "1024")), HOST)))
                .isInstanceOfSatisfying(BackendException.class,
                        e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.INVALID_ARGUMENT));
    }

    @Test
    void execProcessKeepsTheContainersUserAndEnv() {
        JsonNode spec = container(simple(image(List.of("x"), List.of(), List.of("A=1"), "/w", 5, 6)));
        JsonNode p = tree(OciSpecs.execProcess(OciJson.convert(spec.path("process"), RuntimeSpec.Process.class),
                List.of("ls", "-l"), false));
        assertThat(texts(p.path("args"))).containsExactly("ls", "-l");
        assertThat(p.path("user").path("uid").asLong()).isEqualTo(5);
        assertThat(p.path("cwd").asText()).isEqualTo("/w");
        assertThat(p.path("terminal").asBoolean()).isFalse();
    }

    @Test
    void aSharedShmIsBoundIntoTheContainer() {
        OciSpecs.Pod pod = new OciSpecs.Pod(SB, "", 42, null, Namespaces.POD_DEFAULT, null, null, null, List.of(), 0,
                Path.of("/state/b/" + SB + "/shm"));
        JsonNode spec = tree(OciSpecs.container(simple(image(List.of("x"), List.of(), List.of(), "", 0, 0)), pod, HOST,
                List.of()));
        JsonNode shm = mount(spec, "/dev/shm");
        assertThat(shm.path("type").asText()).isEqualTo("bind");
        assertThat(shm.path("source").asText()).isEqualTo("/state/b/" + SB + "/shm");
        assertThat(mount(container(simple(image(List.of("x"), List.of(), List.of(), "", 0, 0))), "/dev/shm")
                .path("type").asText()).isEqualTo("tmpfs");
    }
}
