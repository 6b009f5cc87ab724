package dev.berth.core.mapping;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.DiscardUnknownFieldsParser;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.berth.cri.v1.Capability;
import dev.berth.cri.v1.ContainerConfig;
import dev.berth.cri.v1.ContainerMetadata;
import dev.berth.cri.v1.Device;
import dev.berth.cri.v1.DNSConfig;
import dev.berth.cri.v1.HugepageLimit;
import dev.berth.cri.v1.IDMapping;
import dev.berth.cri.v1.ImageSpec;
import dev.berth.cri.v1.Int64Value;
import dev.berth.cri.v1.KeyValue;
import dev.berth.cri.v1.LinuxContainerResources;
import dev.berth.cri.v1.LinuxContainerSecurityContext;
import dev.berth.cri.v1.LinuxPodSandboxConfig;
import dev.berth.cri.v1.LinuxSandboxSecurityContext;
import dev.berth.cri.v1.Mount;
import dev.berth.cri.v1.MountPropagation;
import dev.berth.cri.v1.NamespaceMode;
import dev.berth.cri.v1.NamespaceOption;
import dev.berth.cri.v1.PodSandboxConfig;
import dev.berth.cri.v1.PodSandboxMetadata;
import dev.berth.cri.v1.PortMapping;
import dev.berth.cri.v1.Protocol;
import dev.berth.cri.v1.SELinuxOption;
import dev.berth.cri.v1.SecurityProfile;
import dev.berth.cri.v1.SupplementalGroupsPolicy;
import dev.berth.cri.v1.UserNamespace;
import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerMount;
import dev.berth.spi.ContainerSecurity;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.DeviceSpec;
import dev.berth.spi.ImageConfig;
import dev.berth.spi.Namespaces;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.SelinuxLabel;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * Every CRI field that reaches the SPI, one row each: a request with that field set, and the SPI record field it
 * must land in. A row also checks that the value differs from what a request without the field maps to, so no
 * row passes by mapping nothing. Rows marked {@code alpha} are fields runtime.v1alpha2 has too: berth parses a
 * v1alpha2 request as the v1 message (the versions share field numbers), so those rows are run again on the
 * bytes a v1alpha2 client sends (the request re-encoded through the v1alpha2 message, dropping what it lacks).
 */
class SpiMapperTableTest {
    record PodRow(String field, Consumer<PodSandboxConfig.Builder> set, Function<SandboxSpec, Object> get,
                  Object expected, boolean alpha) {
        @Override
        public String toString() {
            return field;
        }
    }

    record CtrRow(String field, Consumer<ContainerConfig.Builder> set, Function<ContainerSpec, Object> get,
                  Object expected, boolean alpha) {
        @Override
        public String toString() {
            return field;
        }
    }

    static final PodSandboxConfig POD = PodSandboxConfig.newBuilder()
            .setMetadata(PodSandboxMetadata.newBuilder().setName("web").setNamespace("default").setUid("u1"))
            .build();
    static final ContainerConfig CTR = ContainerConfig.newBuilder()
            .setMetadata(ContainerMetadata.newBuilder().setName("app")).build();

    private static PodRow pod(String field, Consumer<PodSandboxConfig.Builder> set, Function<SandboxSpec, Object> get,
                              Object expected, boolean alpha) {
        return new PodRow(field, set, get, expected, alpha);
    }

    private static CtrRow ctr(String field, Consumer<ContainerConfig.Builder> set, Function<ContainerSpec, Object> get,
                              Object expected, boolean alpha) {
        return new CtrRow(field, set, get, expected, alpha);
    }

    private static Consumer<PodSandboxConfig.Builder> podSec(Consumer<LinuxSandboxSecurityContext.Builder> s) {
        return b -> s.accept(b.getLinuxBuilder().getSecurityContextBuilder());
    }

    private static Consumer<ContainerConfig.Builder> ctrSec(Consumer<LinuxContainerSecurityContext.Builder> s) {
        return b -> s.accept(b.getLinuxBuilder().getSecurityContextBuilder());
    }

    private static Consumer<ContainerConfig.Builder> ctrRes(Consumer<LinuxContainerResources.Builder> s) {
        return b -> s.accept(b.getLinuxBuilder().getResourcesBuilder());
    }

