package dev.berth.core.mapping;

import dev.berth.core.cri.sandbox.PodHostname;
import dev.berth.cri.v1.ContainerConfig;
import dev.berth.cri.v1.LinuxContainerResources;
import dev.berth.cri.v1.LinuxContainerSecurityContext;
import dev.berth.cri.v1.NamespaceOption;
import dev.berth.cri.v1.PodSandboxConfig;
import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerMount;
import dev.berth.spi.ContainerSecurity;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.DeviceSpec;
import dev.berth.spi.DnsConfig;
import dev.berth.spi.ImageConfig;
import dev.berth.spi.LinuxResources;
import dev.berth.spi.MountSpec;
import dev.berth.spi.NamespaceMode;
import dev.berth.spi.Namespaces;
import dev.berth.spi.PodMetadata;
import dev.berth.spi.PodSecurity;
import dev.berth.spi.PortMapping;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.SecurityProfile;
import dev.berth.spi.SelinuxLabel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.Supplier;

/**
 * Maps CRI messages (runtime.v1) to the SPI's records. Pure functions; the CRI edge validates required fields
 * before calling these. The records' constructors reject impossible combinations with
 * {@link IllegalArgumentException}; as the values here come from the client, the public methods turn that into a
 * {@link BackendException} of kind INVALID_ARGUMENT (elsewhere, such as in a backend, it stays a bug: INTERNAL).
 */
public final class SpiMapper {
    private SpiMapper() {}

    /** What core prepared for a sandbox before handing it to the backend. */
    public record Prepared(Path netnsPath, String ip, List<String> additionalIps, List<MountSpec> rootfs,
                           ImageConfig image, Path resolvConf, Path hosts, Path hostname) {
        public static final Prepared NONE = new Prepared(null, "", List.of(), List.of(), ImageConfig.NONE, null,
                null, null);

        /** The same, with the addresses CNI gave the pod. */
        public Prepared withAddresses(String podIp, List<String> extraIps) {
            return new Prepared(netnsPath, podIp, extraIps, rootfs, image, resolvConf, hosts, hostname);
        }
    }

    /** The sandbox spec for a RunPodSandbox request; INVALID_ARGUMENT if the request's values do not fit. */
    public static SandboxSpec sandbox(String id, PodSandboxConfig c, Prepared p) {
        return fromRequest(() -> sandboxSpec(id, c, p));
    }

    private static SandboxSpec sandboxSpec(String id, PodSandboxConfig c, Prepared p) {
        var md = c.getMetadata();
        var linux = c.getLinux();
        var sc = linux.getSecurityContext();
        PodSecurity security = new PodSecurity(
                namespaces(sc.getNamespaceOptions()),
                sc.getPrivileged(),
                sc.getReadonlyRootfs(),
                sc.hasRunAsUser() ? OptionalLong.of(sc.getRunAsUser().getValue()) : OptionalLong.empty(),
                sc.hasRunAsGroup() ? OptionalLong.of(sc.getRunAsGroup().getValue()) : OptionalLong.empty(),
                sc.getSupplementalGroupsList(),
                sc.hasSeccomp() ? profile(sc.getSeccomp()) : legacyProfile(sc.getSeccompProfilePath()),
                sc.hasApparmor() ? profile(sc.getApparmor()) : SecurityProfile.UNCONFINED,
                selinux(sc.getSelinuxOptions()));
        return new SandboxSpec(id,
                new PodMetadata(md.getName(), md.getUid(), md.getNamespace(), md.getAttempt()),
                PodHostname.of(c, security.namespaces().network() == NamespaceMode.NODE), c.getLogDirectory(),
                new DnsConfig(c.getDnsConfig().getServersList(), c.getDnsConfig().getSearchesList(),
                        c.getDnsConfig().getOptionsList()),
                c.getPortMappingsList().stream().map(pm -> new PortMapping(switch (pm.getProtocol()) {
                    case UDP -> PortMapping.Protocol.UDP;
                    case SCTP -> PortMapping.Protocol.SCTP;
                    default -> PortMapping.Protocol.TCP;
                }, pm.getContainerPort(), pm.getHostPort(), pm.getHostIp())).toList(),
                c.getLabelsMap(), c.getAnnotationsMap(), linux.getCgroupParent(), linux.getSysctlsMap(), security,
                linux.hasOverhead() ? linuxResources(linux.getOverhead(), "linux.overhead") : LinuxResources.NONE,
                linux.hasResources() ? linuxResources(linux.getResources(), "linux.resources") : LinuxResources.NONE,
                p.netnsPath(), p.rootfs(), p.image(), p.resolvConf(), p.hosts(), p.hostname(), c.toByteArray());
    }

    /** The container spec for a CreateContainer request; INVALID_ARGUMENT if the request's values do not fit. */
    public static ContainerSpec container(String id, String sandboxId, ContainerConfig c, ImageConfig image,
                                          List<MountSpec> rootfs, String logPath, String podHostname) {
        return fromRequest(() -> containerSpec(id, sandboxId, c, image, rootfs, logPath, podHostname));
    }

