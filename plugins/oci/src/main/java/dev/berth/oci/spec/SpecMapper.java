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
import dev.berth.spi.ContainerMount;
import dev.berth.spi.ContainerSecurity;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.LinuxResources;
import dev.berth.spi.NamespaceMode;
import dev.berth.spi.ProcessUser;
import dev.berth.spi.SandboxSpec;
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
 * The one mapping from the SPI's pod and container specs to the OCI {@link RuntimeSpec}: the sandbox (pause)
 * container that owns the pod's namespaces, a workload container joining them, resources for an update, and the
 * process of an exec. Pure functions, no I/O: what comes from the host is passed in ({@link Host}, {@link PodRef}).
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

    /** containerd's default masked and read-only paths, for containers that are not privileged. */
    public static final List<String> MASKED = List.of("/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
            "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
            "/sys/firmware");
    public static final List<String> READONLY = List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
            "/proc/sysrq-trigger");
    private static final String PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private SpecMapper() {}

    /**
     * What the spec takes from the host: the capabilities the runtime may grant (null: all) and a reader of
     * Localhost seccomp profiles (the parsed JSON of the file, or null when unreadable).
     */
    public record Host(Set<String> grantableCaps, Function<String, Object> localhostProfile) {
        /** Every capability; no Localhost profile can be read. */
        public static final Host UNRESTRICTED = new Host(null, ref -> null);
    }

    /** What a container needs to know about its pod's sandbox. */
    public record PodRef(String id, String name, String namespace, String uid, long pid, Path netnsPath,
                         boolean hostNetwork, boolean hostPid, boolean hostIpc, Path resolvConf, Path hostsFile,
                         Path hostnameFile) {}

    /** The pod's reference as containers see it, from its spec and the pause process's pid. */
    public static PodRef podRef(SandboxSpec s, long pid) {
        var ns = s.security().namespaces();
        return new PodRef(s.id(), s.metadata().name(), s.metadata().namespace(), s.metadata().uid(), pid,
                s.netnsPath(), s.hostNetwork(), ns.pid() == NamespaceMode.NODE, ns.ipc() == NamespaceMode.NODE,
                s.resolvConf(), s.hostsFile(), s.hostnameFile());
    }

    /** The sandbox container: the image's command (else {@code /pause}), the pod's new namespaces and sysctls. */
    public static RuntimeSpec sandbox(SandboxSpec s, String cgroupsPath) {
        var sec = s.security();
        List<String> args = new ArrayList<>(s.image().entrypoint());
        args.addAll(s.image().cmd());
        if (args.isEmpty()) {
            args.add("/pause");
        }
        List<String> env = new ArrayList<>(List.of(PATH_ENV));
        env.addAll(s.image().env());
        Process process = process(args, env, "/", sec.runAsUser().orElse(0), sec.runAsGroup().orElse(0),
                sec.supplementalGroups(), Capabilities.DEFAULT, true, false);

        Map<String, String> ann = new LinkedHashMap<>(s.annotations());
        ann.put(CONTAINER_TYPE, "sandbox");
        ann.put(SANDBOX_ID, s.id());
        ann.put(SANDBOX_NAME, s.metadata().name());
        ann.put(SANDBOX_NAMESPACE, s.metadata().namespace());
        ann.put(SANDBOX_UID, s.metadata().uid());
        ann.put(SANDBOX_LOG_DIR, s.logDirectory());

        List<Namespace> namespaces = new ArrayList<>();
        var ns = sec.namespaces();
        if (ns.pid() != NamespaceMode.NODE) {
            namespaces.add(ns("pid", null));
        }
        if (ns.ipc() != NamespaceMode.NODE) {
            namespaces.add(ns("ipc", null));
        }
        if (!s.hostNetwork()) {
            namespaces.add(ns("uts", null));
            namespaces.add(ns("network", s.netnsPath()));
        }
        namespaces.add(ns("mount", null));
        Linux linux = new Linux(null, null, cgroupResources(LinuxResources.NONE, sec.privileged()), cgroupsPath,
                namespaces, null, s.sysctls().isEmpty() ? null : new LinkedHashMap<>(s.sysctls()), null, null, null,
                null, null);
        return new RuntimeSpec(RuntimeSpec.VERSION, process, new Root("rootfs", sec.readonlyRootfs()),
                !s.hostNetwork() && !s.hostname().isEmpty() ? s.hostname() : null, defaultMounts(sec.privileged()),
                null, ann, linux);
    }

    /**
     * A workload container joining its pod's namespaces ({@code targetPid}: the process whose pid namespace a
     * TARGET container joins). Throws {@link IllegalArgumentException} for a request that cannot be honoured (no
     * command, an unusable Localhost seccomp profile).
     */
    public static RuntimeSpec container(ContainerSpec c, PodRef pod, long targetPid, String cgroupsPath, Host host) {
        ContainerSecurity sec = c.security();
        List<String> args = c.processArgs();
        if (args.isEmpty()) {
            throw new IllegalArgumentException("no command: the image has no entrypoint or cmd and the request none");
        }
        List<String> env = new ArrayList<>();
        if (c.image().env().stream().noneMatch(e -> e.startsWith("PATH="))
                && c.env().stream().noneMatch(e -> e.startsWith("PATH="))) {
            env.add(PATH_ENV);
        }
        env.addAll(c.image().env());
        env.addAll(c.env());
        String cwd = !c.workingDir().isEmpty() ? c.workingDir()
                : !c.image().workingDir().isEmpty() ? c.image().workingDir() : "/";
        ProcessUser user = c.processUser();
        List<String> caps = Capabilities.resolve(sec.privileged(), sec.addCapabilities(), sec.dropCapabilities(),
                host.grantableCaps());
        Process process = process(args, env, cwd, user.uid(), user.gid(), user.additionalGids(), caps,
                sec.noNewPrivs(), c.tty());

        List<Mount> mounts = new ArrayList<>(defaultMounts(sec.privileged()));
        Set<String> targets = new LinkedHashSet<>();
        for (ContainerMount m : c.mounts()) {
            targets.add(m.containerPath());
        }
        addFile(mounts, targets, "/etc/resolv.conf", pod.resolvConf());
        addFile(mounts, targets, "/etc/hosts", pod.hostsFile());
        addFile(mounts, targets, "/etc/hostname", pod.hostnameFile());
        for (ContainerMount m : c.mounts()) {
            mounts.add(new Mount(m.containerPath(), "bind", m.hostPath(), List.of("rbind", m.readOnly() ? "ro" : "rw",
                    switch (m.propagation()) {
                        case PRIVATE -> "rprivate";
                        case HOST_TO_CONTAINER -> "rslave";
                        case BIDIRECTIONAL -> "rshared";
                    })));
        }

        Map<String, String> ann = new LinkedHashMap<>(c.annotations());
        ann.put(CONTAINER_TYPE, "container");
        ann.put(SANDBOX_ID, pod.id());
        ann.put(SANDBOX_NAME, pod.name());
        ann.put(SANDBOX_NAMESPACE, pod.namespace());
        ann.put(SANDBOX_UID, pod.uid());
        ann.put(CONTAINER_NAME, c.name());
        ann.put(IMAGE_NAME, c.image().imageRef());

        var ns = sec.namespaces();
        List<Namespace> namespaces = new ArrayList<>();
        switch (ns.pid()) {
            case CONTAINER -> namespaces.add(ns("pid", null));
            case POD -> namespaces.add(ns("pid", pod.hostPid() ? null : procNs(pod.pid(), "pid")));
            case TARGET -> namespaces.add(ns("pid", procNs(targetPid, "pid")));
            case NODE -> { }
        }
        if (ns.ipc() != NamespaceMode.NODE && !pod.hostIpc()) {
            namespaces.add(ns("ipc", procNs(pod.pid(), "ipc")));
        }
        if (!pod.hostNetwork()) {
            namespaces.add(ns("uts", procNs(pod.pid(), "uts")));
            namespaces.add(ns("network", pod.netnsPath() != null ? pod.netnsPath() : procNs(pod.pid(), "net")));
        }
        namespaces.add(ns("mount", null));
        List<String> masked = null;
        List<String> readonly = null;
        Seccomp seccomp = null;
        if (!sec.privileged()) {
            masked = sec.maskedPaths().isEmpty() ? MASKED : sec.maskedPaths();
            readonly = sec.readonlyPaths().isEmpty() ? READONLY : sec.readonlyPaths();
            seccomp = switch (sec.seccomp().type()) {
                case RUNTIME_DEFAULT -> seccomp(SeccompProfiles.runtimeDefault(caps));
                case LOCALHOST -> {
                    Object profile = host.localhostProfile().apply(sec.seccomp().localhostRef());
                    if (profile == null) {
                        throw new IllegalArgumentException("cannot read the Localhost seccomp profile "
                                + sec.seccomp().localhostRef());
                    }
                    yield seccomp(SeccompProfiles.fromProfile(profile));
                }
                default -> null;
            };
        }
        Linux linux = new Linux(null, null, cgroupResources(c.resources(), sec.privileged()), cgroupsPath,
                namespaces, null, null, masked, readonly, seccomp, Propagation.rootfs(c.mounts()).orElse(null), null);
        return new RuntimeSpec(RuntimeSpec.VERSION, process, new Root("rootfs", sec.readonlyRootfs()), null, mounts,
                null, ann, linux);
    }

    /**
     * The OCI resources for {@code r}, as an update takes them: unset values are left out, no device rules (the
     * plugin's); huge page limits by page size and unified keys sorted. The one resource mapping of the plugins.
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

    /** An exec's process: the container's, with {@code args}, no terminal and no console size. */
    public static Process execProcess(Process containerProcess, List<String> args) {
        return containerProcess.forExec(args, false, null);
    }

    /** A seccomp profile in OCI form, as {@link SeccompProfiles} builds it, as the model's record. */
    public static Seccomp seccomp(Map<String, Object> profile) {
        try {
            return OciJson.convert(profile, Seccomp.class);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the seccomp profile is unusable: " + e.getMessage(), e);
        }
    }

    /** A container's resources: {@link #resources} and, unless privileged, a rule denying every device. */
    private static Resources cgroupResources(LinuxResources r, boolean privileged) {
        Resources res = resources(r);
        return privileged ? res : res.withDevices(List.of(new DeviceRule(false, null, null, null, "rwm")));
    }

    private static Process process(List<String> args, List<String> env, String cwd, long uid, long gid,
                                   List<Long> groups, List<String> caps, boolean noNewPrivs, boolean terminal) {
        return new Process(terminal, null, new User(uid, gid, null, groups.isEmpty() ? null : List.copyOf(groups)),
                List.copyOf(args), List.copyOf(env), cwd, RuntimeSpec.Capabilities.of(caps), null, noNewPrivs,
                null, null, null);
    }

    /** proc, dev, pts, shm (a private tmpfs), mqueue and sysfs (read-only unless privileged). */
    public static List<Mount> defaultMounts(boolean privileged) {
        return List.of(
                new Mount("/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev")),
                new Mount("/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k")),
                new Mount("/dev/pts", "devpts", "devpts",
                        List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")),
                new Mount("/dev/shm", "tmpfs", "shm", List.of("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")),
                new Mount("/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev")),
                new Mount("/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", privileged ? "rw" : "ro")));
    }

    private static void addFile(List<Mount> mounts, Set<String> userTargets, String target, Path host) {
        if (host != null && !userTargets.contains(target)) {
            mounts.add(new Mount(target, "bind", host.toString(), List.of("rbind", "rprivate", "rw")));
        }
    }

    private static Namespace ns(String type, Object path) {
        return new Namespace(type, path == null ? null : path.toString());
    }

    private static String procNs(long pid, String ns) {
        return "/proc/" + pid + "/ns/" + ns;
    }
}
