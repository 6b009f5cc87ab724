package dev.berth.core.cri.legacy;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.berth.cri.proto2.ImageServiceGrpc;
import dev.berth.cri.proto2.RuntimeServiceGrpc;
import dev.berth.cri.v1.NamespaceMode;
import io.grpc.MethodDescriptor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The proto2 CRI ({@code package runtime}, the contract of kubelet 1.5) and the first CRI draft's CreatePodSandbox,
 * served by the runtime.v1 RPC classes on the CRI socket: the one place where their messages are mapped to and
 * from runtime.v1 (docs/api-versions.md).
 *
 * <p>Most fields have the same number and wire type in both contracts, so a request goes to runtime.v1 as bytes:
 * first reduced to the fields the older contract defines ({@link KnownFields}), then with the fields that differ
 * cleared, parsed as the runtime.v1 message, and the differing fields set from the older request. A response goes
 * back the same way. The fields that differ, all mapped here:
 * <ul>
 *   <li>{@code NamespaceOption}: {@code host_network}, {@code host_pid}, {@code host_ipc} (bools) are runtime.v1's
 *       {@code network}, {@code pid}, {@code ipc} modes: NODE when set, else POD for network and IPC and CONTAINER
 *       for PID (this contract had no pod-wide PID namespace). An absent option is the same as all false.</li>
 *   <li>{@code run_as_user} (an optional int64, pod and container) is runtime.v1's {@code Int64Value}.</li>
 *   <li>The filters' {@code state} (an optional enum) is runtime.v1's {@code PodSandboxStateValue} and
 *       {@code ContainerStateValue}.</li>
 *   <li>Exec and Attach have no {@code stdout}/{@code stderr} flags: the kubelets of this contract always streamed
 *       stdout, and stderr unless a TTY joins the two.</li>
 *   <li>{@code Image.uid} (an optional int64) is runtime.v1's {@code Int64Value}.</li>
 *   <li>Version answers runtime API version {@value #API_VERSION}, the version these kubelets ask for.</li>
 *   <li>The draft's CreatePodSandbox is RunPodSandbox; its {@code PortMapping} numbers its fields from a
 *       {@code name} (which runtime.v1 has no place for) and its {@code LinuxPodSandboxConfig} holds the
 *       {@code NamespaceOption} directly, at the number where runtime.v1 has the security context.</li>
 * </ul>
 * {@code Proto2CriTest} compares the contracts' descriptors and fails on any other field that differs.
 */
public final class Proto2Cri {
    /** The services' names on the wire: the same for the proto2 CRI and the draft, and no other served version. */
    public static final String RUNTIME_SERVICE = "runtime.RuntimeService";
    public static final String IMAGE_SERVICE = "runtime.ImageService";
    /** The runtime API version Version answers to these clients. */
    public static final String API_VERSION = "0.1.0";

    private Proto2Cri() {}

    /** Every method served under {@code runtime.*}, by service name. */
    public static Map<String, List<LegacyMethod>> services() {
        Map<String, List<LegacyMethod>> out = new LinkedHashMap<>();
        out.put(RUNTIME_SERVICE, runtimeService());
        out.put(IMAGE_SERVICE, imageService());
        return out;
    }

    static List<LegacyMethod> runtimeService() {
        List<LegacyMethod> out = new ArrayList<>();
        out.add(mapped(RuntimeServiceGrpc.getVersionMethod(), same(dev.berth.cri.v1.VersionRequest.getDefaultInstance()),
                r -> back(((dev.berth.cri.v1.VersionResponse) r).toBuilder().setRuntimeApiVersion(API_VERSION).build(),
                        dev.berth.cri.proto2.VersionResponse.getDefaultInstance())));
        out.add(mapped(RuntimeServiceGrpc.getRunPodSandboxMethod(), Proto2Cri::runPodSandbox,
                same(dev.berth.cri.proto2.RunPodSandboxResponse.getDefaultInstance())));
        out.add(bytes(RuntimeServiceGrpc.getStopPodSandboxMethod(), dev.berth.cri.v1.RuntimeServiceGrpc.getStopPodSandboxMethod()));
        out.add(bytes(RuntimeServiceGrpc.getRemovePodSandboxMethod(), dev.berth.cri.v1.RuntimeServiceGrpc.getRemovePodSandboxMethod()));
        out.add(mapped(RuntimeServiceGrpc.getPodSandboxStatusMethod(),
                same(dev.berth.cri.v1.PodSandboxStatusRequest.getDefaultInstance()), Proto2Cri::podSandboxStatus));
        out.add(mapped(RuntimeServiceGrpc.getListPodSandboxMethod(), Proto2Cri::listPodSandbox,
                same(dev.berth.cri.proto2.ListPodSandboxResponse.getDefaultInstance())));
        out.add(mapped(RuntimeServiceGrpc.getCreateContainerMethod(), Proto2Cri::createContainer,
                same(dev.berth.cri.proto2.CreateContainerResponse.getDefaultInstance())));
        out.add(bytes(RuntimeServiceGrpc.getStartContainerMethod(), dev.berth.cri.v1.RuntimeServiceGrpc.getStartContainerMethod()));
        out.add(bytes(RuntimeServiceGrpc.getStopContainerMethod(), dev.berth.cri.v1.RuntimeServiceGrpc.getStopContainerMethod()));
        out.add(bytes(RuntimeServiceGrpc.getRemoveContainerMethod(), dev.berth.cri.v1.RuntimeServiceGrpc.getRemoveContainerMethod()));
        out.add(mapped(RuntimeServiceGrpc.getListContainersMethod(), Proto2Cri::listContainers,
                same(dev.berth.cri.proto2.ListContainersResponse.getDefaultInstance())));
        out.add(bytes(RuntimeServiceGrpc.getContainerStatusMethod(), dev.berth.cri.v1.RuntimeServiceGrpc.getContainerStatusMethod()));
        out.add(bytes(RuntimeServiceGrpc.getExecSyncMethod(), dev.berth.cri.v1.RuntimeServiceGrpc.getExecSyncMethod()));
        out.add(mapped(RuntimeServiceGrpc.getExecMethod(), Proto2Cri::exec,
                same(dev.berth.cri.proto2.ExecResponse.getDefaultInstance())));
        out.add(mapped(RuntimeServiceGrpc.getAttachMethod(), Proto2Cri::attach,
                same(dev.berth.cri.proto2.AttachResponse.getDefaultInstance())));
        out.add(bytes(RuntimeServiceGrpc.getPortForwardMethod(), dev.berth.cri.v1.RuntimeServiceGrpc.getPortForwardMethod()));
        out.add(bytes(RuntimeServiceGrpc.getUpdateRuntimeConfigMethod(),
                dev.berth.cri.v1.RuntimeServiceGrpc.getUpdateRuntimeConfigMethod()));
        out.add(bytes(RuntimeServiceGrpc.getStatusMethod(), dev.berth.cri.v1.RuntimeServiceGrpc.getStatusMethod()));
        // The draft's name for RunPodSandbox; the draft's other methods share names with the ones above.
        out.add(new LegacyMethod(dev.berth.cri.draft.RuntimeServiceGrpc.getCreatePodSandboxMethod(), "RunPodSandbox",
                Proto2Cri::createPodSandbox, same(dev.berth.cri.draft.CreatePodSandboxResponse.getDefaultInstance())));
        return out;
    }

    static List<LegacyMethod> imageService() {
        return List.of(
                mapped(ImageServiceGrpc.getListImagesMethod(), same(dev.berth.cri.v1.ListImagesRequest.getDefaultInstance()),
                        r -> {
                            var b = dev.berth.cri.proto2.ListImagesResponse.newBuilder();
                            ((dev.berth.cri.v1.ListImagesResponse) r).getImagesList().forEach(i -> b.addImages(image(i)));
                            return b.build();
                        }),
                mapped(ImageServiceGrpc.getImageStatusMethod(), same(dev.berth.cri.v1.ImageStatusRequest.getDefaultInstance()),
                        r -> {
                            var v = (dev.berth.cri.v1.ImageStatusResponse) r;
                            var b = dev.berth.cri.proto2.ImageStatusResponse.newBuilder();
                            return v.hasImage() ? b.setImage(image(v.getImage())).build() : b.build();
                        }),
                mapped(ImageServiceGrpc.getPullImageMethod(), Proto2Cri::pullImage,
                        same(dev.berth.cri.proto2.PullImageResponse.getDefaultInstance())),
                bytes(ImageServiceGrpc.getRemoveImageMethod(), dev.berth.cri.v1.ImageServiceGrpc.getRemoveImageMethod()));
    }

    // ---- requests ----

    private static Message runPodSandbox(Message m) {
        var q = (dev.berth.cri.proto2.RunPodSandboxRequest) KnownFields.strict(m);
        var b = dev.berth.cri.v1.RunPodSandboxRequest.newBuilder();
        return q.hasConfig() ? b.setConfig(podConfig(q.getConfig())).build() : b.build();
    }

    private static Message createContainer(Message m) {
        var q = (dev.berth.cri.proto2.CreateContainerRequest) KnownFields.strict(m);
        var b = as(q.toBuilder().clearConfig().clearSandboxConfig().build(),
                dev.berth.cri.v1.CreateContainerRequest.getDefaultInstance()).toBuilder();
        if (q.hasConfig()) {
            b.setConfig(containerConfig(q.getConfig()));
        }
        if (q.hasSandboxConfig()) {
            b.setSandboxConfig(podConfig(q.getSandboxConfig()));
        }
        return b.build();
    }

    private static Message pullImage(Message m) {
        var q = (dev.berth.cri.proto2.PullImageRequest) KnownFields.strict(m);
        var b = as(q.toBuilder().clearSandboxConfig().build(), dev.berth.cri.v1.PullImageRequest.getDefaultInstance())
                .toBuilder();
        return q.hasSandboxConfig() ? b.setSandboxConfig(podConfig(q.getSandboxConfig())).build() : b.build();
    }

    private static Message listPodSandbox(Message m) {
        var q = (dev.berth.cri.proto2.ListPodSandboxRequest) KnownFields.strict(m);
        if (!q.hasFilter()) {
            return dev.berth.cri.v1.ListPodSandboxRequest.getDefaultInstance();
        }
        var f = as(q.getFilter().toBuilder().clearState().build(), dev.berth.cri.v1.PodSandboxFilter.getDefaultInstance())
                .toBuilder();
        if (q.getFilter().hasState()) {
            f.setState(dev.berth.cri.v1.PodSandboxStateValue.newBuilder()
                    .setStateValue(q.getFilter().getState().getNumber()));
        }
        return dev.berth.cri.v1.ListPodSandboxRequest.newBuilder().setFilter(f).build();
    }

    private static Message listContainers(Message m) {
        var q = (dev.berth.cri.proto2.ListContainersRequest) KnownFields.strict(m);
        if (!q.hasFilter()) {
            return dev.berth.cri.v1.ListContainersRequest.getDefaultInstance();
        }
        var f = as(q.getFilter().toBuilder().clearState().build(), dev.berth.cri.v1.ContainerFilter.getDefaultInstance())
                .toBuilder();
        if (q.getFilter().hasState()) {
            f.setState(dev.berth.cri.v1.ContainerStateValue.newBuilder()
                    .setStateValue(q.getFilter().getState().getNumber()));
        }
        return dev.berth.cri.v1.ListContainersRequest.newBuilder().setFilter(f).build();
    }

    private static Message exec(Message m) {
        var q = (dev.berth.cri.proto2.ExecRequest) KnownFields.strict(m);
        return as(q, dev.berth.cri.v1.ExecRequest.getDefaultInstance()).toBuilder()
                .setStdout(true).setStderr(!q.getTty()).build();
    }

    private static Message attach(Message m) {
        var q = (dev.berth.cri.proto2.AttachRequest) KnownFields.strict(m);
        return as(q, dev.berth.cri.v1.AttachRequest.getDefaultInstance()).toBuilder()
                .setStdout(true).setStderr(!q.getTty()).build();
    }

    private static Message createPodSandbox(Message m) {
        var q = (dev.berth.cri.draft.CreatePodSandboxRequest) KnownFields.strict(m);
        var b = dev.berth.cri.v1.RunPodSandboxRequest.newBuilder();
        if (!q.hasConfig()) {
            return b.build();
        }
        var c = q.getConfig();
        var rest = c.toBuilder().clearPortMappings();
        if (c.hasLinux()) {
            rest.getLinuxBuilder().clearNamespaceOptions();
        }
        var v = as(rest.build(), dev.berth.cri.v1.PodSandboxConfig.getDefaultInstance()).toBuilder();
        for (var p : c.getPortMappingsList()) {
            v.addPortMappings(dev.berth.cri.v1.PortMapping.newBuilder().setProtocolValue(p.getProtocol().getNumber())
                    .setContainerPort(p.getContainerPort()).setHostPort(p.getHostPort()).setHostIp(p.getHostIp()));
        }
        var n = c.getLinux().getNamespaceOptions();
        v.getLinuxBuilder().getSecurityContextBuilder()
                .setNamespaceOptions(namespaces(n.getHostNetwork(), n.getHostPid(), n.getHostIpc()));
        return b.setConfig(v).build();
    }

    /** A pod's config: everything but the security context's namespace options and user goes as bytes. */
    static dev.berth.cri.v1.PodSandboxConfig podConfig(dev.berth.cri.proto2.PodSandboxConfig c) {
        var sc = c.getLinux().getSecurityContext();
        var rest = c.toBuilder();
        if (c.getLinux().hasSecurityContext()) {
            rest.getLinuxBuilder().getSecurityContextBuilder().clearNamespaceOptions().clearRunAsUser();
        }
        var v = as(rest.build(), dev.berth.cri.v1.PodSandboxConfig.getDefaultInstance()).toBuilder();
        var vsc = v.getLinuxBuilder().getSecurityContextBuilder();
        var n = sc.getNamespaceOptions();
        vsc.setNamespaceOptions(namespaces(n.getHostNetwork(), n.getHostPid(), n.getHostIpc()));
        if (sc.hasRunAsUser()) {
            vsc.setRunAsUser(dev.berth.cri.v1.Int64Value.newBuilder().setValue(sc.getRunAsUser()));
        }
        return v.build();
    }

    /** A container's config: everything but the security context's namespace options and user goes as bytes. */
    static dev.berth.cri.v1.ContainerConfig containerConfig(dev.berth.cri.proto2.ContainerConfig c) {
        var sc = c.getLinux().getSecurityContext();
        var rest = c.toBuilder();
        if (c.getLinux().hasSecurityContext()) {
            rest.getLinuxBuilder().getSecurityContextBuilder().clearNamespaceOptions().clearRunAsUser();
        }
        var v = as(rest.build(), dev.berth.cri.v1.ContainerConfig.getDefaultInstance()).toBuilder();
        var vsc = v.getLinuxBuilder().getSecurityContextBuilder();
        var n = sc.getNamespaceOptions();
        vsc.setNamespaceOptions(namespaces(n.getHostNetwork(), n.getHostPid(), n.getHostIpc()));
        if (sc.hasRunAsUser()) {
            vsc.setRunAsUser(dev.berth.cri.v1.Int64Value.newBuilder().setValue(sc.getRunAsUser()));
        }
        return v.build();
    }

    static dev.berth.cri.v1.NamespaceOption namespaces(boolean hostNetwork, boolean hostPid, boolean hostIpc) {
        return dev.berth.cri.v1.NamespaceOption.newBuilder()
                .setNetwork(hostNetwork ? NamespaceMode.NODE : NamespaceMode.POD)
                .setPid(hostPid ? NamespaceMode.NODE : NamespaceMode.CONTAINER)
                .setIpc(hostIpc ? NamespaceMode.NODE : NamespaceMode.POD)
                .build();
    }

    // ---- responses ----

    private static Message podSandboxStatus(Message r) {
        var v = (dev.berth.cri.v1.PodSandboxStatusResponse) r;
        var ns = v.getStatus().getLinux().getNamespaces();
        var rest = v.toBuilder();
        if (ns.hasOptions()) {
            rest.getStatusBuilder().getLinuxBuilder().getNamespacesBuilder().clearOptions();
        }
        var p = (dev.berth.cri.proto2.PodSandboxStatusResponse) back(rest.build(),
                dev.berth.cri.proto2.PodSandboxStatusResponse.getDefaultInstance());
        if (!ns.hasOptions()) {
            return p;
        }
        var o = ns.getOptions();
        var b = p.toBuilder();
        b.getStatusBuilder().getLinuxBuilder().getNamespacesBuilder().setOptions(dev.berth.cri.proto2.NamespaceOption
                .newBuilder().setHostNetwork(o.getNetwork() == NamespaceMode.NODE)
                .setHostPid(o.getPid() == NamespaceMode.NODE).setHostIpc(o.getIpc() == NamespaceMode.NODE));
        return b.build();
    }

    static dev.berth.cri.proto2.Image image(dev.berth.cri.v1.Image i) {
        var p = (dev.berth.cri.proto2.Image) back(i.toBuilder().clearUid().build(),
                dev.berth.cri.proto2.Image.getDefaultInstance());
        return i.hasUid() ? p.toBuilder().setUid(i.getUid().getValue()).build() : p;
    }

    // ---- plumbing ----

    private static LegacyMethod mapped(MethodDescriptor<? extends Message, ? extends Message> m,
                                       Function<Message, Message> toV1, Function<Message, Message> fromV1) {
        return new LegacyMethod(m, m.getBareMethodName(), toV1, fromV1);
    }

    /** A method whose request and response have the same fields as runtime.v1's: bytes both ways. */
    private static LegacyMethod bytes(MethodDescriptor<? extends Message, ? extends Message> m,
                                      MethodDescriptor<? extends Message, ? extends Message> v1) {
        return mapped(m, same(prototype(v1.getRequestMarshaller())), same(prototype(m.getResponseMarshaller())));
    }

    /** Request (older to v1) or response (v1 to older) as bytes, without the fields the target does not define. */
    private static Function<Message, Message> same(Message target) {
        return target.getDescriptorForType().getFile().getPackage().equals("runtime.v1")
                ? q -> as(KnownFields.strict(q), target)
                : r -> back(r, target);
    }

    private static Message back(Message v1, Message target) {
        return KnownFields.lenient(as(v1, target));
    }

    @SuppressWarnings("unchecked")
    private static <T extends Message> T as(Message from, T target) {
        try {
            return (T) target.getParserForType().parseFrom(from.toByteString());
        } catch (InvalidProtocolBufferException e) {
            // The fields that go as bytes have the same numbers and wire types (Proto2CriTest): a bug if reached.
            throw new IllegalStateException("cannot map " + from.getDescriptorForType().getFullName() + " to "
                    + target.getDescriptorForType().getFullName() + ": " + e.getMessage(), e);
        }
    }

    private static Message prototype(MethodDescriptor.Marshaller<?> marshaller) {
        return (Message) ((MethodDescriptor.PrototypeMarshaller<?>) marshaller).getMessagePrototype();
    }
}