    static Stream<PodRow> podRows() {
        return Stream.of(
                pod("metadata.name", b -> b.getMetadataBuilder().setName("api"), s -> s.metadata().name(), "api", true),
                pod("metadata.uid", b -> b.getMetadataBuilder().setUid("u2"), s -> s.metadata().uid(), "u2", true),
                pod("metadata.namespace", b -> b.getMetadataBuilder().setNamespace("kube-system"),
                        s -> s.metadata().namespace(), "kube-system", true),
                pod("metadata.attempt", b -> b.getMetadataBuilder().setAttempt(3), s -> s.metadata().attempt(), 3, true),
                pod("hostname", b -> b.setHostname("h1"), SandboxSpec::hostname, "h1", true),
                pod("log_directory", b -> b.setLogDirectory("/var/log/pods/x"), SandboxSpec::logDirectory,
                        "/var/log/pods/x", true),
                pod("dns_config.servers", b -> b.setDnsConfig(DNSConfig.newBuilder().addServers("10.0.0.10")),
                        s -> s.dns().servers(), List.of("10.0.0.10"), true),
                pod("dns_config.searches", b -> b.setDnsConfig(DNSConfig.newBuilder().addSearches("svc.local")),
                        s -> s.dns().searches(), List.of("svc.local"), true),
                pod("dns_config.options", b -> b.setDnsConfig(DNSConfig.newBuilder().addOptions("ndots:5")),
                        s -> s.dns().options(), List.of("ndots:5"), true),
                pod("port_mappings", b -> b.addPortMappings(PortMapping.newBuilder().setProtocol(Protocol.UDP)
                                .setContainerPort(53).setHostPort(5353).setHostIp("127.0.0.1")),
                        SandboxSpec::portMappings, List.of(new dev.berth.spi.PortMapping(
                                dev.berth.spi.PortMapping.Protocol.UDP, 53, 5353, "127.0.0.1")), true),
                pod("port_mappings.protocol SCTP", b -> b.addPortMappings(PortMapping.newBuilder()
                                .setProtocol(Protocol.SCTP).setContainerPort(9)),
                        s -> first(s.portMappings(), dev.berth.spi.PortMapping::protocol), dev.berth.spi.PortMapping.Protocol.SCTP, true),
                pod("labels", b -> b.putLabels("app", "web"), SandboxSpec::labels, Map.of("app", "web"), true),
                pod("annotations", b -> b.putAnnotations("a", "b"), SandboxSpec::annotations, Map.of("a", "b"), true),
                pod("linux.cgroup_parent", b -> b.getLinuxBuilder().setCgroupParent("/kubepods/pod1"),
                        SandboxSpec::cgroupParent, "/kubepods/pod1", true),
                pod("linux.sysctls", b -> b.getLinuxBuilder().putSysctls("net.ipv4.ip_forward", "1"),
                        SandboxSpec::sysctls, Map.of("net.ipv4.ip_forward", "1"), true),
                pod("linux.security_context.namespace_options.network",
                        podSec(s -> s.setNamespaceOptions(NamespaceOption.newBuilder().setNetwork(NamespaceMode.NODE))),
                        s -> s.security().namespaces().network(), dev.berth.spi.NamespaceMode.NODE, true),
                pod("linux.security_context.namespace_options.pid",
                        podSec(s -> s.setNamespaceOptions(NamespaceOption.newBuilder().setPid(NamespaceMode.CONTAINER))),
                        s -> s.security().namespaces().pid(), dev.berth.spi.NamespaceMode.CONTAINER, true),
                pod("linux.security_context.namespace_options.ipc",
                        podSec(s -> s.setNamespaceOptions(NamespaceOption.newBuilder().setIpc(NamespaceMode.NODE))),
                        s -> s.security().namespaces().ipc(), dev.berth.spi.NamespaceMode.NODE, true),
                pod("linux.security_context.namespace_options.userns_options",
                        podSec(s -> s.setNamespaceOptions(NamespaceOption.newBuilder().setUsernsOptions(
                                UserNamespace.newBuilder().setMode(NamespaceMode.POD)
                                        .addUids(IDMapping.newBuilder().setHostId(100000).setContainerId(0).setLength(65536))
                                        .addGids(IDMapping.newBuilder().setHostId(200000).setContainerId(0).setLength(65536))))),
                        s -> s.security().namespaces().userNamespace(), new Namespaces.UserNamespace(
                                List.of(new Namespaces.IdMapping(100000, 0, 65536)),
                                List.of(new Namespaces.IdMapping(200000, 0, 65536))), false),
                pod("linux.security_context.privileged", podSec(s -> s.setPrivileged(true)),
                        s -> s.security().privileged(), true, true),
                pod("linux.security_context.readonly_rootfs", podSec(s -> s.setReadonlyRootfs(true)),
                        s -> s.security().readonlyRootfs(), true, true),
                pod("linux.security_context.run_as_user", podSec(s -> s.setRunAsUser(Int64Value.newBuilder().setValue(0))),
                        s -> s.security().runAsUser(), OptionalLong.of(0), true),
                pod("linux.security_context.run_as_group",
                        podSec(s -> s.setRunAsGroup(Int64Value.newBuilder().setValue(7))),
                        s -> s.security().runAsGroup(), OptionalLong.of(7), true),
                pod("linux.security_context.supplemental_groups", podSec(s -> s.addSupplementalGroups(44)),
                        s -> s.security().supplementalGroups(), List.of(44L), true),
                pod("linux.security_context.seccomp",
                        podSec(s -> s.setSeccomp(SecurityProfile.newBuilder()
                                .setProfileType(SecurityProfile.ProfileType.RuntimeDefault))),
                        s -> s.security().seccomp(), dev.berth.spi.SecurityProfile.RUNTIME_DEFAULT, true),
                pod("linux.security_context.seccomp_profile_path",
                        podSec(s -> s.setSeccompProfilePath("localhost/profiles/a.json")),
                        s -> s.security().seccomp(), new dev.berth.spi.SecurityProfile(
                                dev.berth.spi.SecurityProfile.Type.LOCALHOST, "profiles/a.json"), true),
                pod("linux.security_context.apparmor",
                        podSec(s -> s.setApparmor(SecurityProfile.newBuilder()
                                .setProfileType(SecurityProfile.ProfileType.Localhost).setLocalhostRef("k8s-a"))),
                        s -> s.security().apparmor(), new dev.berth.spi.SecurityProfile(
                                dev.berth.spi.SecurityProfile.Type.LOCALHOST, "k8s-a"), true),
                pod("linux.security_context.selinux_options",
                        podSec(s -> s.setSelinuxOptions(SELinuxOption.newBuilder().setUser("system_u")
                                .setRole("system_r").setType("container_t").setLevel("s0:c1,c2"))),
                        s -> s.security().selinux(), new SelinuxLabel("system_u", "system_r", "container_t",
                                "s0:c1,c2"), true),
                pod("linux.overhead", b -> b.getLinuxBuilder().getOverheadBuilder().setMemoryLimitInBytes(1 << 20),
                        s -> s.overhead().memoryLimitBytes(), (long) (1 << 20), false),
                pod("linux.resources", b -> b.getLinuxBuilder().getResourcesBuilder().setCpuQuota(50000),
                        s -> s.resources().cpuQuota(), 50000L, false));
    }

