package dev.berth.core.cri.legacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import dev.berth.cri.proto2.LinuxContainerConfig;
import dev.berth.cri.proto2.LinuxContainerSecurityContext;
import dev.berth.cri.proto2.LinuxPodSandboxConfig;
import dev.berth.cri.proto2.LinuxSandboxSecurityContext;
import dev.berth.cri.proto2.PodSandboxConfig;
import dev.berth.cri.proto2.PodSandboxMetadata;
import dev.berth.cri.proto2.PortMapping;
import dev.berth.cri.proto2.Protocol;
import dev.berth.cri.v1.NamespaceMode;
import dev.berth.spi.BackendException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The mapping of the proto2 CRI and the draft's CreatePodSandbox onto runtime.v1: the contracts' descriptors agree
 * on every field that goes as bytes, and each field that differs is mapped as {@link Proto2Cri} says.
 */
class Proto2CriTest {
    /** The fields that differ from runtime.v1 in number, wire type or meaning, all mapped by hand in Proto2Cri. */
    private static final Set<String> REQUEST_FIELDS_MAPPED = Set.of(
            "runtime.NamespaceOption.host_network", "runtime.NamespaceOption.host_pid",
            "runtime.NamespaceOption.host_ipc",
            "runtime.LinuxSandboxSecurityContext.run_as_user", "runtime.LinuxContainerSecurityContext.run_as_user",
            "runtime.PodSandboxFilter.state", "runtime.ContainerFilter.state",
            // the draft's CreatePodSandbox
            "runtime.PortMapping.name", "runtime.PortMapping.protocol", "runtime.PortMapping.container_port",
            "runtime.PortMapping.host_port", "runtime.PortMapping.host_ip",
            "runtime.LinuxPodSandboxConfig.namespace_options");
    private static final Set<String> RESPONSE_FIELDS_MAPPED = Set.of(
            "runtime.v1.NamespaceOption.network", "runtime.v1.NamespaceOption.pid", "runtime.v1.NamespaceOption.ipc",
            "runtime.v1.Image.uid");
    /** Messages of another name with the same fields: the draft's DNSOption is runtime.v1's DNSConfig. */
    private static final Set<String> SAME_SHAPE = Set.of("runtime.PodSandboxConfig.dns_options");

    @Test
    void everyFieldThatGoesAsBytesHasTheSameNumberAndTypeAsInRuntimeV1() {
        Set<String> requests = new TreeSet<>();
        Set<String> responses = new TreeSet<>();
        for (LegacyMethod m : all()) {
            MethodDescriptor legacy = descriptor(m.method());
            MethodDescriptor v1 = v1Method(legacy.getService().getName(), m.v1Method());
            differences(legacy.getInputType(), v1.getInputType(), true, requests);
            differences(v1.getOutputType(), legacy.getOutputType(), false, responses);
        }
        assertThat(requests).isEqualTo(new TreeSet<>(REQUEST_FIELDS_MAPPED));
        assertThat(responses).isEqualTo(new TreeSet<>(RESPONSE_FIELDS_MAPPED));
    }

    @Test
    void everyMethodOfTheProto2CriIsServedAndTheDraftAddsCreatePodSandbox() {
        List<String> served = all().stream().map(m -> m.method().getFullMethodName()).toList();
        List<String> contract = new ArrayList<>();
        for (var sd : List.of(dev.berth.cri.proto2.RuntimeServiceGrpc.getServiceDescriptor(),
                dev.berth.cri.proto2.ImageServiceGrpc.getServiceDescriptor())) {
            sd.getMethods().forEach(md -> contract.add(md.getFullMethodName()));
        }
        contract.add("runtime.RuntimeService/CreatePodSandbox");
        assertThat(served).containsExactlyInAnyOrderElementsOf(contract);
    }

