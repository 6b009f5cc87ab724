package dev.berth.fuzz;

import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dev.berth.cri.v1.ContainerConfig;
import dev.berth.cri.v1.ContainerMetadata;
import dev.berth.cri.v1.CreateContainerRequest;
import dev.berth.cri.v1.ImageSpec;
import dev.berth.cri.v1.LinuxPodSandboxConfig;
import dev.berth.cri.v1.LinuxSandboxSecurityContext;
import dev.berth.cri.v1.NamespaceMode;
import dev.berth.cri.v1.NamespaceOption;
import dev.berth.cri.v1.PodSandboxConfig;
import dev.berth.cri.v1.PodSandboxMetadata;
import dev.berth.cri.v1.RunPodSandboxRequest;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Valid requests to start mutating from: hand-made ones for RunPodSandbox and CreateContainer (so that pods and
 * containers really get made), and for every other method the request message filled field by field.
 *
 * <p>Fields that would make a successful call touch the host beyond the pod (mounts, devices, a cgroup parent,
 * log paths outside the scratch directory) are left out of the seeds; mutations can still put anything there.
 */
final class Seeds {
    /** Left unset in seeds; see the class comment. */
    private static final Set<String> SKIPPED = Set.of("mounts", "devices", "cdi_devices", "cgroup_parent",
            "log_directory", "log_path", "sysctls", "auth", "apparmor_profile", "seccomp_profile_path");

    /** Always set, so that seeds aim at live objects. */
    private static final Set<String> IDS = Set.of("pod_sandbox_id", "container_id");

    private final Random random;
    private final Supplier<String> podId;
    private final Supplier<String> containerId;
    private final String image;
    private final String pullPrefix;
    private final String handler;
    private final String scratch;
    private int serial;

    Seeds(Random random, Supplier<String> podId, Supplier<String> containerId, String image, String pullPrefix,
          String handler, String scratch) {
        this.random = random;
        this.podId = podId;
        this.containerId = containerId;
        this.image = image;
        this.pullPrefix = pullPrefix;
        this.handler = handler;
        this.scratch = scratch;
    }

    /** A valid request of the type of {@code prototype}, for the method named {@code bareName}. */
    Message seed(String bareName, Message prototype) {
        // The proto2 CRI and the first draft (package runtime) have their own pod configs; a container's request
        // has the same field numbers as runtime.v1's.
        String pkg = prototype.getDescriptorForType().getFile().getPackage();
        if (pkg.equals("types")) {
            // The containerd 0.2 API: every request filled field by field (its ids are the CRI containers' here,
            // and its paths relative ones, so a valid seed never runs a bundle).
            return fill(prototype.newBuilderForType(), 0, bareName).build();
        }
        boolean proto2 = pkg.equals("runtime");
        return switch (bareName) {
            case "RunPodSandbox" -> proto2 ? proto2PodSandbox() : runPodSandbox();
            case "CreatePodSandbox" -> draftCreatePodSandbox();
            case "CreateContainer" -> proto2 ? reparse(createContainer(), prototype) : createContainer();
            case "PullImage" -> fill(prototype.newBuilderForType(), 0, "PullImage").build();
            default -> fill(prototype.newBuilderForType(), 0, bareName).build();
        };
    }

    RunPodSandboxRequest runPodSandbox() {
        int n = ++serial;
        // Mostly host network, so that most pods need no CNI; some on the pod network.
        NamespaceMode net = random.nextInt(4) == 0 ? NamespaceMode.POD : NamespaceMode.NODE;
        return RunPodSandboxRequest.newBuilder().setRuntimeHandler(handler).setConfig(PodSandboxConfig.newBuilder()
                .setMetadata(PodSandboxMetadata.newBuilder().setName("fuzz-" + n).setNamespace("fuzz")
                        .setUid("uid-" + Long.toHexString(random.nextLong())).setAttempt(random.nextInt(3)))
                .setHostname("fuzz-" + n)
                .setLogDirectory(scratch + "/pods/fuzz-" + n)
                .putLabels("app", "fuzz").putLabels("io.kubernetes.pod.name", "fuzz-" + n)
                .putAnnotations("fuzz.berth.dev/seed", Integer.toString(n))
                .setLinux(LinuxPodSandboxConfig.newBuilder().setSecurityContext(LinuxSandboxSecurityContext
                        .newBuilder().setNamespaceOptions(NamespaceOption.newBuilder().setNetwork(net)))))
                .build();
    }

    /** The proto2 CRI's RunPodSandbox: host network is a bool there. */
    dev.berth.cri.proto2.RunPodSandboxRequest proto2PodSandbox() {
        int n = ++serial;
        boolean hostNetwork = random.nextInt(4) != 0;
        return dev.berth.cri.proto2.RunPodSandboxRequest.newBuilder().setConfig(dev.berth.cri.proto2.PodSandboxConfig
                .newBuilder()
                .setMetadata(dev.berth.cri.proto2.PodSandboxMetadata.newBuilder().setName("fuzz-" + n)
                        .setNamespace("fuzz").setUid("uid-" + Long.toHexString(random.nextLong()))
                        .setAttempt(random.nextInt(3)))
                .setHostname("fuzz-" + n)
                .setLogDirectory(scratch + "/pods/fuzz-" + n)
                .putLabels("app", "fuzz").putAnnotations("fuzz.berth.dev/seed", Integer.toString(n))
                .setLinux(dev.berth.cri.proto2.LinuxPodSandboxConfig.newBuilder().setSecurityContext(
                        dev.berth.cri.proto2.LinuxSandboxSecurityContext.newBuilder().setNamespaceOptions(
                                dev.berth.cri.proto2.NamespaceOption.newBuilder().setHostNetwork(hostNetwork)))))
                .build();
    }

