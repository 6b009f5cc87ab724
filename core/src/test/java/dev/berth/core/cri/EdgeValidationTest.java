package dev.berth.core.cri;

import static dev.berth.core.cri.CriServiceTest.assertCode;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.cri.v1.ContainerConfig;
import dev.berth.cri.v1.ContainerMetadata;
import dev.berth.cri.v1.CreateContainerRequest;
import dev.berth.cri.v1.DNSConfig;
import dev.berth.cri.v1.Int64Value;
import dev.berth.cri.v1.LinuxContainerConfig;
import dev.berth.cri.v1.LinuxContainerResources;
import dev.berth.cri.v1.LinuxContainerSecurityContext;
import dev.berth.cri.v1.ListContainersRequest;
import dev.berth.cri.v1.ListPodSandboxRequest;
import dev.berth.cri.v1.LinuxPodSandboxConfig;
import dev.berth.cri.v1.LinuxSandboxSecurityContext;
import dev.berth.cri.v1.NamespaceOption;
import dev.berth.cri.v1.PodSandboxConfig;
import dev.berth.cri.v1.PodSandboxMetadata;
import dev.berth.cri.v1.PodSandboxStatusRequest;
import dev.berth.cri.v1.PortMapping;
import dev.berth.cri.v1.Protocol;
import dev.berth.cri.v1.RemoveContainerRequest;
import dev.berth.cri.v1.RemovePodSandboxRequest;
import dev.berth.cri.v1.RunPodSandboxRequest;
import dev.berth.cri.v1.StopContainerRequest;
import dev.berth.cri.v1.StopPodSandboxRequest;
import dev.berth.cri.v1.UpdateContainerResourcesRequest;
import io.grpc.Status;
import java.nio.file.Path;
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Metadata, labels, annotations and ids are checked at the edge before anything is reserved or created: each
 * refusal is INVALID_ARGUMENT naming the field, and nothing is left listed.
 */
class EdgeValidationTest {
    @TempDir
    Path dir;

    CriTestHarness h;

    @BeforeEach
    void start() throws Exception {
        h = new CriTestHarness(dir);
    }

    @AfterEach
    void stop() {
        h.close();
    }