    private static ContainerSpec containerSpec(String id, String sandboxId, ContainerConfig c, ImageConfig image,
                                               List<MountSpec> rootfs, String logPath, String podHostname) {
        var linux = c.getLinux();
        var md = c.getMetadata();
        List<String> env = environment(c, image, podHostname);
        return new ContainerSpec(id, sandboxId, md.getName(), md.getAttempt(), image,
                c.getCommandList(), c.getArgsList(), c.getWorkingDir(), env,
                c.getMountsList().stream().map(SpiMapper::mount).toList(),
                devices(c),
                c.getLabelsMap(), c.getAnnotationsMap(), logPath, c.getStdin(), c.getStdinOnce(), c.getTty(),
                linux.hasResources() ? linuxResources(linux.getResources(), "linux.resources") : LinuxResources.NONE,
                // No security context is CRI's defaults, as for any message left out: the pod's namespaces,
                // its pid namespace included (containerd and CRI-O read it so too).
                security(linux.getSecurityContext()),
                rootfs, c.toByteArray());
    }

    /**
     * The request's devices. Their permissions are the cgroup device access letters, {@code r}, {@code w} and
     * {@code m} (empty means all three); anything else is INVALID_ARGUMENT naming the device, where runc took
     * unknown letters silently and failed the create on upper-case ones.
     */
    private static List<DeviceSpec> devices(ContainerConfig c) {
        List<DeviceSpec> devices = new ArrayList<>(c.getDevicesCount());
        for (int i = 0; i < c.getDevicesCount(); i++) {
            var d = c.getDevices(i);
            String permissions = d.getPermissions();
            if (!permissions.chars().allMatch(ch -> ch == 'r' || ch == 'w' || ch == 'm')) {
                throw BackendException.invalid("container devices[" + i + "] (" + printable(d.getHostPath())
                        + "): permissions \"" + printable(permissions) + "\" are not a combination of r (read), "
                        + "w (write) and m (mknod)");
            }
            devices.add(new DeviceSpec(d.getContainerPath(), d.getHostPath(), permissions));
        }
        return devices;
    }

    /**
     * The request's environment as {@code KEY=value}, with {@code HOSTNAME} set to the pod's hostname first
     * unless the image or the request sets it, as containerd, CRI-O and Docker do.
     *
     * @throws BackendException INVALID_ARGUMENT naming the variable: an empty key, a key with {@code =}, a NUL
     *     byte, or a value that is not UTF-8
     */
    public static List<String> environment(ContainerConfig c, ImageConfig image, String podHostname) {
        List<String> env = new ArrayList<>(c.getEnvsCount() + 1);
        boolean hostnameSet = image.env().stream().anyMatch(e -> e.startsWith("HOSTNAME="));
        for (int i = 0; i < c.getEnvsCount(); i++) {
            var kv = c.getEnvs(i);
            String key = kv.getKey();
            String where = "container envs[" + i + "]" + (key.isEmpty() ? "" : " (" + printable(key) + ")");
            if (key.isEmpty() || key.indexOf('=') >= 0 || key.indexOf('\0') >= 0) {
                throw BackendException.invalid(where + ": a variable name must be non-empty and hold no '=' or NUL");
            }
            if (!kv.getValue().isValidUtf8()) {
                throw BackendException.invalid(where + ": the value is not valid UTF-8");
            }
            String value = kv.getValue().toStringUtf8();
            if (value.indexOf('\0') >= 0) {
                throw BackendException.invalid(where + ": the value holds a NUL byte");
            }
            hostnameSet |= key.equals("HOSTNAME");
            env.add(key + "=" + value);
        }
        if (!hostnameSet && podHostname != null && !podHostname.isEmpty()) {
            env.addFirst("HOSTNAME=" + podHostname);
        }
        return List.copyOf(env);
    }

    private static String printable(String s) {
        return s.codePoints().mapToObj(cp -> Character.isISOControl(cp) ? String.format("\\u%04x", cp)
                : Character.toString(cp)).collect(java.util.stream.Collectors.joining());
    }

    static ContainerMount mount(dev.berth.cri.v1.Mount m) {
        return new ContainerMount(m.getContainerPath(), m.getHostPath(), m.getReadonly() || m.getRecursiveReadOnly(),
                m.getRecursiveReadOnly(), switch (m.getPropagation()) {
                    case PROPAGATION_HOST_TO_CONTAINER -> ContainerMount.Propagation.HOST_TO_CONTAINER;
                    case PROPAGATION_BIDIRECTIONAL -> ContainerMount.Propagation.BIDIRECTIONAL;
                    default -> ContainerMount.Propagation.PRIVATE;
                }, m.getSelinuxRelabel(), m.hasImage() ? m.getImage().getImage() : "");
    }