    static Stream<CtrRow> containerRows() {
        return Stream.of(
                ctr("metadata.name", b -> b.getMetadataBuilder().setName("side"), ContainerSpec::name, "side", true),
                ctr("metadata.attempt", b -> b.getMetadataBuilder().setAttempt(2), ContainerSpec::attempt, 2, true),
                ctr("command", b -> b.addCommand("/bin/sh"), ContainerSpec::command, List.of("/bin/sh"), true),
                ctr("args", b -> b.addArgs("-c").addArgs("true"), ContainerSpec::args, List.of("-c", "true"), true),
                ctr("working_dir", b -> b.setWorkingDir("/srv"), ContainerSpec::workingDir, "/srv", true),
                ctr("envs", b -> b.addEnvs(KeyValue.newBuilder().setKey("A").setValue(ByteString.copyFromUtf8("1"))), ContainerSpec::env,
                        List.of("A=1"), true),
                ctr("mounts", b -> b.addMounts(Mount.newBuilder().setContainerPath("/data").setHostPath("/srv/data")
                                .setReadonly(true).setSelinuxRelabel(true)
                                .setPropagation(MountPropagation.PROPAGATION_BIDIRECTIONAL)),
                        ContainerSpec::mounts, List.of(new ContainerMount("/data", "/srv/data", true, false,
                                ContainerMount.Propagation.BIDIRECTIONAL, true, "")), true),
                ctr("mounts.propagation HOST_TO_CONTAINER", b -> b.addMounts(Mount.newBuilder()
                                .setContainerPath("/d").setHostPath("/d")
                                .setPropagation(MountPropagation.PROPAGATION_HOST_TO_CONTAINER)),
                        s -> first(s.mounts(), ContainerMount::propagation), ContainerMount.Propagation.HOST_TO_CONTAINER, true),
                ctr("mounts.recursive_read_only", b -> b.addMounts(Mount.newBuilder().setContainerPath("/r")
                                .setHostPath("/r").setRecursiveReadOnly(true)),
                        s -> first(s.mounts(), m -> List.of(m.readOnly(), m.recursiveReadOnly())),
                        List.of(true, true), false),
                ctr("mounts.image", b -> b.addMounts(Mount.newBuilder().setContainerPath("/m")
                                .setImage(ImageSpec.newBuilder().setImage("busybox:1"))),
                        s -> first(s.mounts(), ContainerMount::imageReference), "busybox:1", false),
                ctr("devices", b -> b.addDevices(Device.newBuilder().setContainerPath("/dev/fuse")
                                .setHostPath("/dev/fuse").setPermissions("rw")),
                        ContainerSpec::devices, List.of(new DeviceSpec("/dev/fuse", "/dev/fuse", "rw")), true),
                ctr("labels", b -> b.putLabels("tier", "db"), ContainerSpec::labels, Map.of("tier", "db"), true),
                ctr("annotations", b -> b.putAnnotations("x", "y"), ContainerSpec::annotations, Map.of("x", "y"), true),
                ctr("stdin", b -> b.setStdin(true), ContainerSpec::stdin, true, true),
                ctr("stdin_once", b -> b.setStdinOnce(true), ContainerSpec::stdinOnce, true, true),
                ctr("tty", b -> b.setTty(true), ContainerSpec::tty, true, true),
                ctr("linux.resources.cpu_period", ctrRes(r -> r.setCpuPeriod(100000)),
                        s -> s.resources().cpuPeriod(), 100000L, true),
                ctr("linux.resources.cpu_quota", ctrRes(r -> r.setCpuQuota(20000)),
                        s -> s.resources().cpuQuota(), 20000L, true),
                ctr("linux.resources.cpu_shares", ctrRes(r -> r.setCpuShares(512)),
                        s -> s.resources().cpuShares(), 512L, true),
                ctr("linux.resources.memory_limit_in_bytes", ctrRes(r -> r.setMemoryLimitInBytes(64 << 20)),
                        s -> s.resources().memoryLimitBytes(), (long) (64 << 20), true),
                ctr("linux.resources.oom_score_adj", ctrRes(r -> r.setOomScoreAdj(-998)),
                        s -> s.resources().oomScoreAdj(), -998L, true),
                ctr("linux.resources.cpuset_cpus", ctrRes(r -> r.setCpusetCpus("0-1")),
                        s -> s.resources().cpusetCpus(), "0-1", true),
                ctr("linux.resources.cpuset_mems", ctrRes(r -> r.setCpusetMems("0")),
                        s -> s.resources().cpusetMems(), "0", true),
                ctr("linux.resources.hugepage_limits", ctrRes(r -> r.addHugepageLimits(
                                HugepageLimit.newBuilder().setPageSize("2MB").setLimit(4 << 20))),
                        s -> s.resources().hugepageLimits(), Map.of("2MB", (long) (4 << 20)), true),
                ctr("linux.resources.unified", ctrRes(r -> r.putUnified("memory.high", "1000000")),
                        s -> s.resources().unified(), Map.of("memory.high", "1000000"), false),
                ctr("linux.resources.memory_swap_limit_in_bytes", ctrRes(r -> r.setMemorySwapLimitInBytes(128 << 20)),
                        s -> s.resources().memorySwapLimitBytes(), (long) (128 << 20), false),
                ctr("linux.security_context.capabilities.add_capabilities",
                        ctrSec(s -> s.setCapabilities(Capability.newBuilder().addAddCapabilities("NET_ADMIN"))),
                        s -> s.security().addCapabilities(), List.of("NET_ADMIN"), true),
                ctr("linux.security_context.capabilities.drop_capabilities",
                        ctrSec(s -> s.setCapabilities(Capability.newBuilder().addDropCapabilities("ALL"))),
                        s -> s.security().dropCapabilities(), List.of("ALL"), true),
                ctr("linux.security_context.privileged", ctrSec(s -> s.setPrivileged(true)),
                        s -> s.security().privileged(), true, true),
                ctr("linux.security_context.namespace_options.pid",
                        ctrSec(s -> s.setNamespaceOptions(NamespaceOption.newBuilder().setPid(NamespaceMode.TARGET)
                                .setTargetId("c1"))),
                        s -> List.of(s.security().namespaces().pid(), s.security().namespaces().targetId()),
                        List.of(dev.berth.spi.NamespaceMode.TARGET, "c1"), true),
                ctr("linux.security_context.run_as_user",
                        ctrSec(s -> s.setRunAsUser(Int64Value.newBuilder().setValue(1000))),
                        s -> s.security().runAsUser(), OptionalLong.of(1000), true),
                ctr("linux.security_context.run_as_group",
                        ctrSec(s -> s.setRunAsUser(Int64Value.newBuilder().setValue(1000))
                                .setRunAsGroup(Int64Value.newBuilder().setValue(1001))),
                        s -> s.security().runAsGroup(), OptionalLong.of(1001), true),
                ctr("linux.security_context.run_as_username", ctrSec(s -> s.setRunAsUsername("nobody")),
                        s -> s.security().runAsUsername(), "nobody", true),
                ctr("linux.security_context.readonly_rootfs", ctrSec(s -> s.setReadonlyRootfs(true)),
                        s -> s.security().readonlyRootfs(), true, true),
                ctr("linux.security_context.supplemental_groups", ctrSec(s -> s.addSupplementalGroups(27)),
                        s -> s.security().supplementalGroups(), List.of(27L), true),
                ctr("linux.security_context.no_new_privs", ctrSec(s -> s.setNoNewPrivs(true)),
                        s -> s.security().noNewPrivs(), true, true),
                ctr("linux.security_context.masked_paths", ctrSec(s -> s.addMaskedPaths("/proc/kcore")),
                        s -> s.security().maskedPaths(), List.of("/proc/kcore"), true),
                ctr("linux.security_context.readonly_paths", ctrSec(s -> s.addReadonlyPaths("/proc/sys")),
                        s -> s.security().readonlyPaths(), List.of("/proc/sys"), true),
                ctr("linux.security_context.seccomp", ctrSec(s -> s.setSeccomp(SecurityProfile.newBuilder()
                                .setProfileType(SecurityProfile.ProfileType.RuntimeDefault))),
                        s -> s.security().seccomp(), dev.berth.spi.SecurityProfile.RUNTIME_DEFAULT, true),
                ctr("linux.security_context.seccomp_profile_path", ctrSec(s -> s.setSeccompProfilePath("docker/default")),
                        s -> s.security().seccomp(), dev.berth.spi.SecurityProfile.RUNTIME_DEFAULT, true),
                ctr("linux.security_context.apparmor", ctrSec(s -> s.setApparmor(SecurityProfile.newBuilder()
                                .setProfileType(SecurityProfile.ProfileType.RuntimeDefault))),
                        s -> s.security().apparmor(), dev.berth.spi.SecurityProfile.RUNTIME_DEFAULT, true),
                ctr("linux.security_context.apparmor_profile", ctrSec(s -> s.setApparmorProfile("localhost/k8s-b")),
                        s -> s.security().apparmor(), new dev.berth.spi.SecurityProfile(
                                dev.berth.spi.SecurityProfile.Type.LOCALHOST, "k8s-b"), true),
                ctr("linux.security_context.selinux_options", ctrSec(s -> s.setSelinuxOptions(
                                SELinuxOption.newBuilder().setType("spc_t").setLevel("s0"))),
                        s -> s.security().selinux(), new SelinuxLabel("", "", "spc_t", "s0"), true),
                ctr("linux.security_context.supplemental_groups_policy",
                        ctrSec(s -> s.setSupplementalGroupsPolicy(SupplementalGroupsPolicy.Strict)),
                        s -> s.security().supplementalGroupsPolicy(), ContainerSecurity.SupplementalGroupsPolicy.STRICT,
                        false));
    }