    /** The first draft's CreatePodSandbox: its Linux config holds the namespace options directly. */
    dev.berth.cri.draft.CreatePodSandboxRequest draftCreatePodSandbox() {
        int n = ++serial;
        boolean hostNetwork = random.nextInt(4) != 0;
        return dev.berth.cri.draft.CreatePodSandboxRequest.newBuilder().setConfig(dev.berth.cri.draft.PodSandboxConfig
                .newBuilder()
                .setMetadata(dev.berth.cri.draft.PodSandboxMetadata.newBuilder().setName("fuzz-" + n)
                        .setNamespace("fuzz").setUid("uid-" + Long.toHexString(random.nextLong())))
                .setHostname("fuzz-" + n)
                .setLogDirectory(scratch + "/pods/fuzz-" + n)
                .putLabels("app", "fuzz")
                .setLinux(dev.berth.cri.draft.LinuxPodSandboxConfig.newBuilder().setNamespaceOptions(
                        dev.berth.cri.draft.NamespaceOption.newBuilder().setHostNetwork(hostNetwork))))
                .build();
    }

    private static Message reparse(Message m, Message prototype) {
        try {
            return prototype.getParserForType().parseFrom(m.toByteString());
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }

    CreateContainerRequest createContainer() {
        int n = ++serial;
        return CreateContainerRequest.newBuilder().setPodSandboxId(podId.get())
                .setConfig(ContainerConfig.newBuilder()
                        .setMetadata(ContainerMetadata.newBuilder().setName("c-" + n))
                        .setImage(ImageSpec.newBuilder().setImage(image))
                        .setLogPath("c-" + n + ".log")
                        .putLabels("tier", "fuzz"))
                .build();
    }

    private Message.Builder fill(Message.Builder b, int depth, String method) {
        for (FieldDescriptor f : b.getDescriptorForType().getFields()) {
            boolean leaveOut = random.nextInt(3) == 0 && !IDS.contains(f.getName());
            if (SKIPPED.contains(f.getName()) || leaveOut) {
                continue;
            }
            if (f.isMapField()) {
                if (f.getMessageType().findFieldByName("value").getJavaType() == FieldDescriptor.JavaType.STRING) {
                    Message.Builder e = b.newBuilderForField(f);
                    e.setField(f.getMessageType().findFieldByName("key"), "fuzz");
                    e.setField(f.getMessageType().findFieldByName("value"), "v" + random.nextInt(10));
                    b.addRepeatedField(f, e.build());
                }
                continue;
            }
            int count = f.isRepeated() ? 1 + random.nextInt(2) : 1;
            for (int i = 0; i < count; i++) {
                Object v = value(b, f, depth, method);
                if (v == null) {
                    continue;
                }
                if (f.isRepeated()) {
                    b.addRepeatedField(f, v);
                } else {
                    b.setField(f, v);
                }
            }
        }
        return b;
    }

    private Object value(Message.Builder b, FieldDescriptor f, int depth, String method) {
        return switch (f.getJavaType()) {
            case STRING -> string(f.getName(), method);
            case INT -> random.nextInt(5);
            case LONG -> (long) random.nextInt(5);
            case BOOLEAN -> random.nextBoolean();
            case DOUBLE -> random.nextDouble();
            case FLOAT -> random.nextFloat();
            case BYTE_STRING -> com.google.protobuf.ByteString.copyFromUtf8("fuzz");
            case ENUM -> {
                List<EnumValueDescriptor> values = f.getEnumType().getValues();
                yield values.get(random.nextInt(values.size()));
            }
            case MESSAGE -> depth >= 4 ? null : fill(b.newBuilderForField(f), depth + 1, method).build();
        };
    }

    /** Pulls name a missing image under the allowed prefix; RemoveImage never names the image the run uses. */
    private String image(String method) {
        int n = random.nextInt(1000);
        boolean ours = random.nextBoolean();
        return switch (method) {
            case "PullImage" -> pullPrefix + "/fuzz-missing-" + n + ":v1";
            case "RemoveImage" -> "fuzz-missing-" + n + ":v1";
            default -> ours ? image : "fuzz-missing:latest";
        };
    }

    private String string(String field, String method) {
        return switch (field) {
            case "pod_sandbox_id" -> podId.get();
            case "container_id", "id" -> containerId.get();
            case "image" -> image(method);
            case "runtime_handler" -> handler;
            case "cmd" -> random.nextBoolean() ? "true" : "/nonexistent";
            case "name" -> "fuzz-" + random.nextInt(100);
            case "namespace" -> "fuzz";
            case "version" -> "v1";
            default -> field.replace('_', '-') + "-" + random.nextInt(100);
        };
    }
}
