package dev.berth.spi;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Everything a backend needs to create a pod sandbox. Core has already pulled the sandbox image, prepared its
 * root file system ({@link #rootfs()}) unless the backend said it does not run this pod from it
 * ({@link BackendFeatures.Pod#runsSandboxImage()}), and, unless the pod uses the host network, created and
 * pinned the pod's network namespace ({@link #netnsPath()}). CNI has run in it too, unless the backend said it does not
 * need that before create ({@link BackendFeatures.Pod#networkBeforeCreate()}); then it runs meanwhile.
 *
 * @param id the sandbox id core chose (64 hex characters)
 * @param netnsPath the pinned network namespace, or {@code null} for host networking
 * @param rootfs mounts that make up the sandbox (pause) container's root, target empty; none when the backend
 *     does not use the sandbox image for this pod
 * @param image the sandbox image's config, or {@link ImageConfig#NONE} in that case
 * @param overhead the pod overhead (RuntimeClass), to be added to the pod cgroup's limits
 * @param resources the sum of the containers' resources, when the kubelet sends it
 * @param logDirectory where the kubelet expects this pod's container logs; may be empty
 * @param raw an escape hatch for backends that need a field core does not map: CRI's serialized
 *     {@code PodSandboxConfig} (runtime.v1 wire format). Parsing it couples a plugin to CRI; do so knowingly.
 */
public record SandboxSpec(
        String id,
        PodMetadata metadata,
        String hostname,
        String logDirectory,
        DnsConfig dns,
        List<PortMapping> portMappings,
        Map<String, String> labels,
        Map<String, String> annotations,
        String cgroupParent,
        Map<String, String> sysctls,
        PodSecurity security,
        LinuxResources overhead,
        LinuxResources resources,
        Path netnsPath,
        List<MountSpec> rootfs,
        ImageConfig image,
        Path resolvConf,
        Path hostsFile,
        Path hostnameFile,
        byte[] raw) {

    public SandboxSpec {
        id = Checks.id(id, "sandbox id");
        java.util.Objects.requireNonNull(metadata, "pod metadata is null");
        hostname = Checks.text(hostname);
        logDirectory = Checks.text(logDirectory);
        dns = dns == null ? DnsConfig.NONE : dns;
        portMappings = Checks.list(portMappings);
        labels = Checks.map(labels);
        annotations = Checks.map(annotations);
        cgroupParent = Checks.text(cgroupParent);
        sysctls = Checks.map(sysctls);
        security = security == null ? PodSecurity.DEFAULT : security;
        overhead = overhead == null ? LinuxResources.NONE : overhead;
        resources = resources == null ? LinuxResources.NONE : resources;
        rootfs = Checks.list(rootfs);
        image = image == null ? ImageConfig.NONE : image;
        raw = raw == null ? new byte[0] : raw.clone();
    }

    /** Whether the pod runs in the host's network namespace. */
    public boolean hostNetwork() {
        return security.namespaces().network() == NamespaceMode.NODE;
    }

    @Override
    public byte[] raw() {
        return raw.clone();
    }
}