    @Test
    void nulInNamespaceOrUidIsRefusedBeforeAnythingIsCreated() {
        // The case: {"metadata":{"name":"nul","namespace":"a\u0000b","uid":"u1","attempt":0},"linux":{}}
        refusedPod(md -> md.setName("nul").setNamespace("a\u0000b").setUid("u1"), "config.metadata.namespace must not "
                + "contain a NUL byte");
        refusedPod(md -> md.setName("nul").setNamespace("ns").setUid("u\u00001"), "config.metadata.uid must not "
                + "contain a NUL byte");
        // The same metadata without the NUL runs and can be removed.
        String id = runPod(md -> md.setName("nul").setNamespace("ab").setUid("u1"));
        h.runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(id).build());
        assertThat(h.runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()).isEmpty();
    }

    @Test
    void podMetadataFollowsKubernetesNamingRules() {
        refusedPod(md -> md.setName("").setNamespace("ns"), "pod sandbox metadata.name must not be empty");
        refusedPod(md -> md.setName("a/b").setNamespace("ns"), "pod sandbox metadata.name \"a/b\" is not valid");
        refusedPod(md -> md.setName("-a").setNamespace("ns"), "pod sandbox metadata.name \"-a\" is not valid");
        refusedPod(md -> md.setName("a".repeat(254)).setNamespace("ns"),
                "pod sandbox metadata.name is 254 characters long; the limit is 253");
        refusedPod(md -> md.setName("p").setNamespace("a.b"), "pod sandbox metadata.namespace \"a.b\" is not valid");
        refusedPod(md -> md.setName("p").setNamespace("n".repeat(64)),
                "pod sandbox metadata.namespace is 64 characters long; the limit is 63");
        refusedPod(md -> md.setName("p").setNamespace("ns").setUid("u\tv"),
                "pod sandbox metadata.uid \"u\\u0009v\" must not contain control characters");
        refusedPod(md -> md.setName("p").setNamespace("ns").setUid("u;IgnoreUnknown=0"),
                "pod sandbox metadata.uid \"u;IgnoreUnknown=0\" must not contain ';' or '='");
        refusedPod(md -> md.setName("p").setNamespace("ns").setUid("u".repeat(129)),
                "pod sandbox metadata.uid is 129 characters long; the limit is 128");
        refusedPod(md -> md.setName("p").setNamespace("ns").setAttempt(-1),
                "pod sandbox metadata.attempt 4294967295 is too large");
    }

    @Test
    void namesTheKubeletAndCritestSendAreAccepted() {
        String uuid = UUID.randomUUID().toString();
        String pod = runPod(md -> md.setName("PodSandbox-for-create-test-" + uuid)
                .setNamespace("cri-test-namespace" + uuid).setUid(uuid).setAttempt(3));
        runPod(md -> md.setName("kube-apiserver-node1.example.com").setNamespace("kube-system")
                .setUid("0f3c3a1b2e1d4d8c9a7b6e5f4d3c2b1a"));
        String ctr = h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                .setConfig(CriTestHarness.container("c").toBuilder().setMetadata(ContainerMetadata.newBuilder()
                        .setName("container-for-DNS-config-test-" + uuid).setAttempt(1))
                        .putLabels("io.kubernetes.container.name", "x")
                        .putAnnotations("kubectl.kubernetes.io/last-applied-configuration", "{\n  \"a\": 1\n}\n"))
                .build()).getContainerId();
        assertThat(ctr).hasSize(64);
        assertThat(h.runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()).hasSize(2);
    }

    @Test
    void labelAndAnnotationKeysAreQualifiedNames() {
        refusedPodConfig(c -> c.putLabels("a/b/c", "v"), "pod sandbox labels key \"a/b/c\" is not a qualified name");
        refusedPodConfig(c -> c.putLabels("Example.com/x", "v"),
                "pod sandbox labels key \"Example.com/x\" has an invalid prefix");
        refusedPodConfig(c -> c.putLabels("x_", "v"), "pod sandbox labels key \"x_\" is not a qualified name");
        refusedPodConfig(c -> c.putLabels("k", "a\nb"), "pod sandbox labels[\"k\"] \"a\\u000ab\" must not contain "
                + "control characters");
        refusedPodConfig(c -> c.putAnnotations("", "v"), "pod sandbox annotations key \"\" is not a qualified name");
        refusedPodConfig(c -> c.putAnnotations("k", "a\u0000"), "config.annotations[\"k\"] must not contain a NUL");

        String pod = runPod(md -> md.setName("p").setNamespace("ns"));
        assertCode(() -> h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                .setConfig(CriTestHarness.container("c").toBuilder().putLabels("/x", "v")).build()),
                Status.Code.INVALID_ARGUMENT, "container labels key \"/x\" has an invalid prefix");
        assertCode(() -> h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                .setConfig(CriTestHarness.container("c").toBuilder().setMetadata(ContainerMetadata.newBuilder()
                        .setName("c/../d"))).build()),
                Status.Code.INVALID_ARGUMENT, "container metadata.name \"c/../d\" is not valid");
        assertThat(h.runtime.listContainers(ListContainersRequest.getDefaultInstance()).getContainersList()).isEmpty();
    }

    @Test
    void idsThatCouldNameAPathAreRefusedAndUnknownOnesAreNotFound() {
        String bad = "../../etc/passwd";
        assertCode(() -> h.runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(bad).build()),
                Status.Code.INVALID_ARGUMENT, "pod sandbox id \"../../etc/passwd\" is not valid");
        assertCode(() -> h.runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(bad)
                .build()), Status.Code.INVALID_ARGUMENT, "pod sandbox id \"../../etc/passwd\" is not valid");
        assertCode(() -> h.runtime.podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId(bad)
                .build()), Status.Code.INVALID_ARGUMENT, "pod sandbox id \"../../etc/passwd\" is not valid");
        assertCode(() -> h.runtime.stopContainer(StopContainerRequest.newBuilder().setContainerId("a b").build()),
                Status.Code.INVALID_ARGUMENT, "container id \"a b\" is not valid");
        assertCode(() -> h.runtime.removeContainer(RemoveContainerRequest.newBuilder().setContainerId("x".repeat(129))
                .build()), Status.Code.INVALID_ARGUMENT, "container id is 129 characters long; the limit is 128");
        assertCode(() -> h.runtime.podSandboxStatus(PodSandboxStatusRequest.newBuilder().setPodSandboxId("nope")
                .build()), Status.Code.NOT_FOUND, "pod sandbox \"nope\" not found");
        // Remove of an unknown (well-formed) id stays idempotent.
        h.runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId("nope").build());
    }

    @Test
    void aRecordConstructorsCheckOfRequestValuesIsInvalidArgument() {
        String pod = runPod(md -> md.setName("p").setNamespace("ns"));
        String ctr = h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                .setConfig(CriTestHarness.container("c")).build()).getContainerId();
        assertCode(() -> h.runtime.updateContainerResources(UpdateContainerResourcesRequest.newBuilder()
                .setContainerId(ctr).setLinux(LinuxContainerResources.newBuilder().setCpuShares(-2)).build()),
                Status.Code.INVALID_ARGUMENT, "resource values must not be negative");
    }

    private String runPod(UnaryOperator<PodSandboxMetadata.Builder> md) {
        return h.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(PodSandboxConfig.newBuilder()
                .setMetadata(md.apply(PodSandboxMetadata.newBuilder())).setLinux(LinuxPodSandboxConfig.newBuilder()))
                .build()).getPodSandboxId();
    }

    @Test
    void aHostnameLongerThanTheKernelTakesIsRefused() {
        refusedPodConfig(c -> c.setHostname("h".repeat(65)), "hostname is 65 characters long; the limit is 64");
        refusedPodConfig(c -> c.setHostname("a\tb"), "hostname \"a\\u0009b\" must not contain control characters");
        refusedPodConfig(c -> c.setHostname("a b"), "hostname \"a b\" must not contain spaces");
    }

    @Test
    void dnsSettingsAreAddressesAndSingleWordsThatCannotAddALineToResolvConf() {
        refusedPodConfig(c -> c.setDnsConfig(DNSConfig.newBuilder().addServers("10.0.0.10")
                .addServers("1.1.1.1\nnameserver 6.6.6.6")),
                "dns_config.servers[1] \"1.1.1.1\\u000anameserver 6.6.6.6\" is not an IP address");
        refusedPodConfig(c -> c.setDnsConfig(DNSConfig.newBuilder().addServers("dns.example")),
                "dns_config.servers[0] \"dns.example\" is not an IP address");
        refusedPodConfig(c -> c.setDnsConfig(DNSConfig.newBuilder().addSearches("ns.svc.cluster.local")
                .addSearches("ok.example\nnameserver 6.6.6.6")),
                "dns_config.searches[1] \"ok.example\\u000anameserver 6.6.6.6\" must not contain control characters");
        refusedPodConfig(c -> c.setDnsConfig(DNSConfig.newBuilder().addSearches("a b")),
                "dns_config.searches[0] \"a b\" must be one word, without spaces");
        refusedPodConfig(c -> c.setDnsConfig(DNSConfig.newBuilder().addSearches("")), "dns_config.searches[0] is empty");
        refusedPodConfig(c -> c.setDnsConfig(DNSConfig.newBuilder().addSearches("d".repeat(254))),
                "dns_config.searches[0] is 254 characters long; the limit is 253");
        refusedPodConfig(c -> c.setDnsConfig(DNSConfig.newBuilder().addOptions("ndots:5 rotate")),
                "dns_config.options[0] \"ndots:5 rotate\" must be one word, without spaces");
        // What the kubelet sends is taken.
        String pod = h.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(CriTestHarness.pod("dns")
                .toBuilder().setDnsConfig(DNSConfig.newBuilder().addServers("10.96.0.10").addServers("fd00::a")
                        .addSearches("ns.svc.cluster.local").addSearches("svc.cluster.local").addOptions("ndots:5")
                        .addOptions("edns0"))).build()).getPodSandboxId();
        assertThat(pod).isNotEmpty();
    }

    @Test
    void aCgroupParentCannotClimbOutOfTheHierarchy() {
        refusedPodConfig(c -> c.setLinux(LinuxPodSandboxConfig.newBuilder().setCgroupParent("../../escape")),
                "linux.cgroup_parent \"../../escape\" must not have a \"..\" component");
        refusedPodConfig(c -> c.setLinux(LinuxPodSandboxConfig.newBuilder().setCgroupParent("/kubepods/../../b")),
                "must not have a \"..\" component");
        refusedPodConfig(c -> c.setLinux(LinuxPodSandboxConfig.newBuilder().setCgroupParent("/kubepods/./x")),
                "must not have a \".\" component");
    }

    @Test
    void enumValuesCriDoesNotDefineAreRefused() {
        refusedPodConfig(c -> c.addPortMappings(PortMapping.newBuilder().setProtocolValue(7).setContainerPort(80)
                .setHostPort(8080)), "port_mappings[0].protocol 7 is not a protocol: it must be 0 (TCP), 1 (UDP) or "
                + "2 (SCTP)");
        refusedPodConfig(c -> c.setLinux(LinuxPodSandboxConfig.newBuilder().setSecurityContext(
                LinuxSandboxSecurityContext.newBuilder().setNamespaceOptions(NamespaceOption.newBuilder()
                        .setNetworkValue(7)))),
                "linux.security_context.namespace_options.network 7 is not a namespace mode");
        String pod = runPod(md -> md.setName("p").setNamespace("ns"));
        ContainerConfig config = CriTestHarness.container("c").toBuilder().setLinux(LinuxContainerConfig.newBuilder()
                .setSecurityContext(LinuxContainerSecurityContext.newBuilder().setNamespaceOptions(
                        NamespaceOption.newBuilder().setPidValue(9)))).build();
        assertCode(() -> h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                .setConfig(config).build()), Status.Code.INVALID_ARGUMENT,
                "linux.security_context.namespace_options.pid 9 is not a namespace mode");
        assertThat(h.runtime.listContainers(ListContainersRequest.getDefaultInstance()).getContainersList()).isEmpty();
    }

    @Test
    void portMappingsAreInRangeWithLiteralHostAddresses() {
        refusedPodConfig(c -> c.addPortMappings(PortMapping.newBuilder().setContainerPort(80).setHostPort(70000)),
                "port_mappings[0].host_port 70000 is out of range: it must be 0 (none) to 65535");
        refusedPodConfig(c -> c.addPortMappings(PortMapping.newBuilder().setContainerPort(80).setHostPort(8080))
                .addPortMappings(PortMapping.newBuilder().setContainerPort(0).setHostPort(8081)),
                "port_mappings[1].container_port 0 is out of range: it must be 1 to 65535");
        refusedPodConfig(c -> c.addPortMappings(PortMapping.newBuilder().setContainerPort(80).setHostPort(-1)),
                "port_mappings[0].host_port -1 is out of range");
        refusedPodConfig(c -> c.addPortMappings(PortMapping.newBuilder().setContainerPort(80).setHostPort(80)
                .setHostIp("localhost")), "port_mappings[0].host_ip \"localhost\" is not an IP address");
        refusedPodConfig(c -> c.addPortMappings(PortMapping.newBuilder().setContainerPort(80).setHostPort(80)
                .setHostIp("10.0.0.256")), "port_mappings[0].host_ip \"10.0.0.256\" is not an IP address");
        for (String ip : new String[] {"", "127.0.0.1", "::1", "fd00::10"}) {
            PodSandboxConfig config = CriTestHarness.pod("ports").toBuilder().addPortMappings(PortMapping.newBuilder()
                    .setContainerPort(80).setHostPort(8080).setHostIp(ip)).addPortMappings(PortMapping.newBuilder()
                    .setContainerPort(53).setProtocol(Protocol.UDP)).build();
            String id = h.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(config).build())
                    .getPodSandboxId();
            h.runtime.stopPodSandbox(StopPodSandboxRequest.newBuilder().setPodSandboxId(id).build());
            h.runtime.removePodSandbox(RemovePodSandboxRequest.newBuilder().setPodSandboxId(id).build());
        }
    }

    @Test
    void userAndGroupIdsAreThoseAProcessCanRunAs() {
        refusedPodConfig(c -> c.setLinux(LinuxPodSandboxConfig.newBuilder().setSecurityContext(
                LinuxSandboxSecurityContext.newBuilder().setRunAsUser(Int64Value.newBuilder().setValue(-3)))),
                "linux.security_context.run_as_user -3 is out of range: user and group ids are 0 to 2147483647");
        refusedPodConfig(c -> c.setLinux(LinuxPodSandboxConfig.newBuilder().setSecurityContext(
                LinuxSandboxSecurityContext.newBuilder().addSupplementalGroups(5).addSupplementalGroups(4294967296L))),
                "linux.security_context.supplemental_groups[1] 4294967296 is out of range");
        String pod = runPod(md -> md.setName("p").setNamespace("ns"));
        for (var sc : java.util.List.of(
                LinuxContainerSecurityContext.newBuilder().setRunAsUser(Int64Value.newBuilder().setValue(2147483648L)),
                LinuxContainerSecurityContext.newBuilder().setRunAsUser(Int64Value.newBuilder().setValue(5))
                        .setRunAsGroup(Int64Value.newBuilder().setValue(-5)),
                LinuxContainerSecurityContext.newBuilder().addSupplementalGroups(-1))) {
            ContainerConfig config = CriTestHarness.container("c").toBuilder()
                    .setLinux(LinuxContainerConfig.newBuilder().setSecurityContext(sc)).build();
            assertCode(() -> h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                    .setConfig(config).build()), Status.Code.INVALID_ARGUMENT, "is out of range: user and group "
                    + "ids are 0 to 2147483647");
        }
        assertThat(h.runtime.listContainers(ListContainersRequest.getDefaultInstance()).getContainersList()).isEmpty();
        // The largest id is one.
        ContainerConfig largest = CriTestHarness.container("c").toBuilder().setLinux(LinuxContainerConfig.newBuilder()
                .setSecurityContext(LinuxContainerSecurityContext.newBuilder()
                        .setRunAsUser(Int64Value.newBuilder().setValue(2147483647L))
                        .setRunAsGroup(Int64Value.newBuilder().setValue(0)).addSupplementalGroups(2147483647L))).build();
        assertThat(h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                .setConfig(largest).build()).getContainerId()).isNotEmpty();
    }

    @Test
    void aPrivilegedContainerNeedsAPodCreatedPrivileged() {
        String pod = runPod(md -> md.setName("p").setNamespace("ns"));
        ContainerConfig privileged = CriTestHarness.container("c").toBuilder().setLinux(LinuxContainerConfig
                .newBuilder().setSecurityContext(LinuxContainerSecurityContext.newBuilder().setPrivileged(true)))
                .build();
        assertCode(() -> h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                .setConfig(privileged).build()), Status.Code.FAILED_PRECONDITION, "container \"c\" is privileged, "
                + "but pod sandbox \"" + pod + "\" was not created privileged");
        assertThat(h.runtime.listContainers(ListContainersRequest.getDefaultInstance()).getContainersList()).isEmpty();
        // Nothing was reserved: the name is free for the container without the privilege.
        h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                .setConfig(CriTestHarness.container("c")).build());

        PodSandboxConfig privilegedPod = CriTestHarness.pod("pp").toBuilder().setLinux(LinuxPodSandboxConfig
                .newBuilder().setSecurityContext(LinuxSandboxSecurityContext.newBuilder().setPrivileged(true)))
                .build();
        String pp = h.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(privilegedPod).build())
                .getPodSandboxId();
        assertThat(h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pp)
                .setConfig(privileged).build()).getContainerId()).isNotEmpty();
    }

    @Test
    void aDevicesPermissionsAreTheCgroupAccessLetters() {
        String pod = runPod(md -> md.setName("p").setNamespace("ns"));
        for (String bad : new String[] {"RW", "rwx", "rw;a", "r w"}) {
            ContainerConfig config = CriTestHarness.container("c").toBuilder().addDevices(dev.berth.cri.v1.Device
                    .newBuilder().setHostPath("/dev/null").setContainerPath("/dev/x").setPermissions(bad)).build();
            assertCode(() -> h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                    .setConfig(config).build()), Status.Code.INVALID_ARGUMENT, "container devices[0] (/dev/null): "
                    + "permissions \"" + bad + "\" are not a combination of r (read), w (write) and m (mknod)");
        }
        assertThat(h.runtime.listContainers(ListContainersRequest.getDefaultInstance()).getContainersList()).isEmpty();
        for (String good : new String[] {"", "r", "mrw", "rwm"}) {
            ContainerConfig config = CriTestHarness.container("c" + good).toBuilder().addDevices(dev.berth.cri.v1
                    .Device.newBuilder().setHostPath("/dev/null").setContainerPath("/dev/x").setPermissions(good))
                    .build();
            assertThat(h.runtime.createContainer(CreateContainerRequest.newBuilder().setPodSandboxId(pod)
                    .setConfig(config).build()).getContainerId()).isNotEmpty();
        }
    }

    private void refusedPod(UnaryOperator<PodSandboxMetadata.Builder> md, String message) {
        assertCode(() -> runPod(md), Status.Code.INVALID_ARGUMENT, message);
        assertThat(h.runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()).isEmpty();
    }

    private void refusedPodConfig(UnaryOperator<PodSandboxConfig.Builder> change, String message) {
        PodSandboxConfig config = change.apply(CriTestHarness.pod("p").toBuilder()).build();
        assertCode(() -> h.runtime.runPodSandbox(RunPodSandboxRequest.newBuilder().setConfig(config).build()),
                Status.Code.INVALID_ARGUMENT, message);
        assertThat(h.runtime.listPodSandbox(ListPodSandboxRequest.getDefaultInstance()).getItemsList()).isEmpty();
    }
}