    /**
     * The draft's methods that share a name with the proto2 CRI: docs/api-versions.md says which have the same
     * shape (served to draft clients as they are) and which differ (the proto2 CRI's shape is served).
     */
    @Test
    void theDraftsSharedMethodsAreTheSameShapeExceptTheSupersededOnes() {
        Set<String> differ = new TreeSet<>();
        for (var svc : List.of("RuntimeService", "ImageService")) {
            ServiceDescriptor draft = dev.berth.cri.draft.Api.getDescriptor().findServiceByName(svc);
            ServiceDescriptor proto2 = dev.berth.cri.proto2.Api.getDescriptor().findServiceByName(svc);
            for (MethodDescriptor d : draft.getMethods()) {
                MethodDescriptor p = proto2.findMethodByName(d.getName());
                if (p == null) {
                    continue;
                }
                Set<String> found = new TreeSet<>();
                differences(d.getInputType(), p.getInputType(), true, found);
                differences(p.getOutputType(), d.getOutputType(), false, found);
                if (!found.isEmpty() || d.isClientStreaming() || d.isServerStreaming()) {
                    differ.add(d.getName());
                }
            }
        }
        assertThat(differ).containsExactlyInAnyOrder("ListPodSandbox", "CreateContainer", "ListContainers",
                "ContainerStatus", "Exec", "PullImage");
    }

    @Test
    void namespaceOptionsAndRunAsUserOfAPod() {
        var req = dev.berth.cri.proto2.RunPodSandboxRequest.newBuilder().setConfig(PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName("p").setNamespace("ns").setUid("u").setAttempt(2))
                .setHostname("h").putLabels("a", "b").putAnnotations("c", "d").setLogDirectory("/var/log/pods/u")
                .addPortMappings(PortMapping.newBuilder().setProtocol(Protocol.UDP).setContainerPort(53)
                        .setHostPort(5353).setHostIp("127.0.0.1"))
                .setLinux(LinuxPodSandboxConfig.newBuilder().setCgroupParent("/kubepods")
                        .setSecurityContext(LinuxSandboxSecurityContext.newBuilder().setRunAsUser(0)
                                .setPrivileged(true).addSupplementalGroups(7).setNamespaceOptions(
                                        dev.berth.cri.proto2.NamespaceOption.newBuilder().setHostNetwork(true)))))
                .build();
        var v = (dev.berth.cri.v1.RunPodSandboxRequest) method("RunPodSandbox").toV1().apply(req);
        var c = v.getConfig();
        assertThat(c.getMetadata().getName()).isEqualTo("p");
        assertThat(c.getMetadata().getAttempt()).isEqualTo(2);
        assertThat(c.getHostname()).isEqualTo("h");
        assertThat(c.getLabelsMap()).containsEntry("a", "b");
        assertThat(c.getAnnotationsMap()).containsEntry("c", "d");
        assertThat(c.getLogDirectory()).isEqualTo("/var/log/pods/u");
        assertThat(c.getPortMappings(0).getProtocol()).isEqualTo(dev.berth.cri.v1.Protocol.UDP);
        assertThat(c.getPortMappings(0).getHostPort()).isEqualTo(5353);
        assertThat(c.getPortMappings(0).getHostIp()).isEqualTo("127.0.0.1");
        assertThat(c.getLinux().getCgroupParent()).isEqualTo("/kubepods");
        var sc = c.getLinux().getSecurityContext();
        assertThat(sc.getPrivileged()).isTrue();
        assertThat(sc.getSupplementalGroupsList()).containsExactly(7L);
        assertThat(sc.hasRunAsUser()).as("run_as_user 0, set").isTrue();
        assertThat(sc.getRunAsUser().getValue()).isZero();
        assertThat(sc.getNamespaceOptions().getNetwork()).isEqualTo(NamespaceMode.NODE);
        assertThat(sc.getNamespaceOptions().getPid()).isEqualTo(NamespaceMode.CONTAINER);
        assertThat(sc.getNamespaceOptions().getIpc()).isEqualTo(NamespaceMode.POD);

