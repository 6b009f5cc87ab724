package dev.berth.oci.spec;

import dev.berth.oci.Capabilities;
import dev.berth.oci.Propagation;
import dev.berth.oci.SeccompProfiles;
import dev.berth.oci.spec.RuntimeSpec.Cpu;
import dev.berth.oci.spec.RuntimeSpec.DeviceRule;
import dev.berth.oci.spec.RuntimeSpec.HugepageLimit;
import dev.berth.oci.spec.RuntimeSpec.Linux;
import dev.berth.oci.spec.RuntimeSpec.Memory;
import dev.berth.oci.spec.RuntimeSpec.Mount;
import dev.berth.oci.spec.RuntimeSpec.Namespace;
import dev.berth.oci.spec.RuntimeSpec.Process;
import dev.berth.oci.spec.RuntimeSpec.Resources;
import dev.berth.oci.spec.RuntimeSpec.Root;
import dev.berth.oci.spec.RuntimeSpec.Seccomp;
import dev.berth.oci.spec.RuntimeSpec.User;
import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerMount;
import dev.berth.spi.ContainerSecurity;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.LinuxResources;
import dev.berth.spi.NamespaceMode;
import dev.berth.spi.ProcessUser;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.SecurityProfile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The one mapping from the SPI's pod and container specs to the OCI {@link RuntimeSpec}, for every Linux plugin:
 * the sandbox (pause) container that owns the pod's namespaces, a workload container joining them, resources for
 * an update, and the process of an exec. Pure, no I/O: what comes from the host is passed in ({@link Host},
 * {@link PodRef}, resolved {@link HostDevice}s), and where the plugins write the same meaning in another form, the
 * plugin's {@link Conventions} say which. A request that cannot be honoured is refused with
 * {@link BackendException#invalid} naming the container, before anything is created.
 *
 * <p>The annotations are containerd's CRI annotations, which VM shims read to group a pod
 * ({@code io.kubernetes.cri.container-type}, {@code sandbox-id}, names, image). Capabilities and seccomp are in the
 * spec as for runc: a VM's agent applies them inside the guest, a host runtime on the host.
 */
public final class SpecMapper {
    public static final String CONTAINER_TYPE = "io.kubernetes.cri.container-type";
    public static final String SANDBOX_ID = "io.kubernetes.cri.sandbox-id";
    public static final String SANDBOX_NAME = "io.kubernetes.cri.sandbox-name";
    public static final String SANDBOX_NAMESPACE = "io.kubernetes.cri.sandbox-namespace";
    public static final String SANDBOX_UID = "io.kubernetes.cri.sandbox-uid";
    public static final String SANDBOX_LOG_DIR = "io.kubernetes.cri.sandbox-log-directory";
    public static final String CONTAINER_NAME = "io.kubernetes.cri.container-name";
    public static final String IMAGE_NAME = "io.kubernetes.cri.image-name";

    /** containerd's default masked paths before it masked powercap, for containers that are not privileged. */
    public static final List<String> MASKED = List.of("/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
            "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
            "/sys/firmware");
    /** {@link #MASKED} and {@code /sys/devices/virtual/powercap} (containerd 1.7 on): energy readings leak data. */
    public static final List<String> MASKED_WITH_POWERCAP = List.of("/proc/acpi", "/proc/asound", "/proc/kcore",
            "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
            "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap");
    public static final List<String> READONLY = List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
            "/proc/sysrq-trigger");
    public static final String DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    /** The pause process when the sandbox image names none. */
    public static final List<String> DEFAULT_PAUSE = List.of("/pause");

    private final Conventions conventions;
    private final Host host;

    /** The mapping with a plugin's {@code conventions}, for {@code host}. */
    public SpecMapper(Conventions conventions, Host host) {
        this.conventions = conventions;
        this.host = host;
    }

    /**
     * What the spec takes from the host and its runtime.
     *
     * @param grantableCaps the capabilities the runtime may grant (berth's bounding set for a runtime on the host);
     *     null: all
     * @param localhostProfile reads a Localhost seccomp profile: its parsed JSON, or null when unreadable
     * @param ownOomScoreAdj berth's own oom_score_adj, the floor of every process's {@code oomScoreAdj} (without
     *     CAP_SYS_RESOURCE nothing lower can be set); null: the spec sets no {@code oomScoreAdj}
     * @param recursiveReadOnly whether runtime and kernel support {@code rro}; without, such a mount is refused
     * @param appArmor whether the runtime applies a Localhost AppArmor profile ({@code apparmorProfile})
     */
    public record Host(Set<String> grantableCaps, Function<String, Object> localhostProfile, Integer ownOomScoreAdj,
                       boolean recursiveReadOnly, boolean appArmor) {
        /** Every capability; no Localhost profile can be read. */
        public static final Host UNRESTRICTED = new Host(null, ref -> null);

        /** A runtime that sets no oom score, has no {@code rro} and no AppArmor. */
        public Host(Set<String> grantableCaps, Function<String, Object> localhostProfile) {
            this(grantableCaps, localhostProfile, null, false, false);
        }
    }

    /**
     * Where the Linux plugins' specs differ in form or in what they add, not in what the request means; one value
     * per plugin, next to its other policy. Each choice is read in one place of the mapping.
     *
     * @param sandboxNamespaces the order of the sandbox's {@code linux.namespaces} (types, as {@code network})
     * @param containerNamespaces the order of a container's {@code linux.namespaces}
     * @param criAnnotations which of containerd's CRI annotations the specs carry, of this class's keys
     * @param maskedPaths the masked paths of a container that is neither privileged nor names its own
     * @param options the plugin's {@link Option}s; those it leaves out do not apply
     * @param privilegedDevices the device cgroup rule of a privileged container (all allowed), or null for none
     */
    public record Conventions(List<String> sandboxNamespaces, List<String> containerNamespaces,
                              List<String> criAnnotations, List<String> maskedPaths, Set<Option> options,
                              DeviceRule privilegedDevices) {
        public Conventions {
            sandboxNamespaces = List.copyOf(sandboxNamespaces);
            containerNamespaces = List.copyOf(containerNamespaces);
            criAnnotations = List.copyOf(criAnnotations);
            maskedPaths = List.copyOf(maskedPaths);
            options = Set.copyOf(options);
        }

        boolean has(Option option) {
            return options.contains(option);
        }
    }

    /** What a plugin's specs do beyond the common mapping, each named where the plugin lists it. */
    public enum Option {
        /** The pause container gets the masked and read-only paths and the pod's resolv.conf, hosts and hostname. */
        CONFINED_PAUSE,
        /** Containers get {@code /sys/fs/cgroup}, read-only unless privileged. */
        CGROUP_MOUNT,
        /**
         * A container in a pod on the host's network gets the pod's {@code /etc/hostname} too (without it sees the
         * node's name, in the node's UTS namespace).
         */
        HOSTNAME_WITH_HOST_NETWORK,
        /** Writable mounts say {@code rw} (binds, pod files, a privileged sysfs); else only read-only ones say {@code ro}. */
        STATES_READ_WRITE,
        /** A bind's {@code ro}/{@code rw} comes before its propagation, not after it. */
        ACCESS_BEFORE_PROPAGATION
    }

    /**
     * What a container needs to know about its pod's sandbox.
     *
     * @param pid the pause process, whose namespaces containers join; in a pod with {@code pins} the process whose
     *     pid namespace is pinned at {@code pins/pid}, 0 if none
     * @param supplementalGroups groups every container of the pod gets on top of its own
     * @param shm the pod's shared /dev/shm on the host, or null for a private tmpfs per container
     * @param pins the directory of the pod's pinned UTS and IPC (and pid) namespaces when it has no pause
     *     process, else null
     */
    public record PodRef(String id, String name, String namespace, String uid, long pid, Path netnsPath,
                         boolean hostNetwork, boolean hostPid, boolean hostIpc, Path resolvConf, Path hostsFile,
                         Path hostnameFile, List<Long> supplementalGroups, Path shm, Path pins) {
        public PodRef {
            supplementalGroups = supplementalGroups == null ? List.of() : List.copyOf(supplementalGroups);
        }

        /** A pod with a pause process, no shared /dev/shm and no groups of its own for its containers. */
        public PodRef(String id, String name, String namespace, String uid, long pid, Path netnsPath,
                      boolean hostNetwork, boolean hostPid, boolean hostIpc, Path resolvConf, Path hostsFile,
                      Path hostnameFile) {
            this(id, name, namespace, uid, pid, netnsPath, hostNetwork, hostPid, hostIpc, resolvConf, hostsFile,
                    hostnameFile, List.of(), null, null);
        }

        /**
         * Where a container joins the pod's namespace {@code ns} ({@code net}, {@code uts}, {@code ipc}, {@code pid});
         * null for a pid namespace of its own, the only kind a pod without any pause process has.
         */
        public Path namespace(String ns) {
            if (ns.equals("net") && netnsPath != null) {
                return netnsPath;
            }
            if (pins != null) {
                return switch (ns) {
                    case "uts", "ipc" -> pins.resolve(ns);
                    case "pid" -> pid > 0 ? pins.resolve("pid") : null;
                    default -> throw new BackendException(BackendException.Kind.FAILED_PRECONDITION,
                            "the sandbox has no pause process and no pinned " + ns + " namespace");
                };
            }
            return nsPath(pid, ns);
        }
    }

    /** A host device resolved to its node numbers ({@code type} is {@code c} or {@code b}) and its owner. */
    public record HostDevice(String containerPath, String hostPath, String type, long major, long minor,
                             int fileMode, String permissions, long uid, long gid) {
        /** A device node owned by root. */
        public HostDevice(String containerPath, String hostPath, String type, long major, long minor, int fileMode,
                          String permissions) {
            this(containerPath, hostPath, type, major, minor, fileMode, permissions, 0, 0);
        }
    }

    /** The pod's reference as containers see it, from its spec and the pause process's pid. */
    public static PodRef podRef(SandboxSpec s, long pid) {
        var ns = s.security().namespaces();
        return new PodRef(s.id(), s.metadata().name(), s.metadata().namespace(), s.metadata().uid(), pid,
                s.netnsPath(), s.hostNetwork(), ns.pid() == NamespaceMode.NODE, ns.ipc() == NamespaceMode.NODE,
                s.resolvConf(), s.hostsFile(), s.hostnameFile());
    }

    /**
     * The sandbox container: the image's command (else {@code /pause}), the pod's new namespaces and sysctls;
     * {@code shm} the pod's shared /dev/shm, or null for a private one.
     */
    public RuntimeSpec sandbox(SandboxSpec s, String cgroupsPath, Path shm) {
        var sec = s.security();
        boolean hostNet = s.hostNetwork();
        List<String> args = new ArrayList<>(s.image().entrypoint());
        args.addAll(s.image().cmd());
        Process process = process(args.isEmpty() ? DEFAULT_PAUSE : args, mergeEnv(s.image().env(), List.of()), "/",
                sec.runAsUser().orElse(0), sec.runAsGroup().orElse(0), sec.supplementalGroups(), false,
                Capabilities.DEFAULT, true, null,
                host.ownOomScoreAdj() == null ? null : Math.max(-998, host.ownOomScoreAdj()));
        List<Mount> mounts = mounts().defaults(sec.privileged(), shm);
        if (conventions.has(Option.CONFINED_PAUSE)) {
            mounts().addPodFiles(mounts, s.resolvConf(), s.hostsFile(), s.hostnameFile(), Set.of(),
                    sec.readonlyRootfs());
        }

        Map<String, Namespace> namespaces = new LinkedHashMap<>();
        namespaces.put("mount", ns("mount", null));
        if (!hostNet) {
            namespaces.put("uts", ns("uts", null));
            namespaces.put("network", ns("network", s.netnsPath()));
        }
        if (sec.namespaces().ipc() != NamespaceMode.NODE) {
            namespaces.put("ipc", ns("ipc", null));
        }
        if (sec.namespaces().pid() != NamespaceMode.NODE) {
            namespaces.put("pid", ns("pid", null));
        }
        Map<String, String> sysctl = new TreeMap<>();
        for (var e : new TreeMap<>(s.sysctls()).entrySet()) {
            if (hostNet && e.getKey().startsWith("net.")) {
                throw BackendException.invalid("failed to create sandbox \"" + s.id() + "\": sysctl \""
                        + e.getKey() + "\" is not allowed with host networking");
            }
            sysctl.put(e.getKey(), e.getValue());
        }
        boolean confined = conventions.has(Option.CONFINED_PAUSE) && !sec.privileged();
        Linux linux = new Linux(null, null, cgroupResources(LinuxResources.NONE, List.of(), sec.privileged()),
                cgroupsPath, ordered(namespaces, conventions.sandboxNamespaces()), null,
                sysctl.isEmpty() ? null : sysctl, confined ? conventions.maskedPaths() : null,
                confined ? READONLY : null, null, null, null);

        Map<String, String> cri = new LinkedHashMap<>();
        cri.put(CONTAINER_TYPE, "sandbox");
        cri.put(SANDBOX_ID, s.id());
        cri.put(SANDBOX_NAME, s.metadata().name());
        cri.put(SANDBOX_NAMESPACE, s.metadata().namespace());
        cri.put(SANDBOX_UID, s.metadata().uid());
        cri.put(SANDBOX_LOG_DIR, s.logDirectory());
        return new RuntimeSpec(RuntimeSpec.VERSION, process, new Root("rootfs", sec.readonlyRootfs()),
                !hostNet && !s.hostname().isEmpty() ? s.hostname() : null, mounts, null,
                annotations(s.annotations(), cri), linux);
    }

    /**
     * A workload container joining its pod's namespaces ({@code targetPid}: the process whose pid namespace a
     * TARGET container joins, 0 if none), with {@code devices} created in it and allowed.
     */
    public RuntimeSpec container(ContainerSpec c, PodRef pod, long targetPid, String cgroupsPath,
                                 List<HostDevice> devices) {
        ContainerSecurity sec = c.security();
        List<String> args = c.processArgs();
        if (args.isEmpty()) {
            throw refused(c, "no command given and the image has neither entrypoint nor cmd");
        }
        ProcessUser user = c.processUser();
        Set<Long> groups = new LinkedHashSet<>(user.additionalGids());
        groups.addAll(pod.supplementalGroups());
        String cwd = !c.workingDir().isEmpty() ? c.workingDir()
                : !c.image().workingDir().isEmpty() ? c.image().workingDir() : "/";
        if (!cwd.startsWith("/")) {
            throw refused(c, "working directory \"" + cwd + "\" " + (c.workingDir().isEmpty() ? "of the image " : "")
                    + "is not an absolute path");
        }
        List<String> caps = Capabilities.resolve(sec.privileged(), sec.addCapabilities(), sec.dropCapabilities(),
                host.grantableCaps());
        String apparmor = host.appArmor() && sec.apparmor().type() == SecurityProfile.Type.LOCALHOST
                ? sec.apparmor().localhostRef() : null;
        Process process = process(args, mergeEnv(c.image().env(), c.env()), cwd, user.uid(), user.gid(),
                List.copyOf(groups), c.tty(), caps, sec.noNewPrivs(), apparmor,
                host.ownOomScoreAdj() == null ? null
                        : (int) Math.max(c.resources().oomScoreAdj(), host.ownOomScoreAdj()));

        List<Mount> mounts = mounts().defaults(sec.privileged(), pod.shm());
        Set<String> requested = new LinkedHashSet<>();
        for (ContainerMount m : c.mounts()) {
            requested.add(m.containerPath());
        }
        // CRI mounts win over the defaults at the same destination.
        mounts.removeIf(m -> requested.contains(m.destination()));
        mounts().addPodFiles(mounts, pod.resolvConf(), pod.hostsFile(),
                pod.hostNetwork() && !conventions.has(Option.HOSTNAME_WITH_HOST_NETWORK) ? null : pod.hostnameFile(), requested,
                sec.readonlyRootfs());
        for (ContainerMount m : c.mounts()) {
            mounts.add(mounts().bind(c, m));
        }

        List<RuntimeSpec.Device> devs = new ArrayList<>();
        for (HostDevice d : devices) {
            devs.add(new RuntimeSpec.Device(d.containerPath(), d.type(), d.major(), d.minor(), d.fileMode(), d.uid(),
                    d.gid()));
        }
        Seccomp seccomp = sec.privileged() ? null : switch (sec.seccomp().type()) {
            case RUNTIME_DEFAULT -> seccomp(SeccompProfiles.runtimeDefault(caps));
            case LOCALHOST -> localhostSeccomp(c);
            default -> null;
        };
        Linux linux = new Linux(null, null, cgroupResources(c.resources(), devices, sec.privileged()), cgroupsPath,
                ordered(containerNamespaces(c, pod, targetPid), conventions.containerNamespaces()),
                devs.isEmpty() ? null : List.copyOf(devs), null,
                sec.privileged() ? null : sec.maskedPaths().isEmpty() ? conventions.maskedPaths() : sec.maskedPaths(),
                sec.privileged() ? null : sec.readonlyPaths().isEmpty() ? READONLY : sec.readonlyPaths(),
                seccomp, Propagation.rootfs(c.mounts()).orElse(null), null);

        Map<String, String> cri = new LinkedHashMap<>();
        cri.put(CONTAINER_TYPE, "container");
        cri.put(SANDBOX_ID, pod.id());
        cri.put(SANDBOX_NAME, pod.name());
        cri.put(SANDBOX_NAMESPACE, pod.namespace());
        cri.put(SANDBOX_UID, pod.uid());
        cri.put(CONTAINER_NAME, c.name());
        cri.put(IMAGE_NAME, c.image().imageRef());
        return new RuntimeSpec(RuntimeSpec.VERSION, process, new Root("rootfs", sec.readonlyRootfs()), null, mounts,
                null, annotations(c.annotations(), cri), linux);
    }

    /**
     * The OCI resources for {@code r}, as an update takes them: unset values are left out, no device rules (the
     * container's); huge page limits by page size and unified keys sorted. The one resource mapping of the plugins.
     */
    public static Resources resources(LinuxResources r) {
        Cpu cpu = new Cpu(r.cpuShares() > 0 ? r.cpuShares() : null, r.cpuQuota() != 0 ? r.cpuQuota() : null,
                r.cpuPeriod() > 0 ? r.cpuPeriod() : null, r.cpusetCpus().isEmpty() ? null : r.cpusetCpus(),
                r.cpusetMems().isEmpty() ? null : r.cpusetMems());
        Memory mem = new Memory(r.memoryLimitBytes() > 0 ? r.memoryLimitBytes() : null, null,
                r.memorySwapLimitBytes() > 0 ? r.memorySwapLimitBytes() : null, null);
        List<HugepageLimit> huge = null;
        if (!r.hugepageLimits().isEmpty()) {
            huge = new ArrayList<>();
            for (var e : new TreeMap<>(r.hugepageLimits()).entrySet()) {
                huge.add(new HugepageLimit(e.getKey(), e.getValue()));
            }
        }
        return new Resources(cpu.equals(new Cpu(null, null, null, null, null)) ? null : cpu,
                mem.equals(new Memory(null, null, null, null)) ? null : mem, null, huge,
                r.unified().isEmpty() ? null : new TreeMap<>(r.unified()), null);
    }

    /** An exec's process: the container's, with {@code args}, a terminal if asked and no console size. */
    public static Process execProcess(Process containerProcess, List<String> args, boolean tty) {
        return containerProcess.forExec(args, tty, null);
    }

    /** A seccomp profile in OCI form, as {@link SeccompProfiles} builds it, as the model's record. */
    public static Seccomp seccomp(Map<String, Object> profile) {
        try {
            return OciJson.convert(profile, Seccomp.class);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the seccomp profile is unusable: " + e.getMessage(), e);
        }
    }

    /** Image env first, then the request's, a later KEY replacing an earlier one in place; PATH first if none. */
    public static List<String> mergeEnv(List<String> image, List<String> request) {
        Map<String, String> env = new LinkedHashMap<>();
        for (List<String> list : List.of(image, request)) {
            for (String kv : list) {
                int eq = kv.indexOf('=');
                env.put(eq < 0 ? kv : kv.substring(0, eq), kv);
            }
        }
        if (!env.containsKey("PATH")) {
            Map<String, String> withPath = new LinkedHashMap<>();
            withPath.put("PATH", DEFAULT_PATH);
            withPath.putAll(env);
            env = withPath;
        }
        return List.copyOf(env.values());
    }

    private SpecMounts mounts() {
        return new SpecMounts(conventions, host.recursiveReadOnly());
    }

    // ---- parts ---------------------------------------------------------------------------------------------

    private Map<String, Namespace> containerNamespaces(ContainerSpec c, PodRef pod, long targetPid) {
        var ns = c.security().namespaces();
        Map<String, Namespace> out = new LinkedHashMap<>();
        out.put("mount", ns("mount", null));
        if (!pod.hostNetwork()) {
            out.put("network", ns("network", pod.namespace("net")));
            out.put("uts", ns("uts", pod.namespace("uts")));
        }
        if (!pod.hostIpc() && ns.ipc() != NamespaceMode.NODE) {
            out.put("ipc", ns("ipc", pod.namespace("ipc")));
        }
        // A pod on the host's pid namespace has no other to share: its containers are in the host's too.
        switch (pod.hostPid() ? NamespaceMode.NODE : ns.pid()) {
            case NODE -> { }
            case POD -> out.put("pid", ns("pid", pod.namespace("pid")));
            case CONTAINER -> out.put("pid", ns("pid", null));
            case TARGET -> {
                if (targetPid <= 0) {
                    throw refused(c, "target container \"" + ns.targetId() + "\" for the pid namespace is not running");
                }
                out.put("pid", ns("pid", nsPath(targetPid, "pid")));
            }
        }
        return out;
    }

    private static List<Namespace> ordered(Map<String, Namespace> namespaces, List<String> order) {
        return order.stream().filter(namespaces::containsKey).map(namespaces::get).toList();
    }

    private Seccomp localhostSeccomp(ContainerSpec c) {
        String ref = c.security().seccomp().localhostRef();
        Object profile = host.localhostProfile().apply(ref);
        if (profile == null) {
            throw refused(c, "cannot read the Localhost seccomp profile " + ref);
        }
        try {
            return seccomp(SeccompProfiles.fromProfile(profile));
        } catch (IllegalArgumentException e) {
            throw refused(c, "the Localhost seccomp profile is unusable: " + e.getMessage());
        }
    }

    /** The request's annotations (sorted) and those of {@code cri} the plugin's conventions name. */
    private Map<String, String> annotations(Map<String, String> request, Map<String, String> cri) {
        Map<String, String> a = new LinkedHashMap<>(new TreeMap<>(request));
        for (String key : conventions.criAnnotations()) {
            if (cri.containsKey(key)) {
                a.put(key, cri.get(key));
            }
        }
        return a;
    }

    /**
     * A container's {@code linux.resources}: the limits ({@link #resources}) and the device rules: all denied but
     * {@code devices}, or for a privileged container the conventions' rule.
     */
    private Resources cgroupResources(LinuxResources r, List<HostDevice> devices, boolean privileged) {
        Resources res = resources(r);
        if (privileged) {
            DeviceRule all = conventions.privilegedDevices();
            return all == null ? res : res.withDevices(List.of(all));
        }
        List<DeviceRule> rules = new ArrayList<>();
        rules.add(new DeviceRule(false, null, null, null, "rwm"));
        for (HostDevice d : devices) {
            rules.add(new DeviceRule(true, d.type(), d.major(), d.minor(), d.permissions()));
        }
        return res.withDevices(List.copyOf(rules));
    }

    private static Process process(List<String> args, List<String> env, String cwd, long uid, long gid,
                                   List<Long> groups, boolean terminal, List<String> caps, boolean noNewPrivs,
                                   String apparmorProfile, Integer oomScoreAdj) {
        return new Process(terminal, null, new User(uid, gid, null, groups.isEmpty() ? null : List.copyOf(groups)),
                List.copyOf(args), env, cwd, RuntimeSpec.Capabilities.of(caps), null, noNewPrivs, apparmorProfile,
                oomScoreAdj, null);
    }

    static BackendException refused(ContainerSpec c, String why) {
        return BackendException.invalid("failed to create container \"" + c.id() + "\": " + why);
    }

    private static Namespace ns(String type, Path path) {
        return new Namespace(type, path == null ? null : path.toString());
    }

    private static Path nsPath(long pid, String ns) {
        if (pid <= 0) {
            throw new BackendException(BackendException.Kind.FAILED_PRECONDITION,
                    "the sandbox's pause process is not running, cannot join its " + ns + " namespace");
        }
        return Path.of("/proc", Long.toString(pid), "ns", ns);
    }
}