    /**
     * The resources of a request; INVALID_ARGUMENT naming {@code field} (the message's path in the request, e.g.
     * {@code linux}) and the value if they do not fit ({@link ResourceRules}).
     */
    public static LinuxResources resources(LinuxContainerResources r, String field) {
        return fromRequest(() -> linuxResources(r, field));
    }

    /** Runs a mapping of request values; a record constructor's refusal is the client's error. */
    private static <T> T fromRequest(Supplier<T> mapping) {
        try {
            return mapping.get();
        } catch (IllegalArgumentException e) {
            throw BackendException.invalid(e.getMessage());
        }
    }

    private static LinuxResources linuxResources(LinuxContainerResources r, String field) {
        ResourceRules.check(r, field);
        Map<String, Long> huge = new LinkedHashMap<>();
        r.getHugepageLimitsList().forEach(h -> huge.put(h.getPageSize(), h.getLimit()));
        return new LinuxResources(r.getCpuPeriod(), r.getCpuQuota(), r.getCpuShares(), r.getMemoryLimitInBytes(),
                r.getOomScoreAdj(), r.getCpusetCpus(), r.getCpusetMems(), huge, r.getUnifiedMap(),
                r.getMemorySwapLimitInBytes());
    }

    static ContainerSecurity security(LinuxContainerSecurityContext s) {
        return new ContainerSecurity(
                s.getCapabilities().getAddCapabilitiesList(),
                s.getCapabilities().getDropCapabilitiesList(),
                s.getPrivileged(),
                namespaces(s.getNamespaceOptions()),
                s.hasRunAsUser() ? OptionalLong.of(s.getRunAsUser().getValue()) : OptionalLong.empty(),
                s.hasRunAsGroup() ? OptionalLong.of(s.getRunAsGroup().getValue()) : OptionalLong.empty(),
                s.getRunAsUsername(),
                s.getReadonlyRootfs(),
                s.getSupplementalGroupsList(),
                s.getNoNewPrivs(),
                s.getMaskedPathsList(),
                s.getReadonlyPathsList(),
                s.hasSeccomp() ? profile(s.getSeccomp()) : legacyProfile(s.getSeccompProfilePath()),
                s.hasApparmor() ? profile(s.getApparmor()) : legacyProfile(s.getApparmorProfile()),
                selinux(s.getSelinuxOptions()),
                s.getSupplementalGroupsPolicy() == dev.berth.cri.v1.SupplementalGroupsPolicy.Strict
                        ? ContainerSecurity.SupplementalGroupsPolicy.STRICT
                        : ContainerSecurity.SupplementalGroupsPolicy.MERGE);
    }

    static Namespaces namespaces(NamespaceOption n) {
        Namespaces.UserNamespace userns = null;
        if (n.hasUsernsOptions() && n.getUsernsOptions().getMode() == dev.berth.cri.v1.NamespaceMode.POD) {
            userns = new Namespaces.UserNamespace(
                    n.getUsernsOptions().getUidsList().stream()
                            .map(m -> new Namespaces.IdMapping(m.getHostId(), m.getContainerId(), m.getLength())).toList(),
                    n.getUsernsOptions().getGidsList().stream()
                            .map(m -> new Namespaces.IdMapping(m.getHostId(), m.getContainerId(), m.getLength())).toList());
        }
        return new Namespaces(mode(n.getNetwork()), mode(n.getPid()), mode(n.getIpc()), n.getTargetId(), userns);
    }

    static NamespaceMode mode(dev.berth.cri.v1.NamespaceMode m) {
        return switch (m) {
            case CONTAINER -> NamespaceMode.CONTAINER;
            case NODE -> NamespaceMode.NODE;
            case TARGET -> NamespaceMode.TARGET;
            default -> NamespaceMode.POD;
        };
    }

    static SecurityProfile profile(dev.berth.cri.v1.SecurityProfile p) {
        return switch (p.getProfileType()) {
            case RuntimeDefault -> SecurityProfile.RUNTIME_DEFAULT;
            case Localhost -> new SecurityProfile(SecurityProfile.Type.LOCALHOST, p.getLocalhostRef());
            default -> SecurityProfile.UNCONFINED;
        };
    }

    /** The deprecated string form: {@code runtime/default}, {@code docker/default}, {@code localhost/<path>}. */
    static SecurityProfile legacyProfile(String path) {
        if (path == null || path.isEmpty() || path.equals("unconfined")) {
            return SecurityProfile.UNCONFINED;
        }
        if (path.equals("runtime/default") || path.equals("docker/default")) {
            return SecurityProfile.RUNTIME_DEFAULT;
        }
        if (path.startsWith("localhost/")) {
            return new SecurityProfile(SecurityProfile.Type.LOCALHOST, path.substring("localhost/".length()));
        }
        throw BackendException.invalid("unknown security profile \"" + path + "\"");
    }

    static SelinuxLabel selinux(dev.berth.cri.v1.SELinuxOption o) {
        return new SelinuxLabel(o.getUser(), o.getRole(), o.getType(), o.getLevel());
    }
}