        // No Linux config at all: the pod's own namespaces, each container its own PID namespace, no user.
        var bare = (dev.berth.cri.v1.RunPodSandboxRequest) method("RunPodSandbox").toV1().apply(
                dev.berth.cri.proto2.RunPodSandboxRequest.newBuilder().setConfig(PodSandboxConfig.newBuilder()
                        .setMetadata(PodSandboxMetadata.newBuilder().setName("q"))).build());
        var bsc = bare.getConfig().getLinux().getSecurityContext();
        assertThat(bsc.hasRunAsUser()).isFalse();
        assertThat(bsc.getNamespaceOptions()).isEqualTo(Proto2Cri.namespaces(false, false, false));
        assertThat(bsc.getNamespaceOptions().getPid()).isEqualTo(NamespaceMode.CONTAINER);
    }

    @Test
    void aContainersSecurityContextAndItsPodsConfig() {
        var req = dev.berth.cri.proto2.CreateContainerRequest.newBuilder().setPodSandboxId("pod1")
                .setConfig(dev.berth.cri.proto2.ContainerConfig.newBuilder()
                        .setMetadata(dev.berth.cri.proto2.ContainerMetadata.newBuilder().setName("c").setAttempt(1))
                        .setImage(dev.berth.cri.proto2.ImageSpec.newBuilder().setImage("busybox"))
                        .addCommand("sh").addArgs("-c").addArgs("true").setWorkingDir("/w")
                        .addEnvs(dev.berth.cri.proto2.KeyValue.newBuilder().setKey("K").setValue("V"))
                        .addMounts(dev.berth.cri.proto2.Mount.newBuilder().setContainerPath("/m").setHostPath("/h")
                                .setReadonly(true))
                        .setLogPath("c.log").setStdin(true).setTty(true)
                        .setLinux(LinuxContainerConfig.newBuilder()
                                .setResources(dev.berth.cri.proto2.LinuxContainerResources.newBuilder()
                                        .setMemoryLimitInBytes(1 << 20).setCpuShares(512))
                                .setSecurityContext(LinuxContainerSecurityContext.newBuilder().setRunAsUser(1000)
                                        .setReadonlyRootfs(true).setNamespaceOptions(dev.berth.cri.proto2
                                                .NamespaceOption.newBuilder().setHostPid(true).setHostIpc(true)))))
                .setSandboxConfig(PodSandboxConfig.newBuilder().setLinux(LinuxPodSandboxConfig.newBuilder()
                        .setSecurityContext(LinuxSandboxSecurityContext.newBuilder().setRunAsUser(5))))
                .build();
        var v = (dev.berth.cri.v1.CreateContainerRequest) method("CreateContainer").toV1().apply(req);
        assertThat(v.getPodSandboxId()).isEqualTo("pod1");
        var c = v.getConfig();
        assertThat(c.getMetadata().getName()).isEqualTo("c");
        assertThat(c.getImage().getImage()).isEqualTo("busybox");
        assertThat(c.getCommandList()).containsExactly("sh");
        assertThat(c.getArgsList()).containsExactly("-c", "true");
        assertThat(c.getWorkingDir()).isEqualTo("/w");
        assertThat(c.getEnvs(0).getValue().toStringUtf8()).isEqualTo("V");
        assertThat(c.getMounts(0).getReadonly()).isTrue();
        assertThat(c.getLogPath()).isEqualTo("c.log");
        assertThat(c.getStdin()).isTrue();
        assertThat(c.getTty()).isTrue();
        assertThat(c.getLinux().getResources().getMemoryLimitInBytes()).isEqualTo(1 << 20);
        assertThat(c.getLinux().getResources().getCpuShares()).isEqualTo(512);
        var sc = c.getLinux().getSecurityContext();
        assertThat(sc.getRunAsUser().getValue()).isEqualTo(1000);
        assertThat(sc.getReadonlyRootfs()).isTrue();
        assertThat(sc.getNamespaceOptions()).isEqualTo(Proto2Cri.namespaces(false, true, true));
        assertThat(v.getSandboxConfig().getLinux().getSecurityContext().getRunAsUser().getValue()).isEqualTo(5);
    }

    @Test
    void filterStatesExecStreamsImageUidAndVersion() {
        var lp = (dev.berth.cri.v1.ListPodSandboxRequest) method("ListPodSandbox").toV1().apply(
                dev.berth.cri.proto2.ListPodSandboxRequest.newBuilder().setFilter(dev.berth.cri.proto2.PodSandboxFilter
                        .newBuilder().setId("x").setState(dev.berth.cri.proto2.PodSandboxState.SANDBOX_NOTREADY)
                        .putLabelSelector("a", "b")).build());
        assertThat(lp.getFilter().getId()).isEqualTo("x");
        assertThat(lp.getFilter().getState().getState()).isEqualTo(dev.berth.cri.v1.PodSandboxState.SANDBOX_NOTREADY);
        assertThat(lp.getFilter().getLabelSelectorMap()).containsEntry("a", "b");
        var noState = (dev.berth.cri.v1.ListPodSandboxRequest) method("ListPodSandbox").toV1().apply(
                dev.berth.cri.proto2.ListPodSandboxRequest.newBuilder().setFilter(dev.berth.cri.proto2.PodSandboxFilter
                        .newBuilder().setId("x")).build());
        assertThat(noState.getFilter().hasState()).as("READY is 0: only a state that was sent filters").isFalse();

        var lc = (dev.berth.cri.v1.ListContainersRequest) method("ListContainers").toV1().apply(
                dev.berth.cri.proto2.ListContainersRequest.newBuilder().setFilter(dev.berth.cri.proto2.ContainerFilter
                        .newBuilder().setPodSandboxId("p").setState(dev.berth.cri.proto2.ContainerState
                                .CONTAINER_CREATED)).build());
        assertThat(lc.getFilter().getPodSandboxId()).isEqualTo("p");
        assertThat(lc.getFilter().hasState()).isTrue();
        assertThat(lc.getFilter().getState().getState()).isEqualTo(dev.berth.cri.v1.ContainerState.CONTAINER_CREATED);

        var exec = (dev.berth.cri.v1.ExecRequest) method("Exec").toV1().apply(dev.berth.cri.proto2.ExecRequest
                .newBuilder().setContainerId("c").addCmd("sh").setTty(true).setStdin(true).build());
        assertThat(List.of(exec.getStdin(), exec.getStdout(), exec.getStderr(), exec.getTty()))
                .containsExactly(true, true, false, true);
        var attach = (dev.berth.cri.v1.AttachRequest) method("Attach").toV1().apply(dev.berth.cri.proto2
                .AttachRequest.newBuilder().setContainerId("c").build());
        assertThat(List.of(attach.getStdin(), attach.getStdout(), attach.getStderr(), attach.getTty()))
                .containsExactly(false, true, true, false);

        var images = (dev.berth.cri.proto2.ListImagesResponse) imageMethod("ListImages").fromV1().apply(
                dev.berth.cri.v1.ListImagesResponse.newBuilder()
                        .addImages(dev.berth.cri.v1.Image.newBuilder().setId("sha256:a").addRepoTags("a:1").setSize(9)
                                .setUid(dev.berth.cri.v1.Int64Value.newBuilder().setValue(0)).setPinned(true))
                        .addImages(dev.berth.cri.v1.Image.newBuilder().setId("sha256:b").setUsername("nobody"))
                        .build());
        assertThat(images.getImages(0).getId()).isEqualTo("sha256:a");
        assertThat(images.getImages(0).getRepoTagsList()).containsExactly("a:1");
        assertThat(images.getImages(0).getSize()).isEqualTo(9);
        assertThat(images.getImages(0).hasUid()).isTrue();
        assertThat(images.getImages(0).getUid()).isZero();
        assertThat(images.getImages(0).getUnknownFields().asMap()).as("pinned is not in this contract").isEmpty();
        assertThat(images.getImages(1).hasUid()).isFalse();
        assertThat(images.getImages(1).getUsername()).isEqualTo("nobody");
        var status = (dev.berth.cri.proto2.ImageStatusResponse) imageMethod("ImageStatus").fromV1().apply(
                dev.berth.cri.v1.ImageStatusResponse.newBuilder().setImage(dev.berth.cri.v1.Image.newBuilder()
                        .setId("i").setUid(dev.berth.cri.v1.Int64Value.newBuilder().setValue(65534))).build());
        assertThat(status.getImage().getUid()).isEqualTo(65534);
        var missing = (dev.berth.cri.proto2.ImageStatusResponse) imageMethod("ImageStatus").fromV1().apply(
                dev.berth.cri.v1.ImageStatusResponse.getDefaultInstance());
        assertThat(missing.hasImage()).isFalse();

        var version = (dev.berth.cri.proto2.VersionResponse) method("Version").fromV1().apply(
                dev.berth.cri.v1.VersionResponse.newBuilder().setVersion("0.1.0").setRuntimeName("berth")
                        .setRuntimeVersion("1.2").setRuntimeApiVersion("v1").build());
        assertThat(version.getRuntimeApiVersion()).isEqualTo("0.1.0");
        assertThat(version.getRuntimeName()).isEqualTo("berth");
        assertThat(version.getVersion()).isEqualTo("0.1.0");
    }

    @Test
    void aPodsNamespaceModesGoBackAsBools() {
        var v1 = dev.berth.cri.v1.PodSandboxStatusResponse.newBuilder().setStatus(dev.berth.cri.v1.PodSandboxStatus
                .newBuilder().setId("p").setState(dev.berth.cri.v1.PodSandboxState.SANDBOX_NOTREADY).setCreatedAt(5)
                .setNetwork(dev.berth.cri.v1.PodSandboxNetworkStatus.newBuilder().setIp("10.0.0.2"))
                .setLinux(dev.berth.cri.v1.LinuxPodSandboxStatus.newBuilder().setNamespaces(dev.berth.cri.v1.Namespace
                        .newBuilder().setOptions(dev.berth.cri.v1.NamespaceOption.newBuilder()
                                .setNetwork(NamespaceMode.NODE).setPid(NamespaceMode.CONTAINER)
                                .setIpc(NamespaceMode.POD))))
                .setRuntimeHandler("runc")).putInfo("k", "v").build();
        var p = (dev.berth.cri.proto2.PodSandboxStatusResponse) method("PodSandboxStatus").fromV1().apply(v1);
        assertThat(p.getStatus().getId()).isEqualTo("p");
        assertThat(p.getStatus().getState()).isEqualTo(dev.berth.cri.proto2.PodSandboxState.SANDBOX_NOTREADY);
        assertThat(p.getStatus().getCreatedAt()).isEqualTo(5);
        assertThat(p.getStatus().getNetwork().getIp()).isEqualTo("10.0.0.2");
        var o = p.getStatus().getLinux().getNamespaces().getOptions();
        assertThat(List.of(o.getHostNetwork(), o.getHostPid(), o.getHostIpc())).containsExactly(true, false, false);
        assertThat(p.getUnknownFields().asMap()).isEmpty();
        assertThat(p.getStatus().getUnknownFields().asMap()).as("runtime_handler is not in this contract").isEmpty();
    }

    @Test
    void theDraftsCreatePodSandboxIsRunPodSandbox() {
        var req = dev.berth.cri.draft.CreatePodSandboxRequest.newBuilder().setConfig(dev.berth.cri.draft
                .PodSandboxConfig.newBuilder()
                .setMetadata(dev.berth.cri.draft.PodSandboxMetadata.newBuilder().setName("d").setNamespace("ns"))
                .setHostname("d").putLabels("l", "1").setLogDirectory("/logs")
                .setDnsOptions(dev.berth.cri.draft.DNSOption.newBuilder().addServers("10.0.0.10").addSearches("svc"))
                .addPortMappings(dev.berth.cri.draft.PortMapping.newBuilder().setName("http")
                        .setProtocol(dev.berth.cri.draft.Protocol.UDP).setContainerPort(80).setHostPort(8080)
                        .setHostIp("0.0.0.0"))
                .setLinux(dev.berth.cri.draft.LinuxPodSandboxConfig.newBuilder().setCgroupParent("/k")
                        .setNamespaceOptions(dev.berth.cri.draft.NamespaceOption.newBuilder().setHostNetwork(true)
                                .setHostIpc(true))))
                .build();
        LegacyMethod create = method("CreatePodSandbox");
        assertThat(create.v1Method()).isEqualTo("RunPodSandbox");
        var c = ((dev.berth.cri.v1.RunPodSandboxRequest) create.toV1().apply(req)).getConfig();
        assertThat(c.getMetadata().getName()).isEqualTo("d");
        assertThat(c.getHostname()).isEqualTo("d");
        assertThat(c.getLabelsMap()).containsEntry("l", "1");
        assertThat(c.getDnsConfig().getServersList()).containsExactly("10.0.0.10");
        assertThat(c.getDnsConfig().getSearchesList()).containsExactly("svc");
        assertThat(c.getPortMappingsList()).containsExactly(dev.berth.cri.v1.PortMapping.newBuilder()
                .setProtocol(dev.berth.cri.v1.Protocol.UDP).setContainerPort(80).setHostPort(8080)
                .setHostIp("0.0.0.0").build());
        assertThat(c.getLinux().getCgroupParent()).isEqualTo("/k");
        assertThat(c.getLinux().getSecurityContext().getNamespaceOptions())
                .isEqualTo(Proto2Cri.namespaces(true, false, true));
        var resp = (dev.berth.cri.draft.CreatePodSandboxResponse) create.fromV1().apply(
                dev.berth.cri.v1.RunPodSandboxResponse.newBuilder().setPodSandboxId("abc").build());
        assertThat(resp.getPodSandboxId()).isEqualTo("abc");
    }

    @Test
    void aValueADefinedFieldCannotTakeIsRefusedByName() throws Exception {
        // A draft client's filter by id: the draft numbers it 2, where the proto2 CRI has the state enum.
        byte[] draftFilter = dev.berth.cri.draft.ListPodSandboxRequest.newBuilder().setFilter(dev.berth.cri.draft
                .PodSandboxFilter.newBuilder().setId("abc")).build().toByteArray();
        var asProto2 = dev.berth.cri.proto2.ListPodSandboxRequest.parseFrom(draftFilter);
        assertThatThrownBy(() -> method("ListPodSandbox").toV1().apply(asProto2))
                .isInstanceOfSatisfying(BackendException.class, e -> {
                    assertThat(e.kind()).isEqualTo(BackendException.Kind.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).isEqualTo("filter.state: a value the field cannot take (not a "
                            + "PodSandboxState)");
                });
        // An enum value the closed proto2 enum does not have.
        byte[] badProtocol = dev.berth.cri.v1.RunPodSandboxRequest.newBuilder().setConfig(dev.berth.cri.v1
                .PodSandboxConfig.newBuilder().addPortMappings(dev.berth.cri.v1.PortMapping.newBuilder()
                        .setProtocolValue(7))).build().toByteArray();
        var run = dev.berth.cri.proto2.RunPodSandboxRequest.parseFrom(badProtocol);
        assertThatThrownBy(() -> method("RunPodSandbox").toV1().apply(run))
                .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.getMessage())
                        .isEqualTo("config.port_mappings[0].protocol: a value the field cannot take (not a Protocol)"));
        // A field the contract does not define is dropped, as runtime.v1 ignores unknown fields: runtime.v1's
        // runtime_handler (2) does not reach the v1 RunPodSandbox.
        var withHandler = dev.berth.cri.proto2.RunPodSandboxRequest.parseFrom(dev.berth.cri.v1.RunPodSandboxRequest
                .newBuilder().setRuntimeHandler("kata").build().toByteArray());
        var v = (dev.berth.cri.v1.RunPodSandboxRequest) method("RunPodSandbox").toV1().apply(withHandler);
        assertThat(v.getRuntimeHandler()).isEmpty();
    }

    // ---- helpers ----

    private static List<LegacyMethod> all() {
        return Proto2Cri.services().values().stream().flatMap(List::stream).toList();
    }

    private static LegacyMethod method(String bare) {
        return Proto2Cri.services().get(Proto2Cri.RUNTIME_SERVICE).stream()
                .filter(m -> m.method().getBareMethodName().equals(bare)).findFirst().orElseThrow();
    }

    private static LegacyMethod imageMethod(String bare) {
        return Proto2Cri.services().get(Proto2Cri.IMAGE_SERVICE).stream()
                .filter(m -> m.method().getBareMethodName().equals(bare)).findFirst().orElseThrow();
    }

    private static MethodDescriptor descriptor(io.grpc.MethodDescriptor<?, ?> m) {
        var file = m.getFullMethodName().contains("CreatePodSandbox") ? dev.berth.cri.draft.Api.getDescriptor()
                : dev.berth.cri.proto2.Api.getDescriptor();
        String service = m.getServiceName().substring("runtime.".length());
        return file.findServiceByName(service).findMethodByName(m.getBareMethodName());
    }

    private static MethodDescriptor v1Method(String service, String name) {
        return dev.berth.cri.v1.Api.getDescriptor().findServiceByName(service).findMethodByName(name);
    }

    /**
     * Adds to {@code out} the fields of {@code from} (named by message and field) that the parser of {@code to}
     * would not read as they were meant: another name or type (strings and bytes are one), an enum value the target lacks,
     * a message of another name (unless listed as the same shape); with {@code missing}, also a field the target does not have.
     */
    private static void differences(Descriptor from, Descriptor to, boolean missing, Set<String> out) {
        differences(from, to, missing, out, new java.util.HashSet<>());
    }

    private static void differences(Descriptor from, Descriptor to, boolean missing, Set<String> out,
                                    Set<String> seen) {
        if (!seen.add(from.getFullName() + ">" + to.getFullName())) {
            return;
        }
        for (FieldDescriptor f : from.getFields()) {
            String key = from.getFullName() + "." + f.getName();
            FieldDescriptor g = to.findFieldByNumber(f.getNumber());
            if (g == null) {
                if (missing) {
                    out.add(key);
                }
                continue;
            }
            if (type(f) != type(g) || f.isRepeated() != g.isRepeated() || f.isMapField() != g.isMapField()
                    || !f.getName().equals(g.getName()) && !SAME_SHAPE.contains(key)) {
                out.add(key);
            } else if (f.getType() == FieldDescriptor.Type.ENUM) {
                for (EnumValueDescriptor v : f.getEnumType().getValues()) {
                    EnumValueDescriptor w = g.getEnumType().findValueByNumber(v.getNumber());
                    if (w == null) {
                        out.add(key);
                    }
                }
            } else if (f.getType() == FieldDescriptor.Type.MESSAGE && !f.isMapField()) {
                if (!f.getMessageType().getName().equals(g.getMessageType().getName()) && !SAME_SHAPE.contains(key)) {
                    out.add(key);
                } else {
                    differences(f.getMessageType(), g.getMessageType(), missing, out, seen);
                }
            }
        }
    }

    private static FieldDescriptor.Type type(FieldDescriptor f) {
        return f.getType() == FieldDescriptor.Type.BYTES ? FieldDescriptor.Type.STRING : f.getType();
    }
}