    /** What {@code get} reads from the first element, or null when there is none (the request without the field). */
    private static <E> Object first(List<E> list, Function<E, Object> get) {
        return list.isEmpty() ? null : get.apply(list.getFirst());
    }

    private static SandboxSpec sandbox(PodSandboxConfig c) {
        return SpiMapper.sandbox("s1", c, SpiMapper.Prepared.NONE);
    }

    private static ContainerSpec container(ContainerConfig c) {
        return SpiMapper.container("c1", "s1", c, ImageConfig.NONE, List.of(), "app.log", "");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("podRows")
    void podFieldLandsInTheSandboxSpec(PodRow row) throws InvalidProtocolBufferException {
        PodSandboxConfig.Builder b = POD.toBuilder();
        row.set().accept(b);
        PodSandboxConfig req = b.build();
        assertThat(row.get().apply(sandbox(req))).isEqualTo(row.expected());
        assertThat(row.get().apply(sandbox(POD))).as("without the field").isNotEqualTo(row.expected());
        assertThat(sandbox(req).raw()).isEqualTo(req.toByteArray());
        if (row.alpha()) {
            var alpha = DiscardUnknownFieldsParser.wrap(dev.berth.cri.v1alpha2.PodSandboxConfig.parser())
                    .parseFrom(req.toByteArray());
            PodSandboxConfig asV1 = PodSandboxConfig.parseFrom(alpha.toByteArray());
            assertThat(row.get().apply(sandbox(asV1))).as("from v1alpha2").isEqualTo(row.expected());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("containerRows")
    void containerFieldLandsInTheContainerSpec(CtrRow row) throws InvalidProtocolBufferException {
        ContainerConfig.Builder b = CTR.toBuilder();
        row.set().accept(b);
        ContainerConfig req = b.build();
        assertThat(row.get().apply(container(req))).isEqualTo(row.expected());
        assertThat(row.get().apply(container(CTR))).as("without the field").isNotEqualTo(row.expected());
        assertThat(container(req).raw()).isEqualTo(req.toByteArray());
        if (row.alpha()) {
            var alpha = DiscardUnknownFieldsParser.wrap(dev.berth.cri.v1alpha2.ContainerConfig.parser())
                    .parseFrom(req.toByteArray());
            ContainerConfig asV1 = ContainerConfig.parseFrom(alpha.toByteArray());
            assertThat(row.get().apply(container(asV1))).as("from v1alpha2").isEqualTo(row.expected());
        }
    }

    @Test
    void theIdsAndWhatCorePreparedLandAsGiven() {
        ContainerSpec c = SpiMapper.container("c9", "s9", CTR, ImageConfig.NONE, List.of(), "/logs/app.log", "");
        assertThat(List.of(c.id(), c.sandboxId(), c.logPath())).containsExactly("c9", "s9", "/logs/app.log");
        assertThat(sandbox(POD).id()).isEqualTo("s1");
    }

    @Test
    void aContainerWithoutASecurityContextHasCrisDefaultsAndSoThePodsPidNamespace() {
        ContainerSpec bare = container(CTR.toBuilder().clearLinux().build());
        assertThat(bare.security().namespaces().pid()).isEqualTo(dev.berth.spi.NamespaceMode.POD);
        assertThat(bare.security()).isEqualTo(container(CTR.toBuilder().setLinux(dev.berth.cri.v1.LinuxContainerConfig
                .newBuilder().setSecurityContext(LinuxContainerSecurityContext.getDefaultInstance())).build())
                .security());
    }

    @Test
    void theResourcesOfAnUpdateMapLikeThoseOfACreate() {
        var r = SpiMapper.resources(LinuxContainerResources.newBuilder().setCpuShares(256).setMemoryLimitInBytes(1 << 24)
                .putUnified("pids.max", "10").build(), "linux");
        assertThat(List.of(r.cpuShares(), r.memoryLimitBytes())).containsExactly(256L, (long) (1 << 24));
        assertThat(r.unified()).containsEntry("pids.max", "10");
    }

    @Test
    void aValueTheRecordRefusesIsInvalidArgument() {
        assertThatThrownBy(() -> SpiMapper.resources(LinuxContainerResources.newBuilder().setCpuShares(-1).build(), "linux"))
                .isInstanceOfSatisfying(BackendException.class,
                        e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.INVALID_ARGUMENT));
        assertThatThrownBy(() -> container(CTR.toBuilder().setLinux(dev.berth.cri.v1.LinuxContainerConfig.newBuilder()
                .setSecurityContext(LinuxContainerSecurityContext.newBuilder().setSeccompProfilePath("bogus")))
                .build())).isInstanceOfSatisfying(BackendException.class,
                        e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.INVALID_ARGUMENT));
    }

    @Test
    void aNonUtf8EnvValueIsInvalidArgument() {
        ContainerConfig c = CTR.toBuilder().addEnvs(KeyValue.newBuilder().setKey("B")
                .setValue(ByteString.copyFrom(new byte[] {(byte) 0xff}))).build();
        assertThatThrownBy(() -> container(c)).isInstanceOfSatisfying(BackendException.class,
                e -> assertThat(e.getMessage()).contains("envs[0] (B)").contains("not valid UTF-8"));
    }
}
