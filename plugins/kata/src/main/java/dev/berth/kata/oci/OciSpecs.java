package dev.berth.kata.oci;

import dev.berth.oci.Capabilities;
import dev.berth.oci.Propagation;
import dev.berth.oci.SeccompProfiles;
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
import java.util.function.Function;

/**
 * Builds the OCI runtime spec ({@code config.json}) of a pod's sandbox container and of its containers, as
 * plain maps for {@link Json}. Pure functions: no I/O.
 *
 * <p>The annotations are what a VM shim needs to group a pod: {@code io.kubernetes.cri.container-type}
 * ({@code sandbox} or {@code container}) and {@code io.kubernetes.cri.sandbox-id}, plus the pod's sizing
 * ({@code io.kubernetes.cri.sandbox-cpu-period/-quota/-shares/-memory}, overhead plus the containers' sum), which
 * Kata reads from the sandbox container's spec to size the VM. On a shim that runs containers on the host (the
 * runc shim), the namespace paths join the pause container's namespaces as usual.
 */
public final class OciSpecs {
    public static final String CONTAINER_TYPE = "io.kubernetes.cri.container-type";
    public static final String SANDBOX_ID = "io.kubernetes.cri.sandbox-id";
    public static final String SANDBOX_NAME = "io.kubernetes.cri.sandbox-name";
    public static final String SANDBOX_NAMESPACE = "io.kubernetes.cri.sandbox-namespace";
    public static final String SANDBOX_UID = "io.kubernetes.cri.sandbox-uid";
    public static final String SANDBOX_LOG_DIR = "io.kubernetes.cri.sandbox-log-directory";
    public static final String CONTAINER_NAME = "io.kubernetes.cri.container-name";
    public static final String IMAGE_NAME = "io.kubernetes.cri.image-name";
    public static final String SANDBOX_CPU_PERIOD = "io.kubernetes.cri.sandbox-cpu-period";
    public static final String SANDBOX_CPU_QUOTA = "io.kubernetes.cri.sandbox-cpu-quota";
    public static final String SANDBOX_CPU_SHARES = "io.kubernetes.cri.sandbox-cpu-shares";
    public static final String SANDBOX_MEMORY = "io.kubernetes.cri.sandbox-memory";

    /** Process type_url of an exec spec in ExecProcessRequest. */
    public static final String PROCESS_TYPE_URL = "types.containerd.io/opencontainers/runtime-spec/1/Process";
    /** type_url of the resources in UpdateTaskRequest. */
    public static final String RESOURCES_TYPE_URL = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources";

    private static final List<String> MASKED = List.of("/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
            "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
            "/sys/firmware");
    private static final List<String> READONLY = List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
            "/proc/sysrq-trigger");
    private static final String PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private OciSpecs() {}

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

    public static Map<String, Object> sandbox(SandboxSpec s, String cgroupsPath) {
        var sec = s.security();
        List<String> args = new ArrayList<>(s.image().entrypoint());
        args.addAll(s.image().cmd());
        if (args.isEmpty()) {
            args.add("/pause");
        }
        long uid = sec.runAsUser().orElse(0);
        long gid = sec.runAsGroup().orElse(0);
        Map<String, Object> spec = base();
        List<String> env = new ArrayList<>(List.of(PATH_ENV));
        env.addAll(s.image().env());
        spec.put("process", process(args, env, "/", uid, gid, sec.supplementalGroups(), Capabilities.DEFAULT, true,
                false));
        spec.put("root", Map.of("path", "rootfs", "readonly", sec.readonlyRootfs()));
        if (!s.hostNetwork() && !s.hostname().isEmpty()) {
            spec.put("hostname", s.hostname());
        }
        spec.put("mounts", defaultMounts(sec.privileged()));

        Map<String, Object> ann = new LinkedHashMap<>(s.annotations());
        ann.put(CONTAINER_TYPE, "sandbox");
        ann.put(SANDBOX_ID, s.id());
        ann.put(SANDBOX_NAME, s.metadata().name());
        ann.put(SANDBOX_NAMESPACE, s.metadata().namespace());
        ann.put(SANDBOX_UID, s.metadata().uid());
        ann.put(SANDBOX_LOG_DIR, s.logDirectory());
        sizing(s.overhead(), s.resources()).forEach(ann::put);
        spec.put("annotations", ann);

        List<Map<String, Object>> namespaces = new ArrayList<>();
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
        Map<String, Object> linux = linux(namespaces, cgroupsPath, LinuxResources.NONE, sec.privileged());
        if (!s.sysctls().isEmpty()) {
            linux.put("sysctl", new LinkedHashMap<>(s.sysctls()));
        }
        spec.put("linux", linux);
        return spec;
    }

    public static Map<String, Object> container(ContainerSpec c, PodRef pod, long targetPid, String cgroupsPath) {
        return container(c, pod, targetPid, cgroupsPath, Host.UNRESTRICTED);
    }

    /**
     * The spec of a container. Capabilities and seccomp are in it as for runc: a VM's agent applies them inside the
     * guest, a host shim (the runc shim) on the host. Throws {@link IllegalArgumentException} for a request that
     * cannot be honoured (no command, an unusable Localhost seccomp profile).
     */
    public static Map<String, Object> container(ContainerSpec c, PodRef pod, long targetPid, String cgroupsPath,
                                                Host host) {
        ContainerSecurity sec = c.security();
        List<String> args = c.processArgs();
        if (args.isEmpty()) {
            throw new IllegalArgumentException("no command: the image has no entrypoint or cmd and the request none");
        }
        List<String> env = new ArrayList<>();
        if (c.image().env().stream().noneMatch(e -> e.startsWith("PATH=")) && c.env().stream().noneMatch(e -> e.startsWith("PATH="))) {
            env.add(PATH_ENV);
        }
        env.addAll(c.image().env());
        env.addAll(c.env());
        String cwd = !c.workingDir().isEmpty() ? c.workingDir()
                : !c.image().workingDir().isEmpty() ? c.image().workingDir() : "/";
        ProcessUser user = c.processUser();

        Map<String, Object> spec = base();
        List<String> caps = Capabilities.resolve(sec.privileged(), sec.addCapabilities(), sec.dropCapabilities(),
                host.grantableCaps());
        spec.put("process", process(args, env, cwd, user.uid(), user.gid(), user.additionalGids(), caps,
                sec.noNewPrivs(), c.tty()));
        spec.put("root", Map.of("path", "rootfs", "readonly", sec.readonlyRootfs()));
        List<Object> mounts = new ArrayList<>(defaultMounts(sec.privileged()));
        Set<String> targets = new LinkedHashSet<>();
        for (ContainerMount m : c.mounts()) {
            targets.add(m.containerPath());
        }
        addFile(mounts, targets, "/etc/resolv.conf", pod.resolvConf());
        addFile(mounts, targets, "/etc/hosts", pod.hostsFile());
        addFile(mounts, targets, "/etc/hostname", pod.hostnameFile());
        for (ContainerMount m : c.mounts()) {
            List<String> opts = new ArrayList<>(List.of("rbind", m.readOnly() ? "ro" : "rw"));
            opts.add(switch (m.propagation()) {
                case PRIVATE -> "rprivate";
                case HOST_TO_CONTAINER -> "rslave";
                case BIDIRECTIONAL -> "rshared";
            });
            mounts.add(mount(m.containerPath(), "bind", m.hostPath(), opts));
        }
        spec.put("mounts", mounts);

        Map<String, Object> ann = new LinkedHashMap<>(c.annotations());
        ann.put(CONTAINER_TYPE, "container");
        ann.put(SANDBOX_ID, pod.id());
        ann.put(SANDBOX_NAME, pod.name());
        ann.put(SANDBOX_NAMESPACE, pod.namespace());
        ann.put(SANDBOX_UID, pod.uid());
        ann.put(CONTAINER_NAME, c.name());
        ann.put(IMAGE_NAME, c.image().imageRef());
        spec.put("annotations", ann);

        var ns = sec.namespaces();
        List<Map<String, Object>> namespaces = new ArrayList<>();
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
        Map<String, Object> linux = linux(namespaces, cgroupsPath, c.resources(), sec.privileged());
        if (!sec.privileged()) {
            linux.put("maskedPaths", sec.maskedPaths().isEmpty() ? MASKED : sec.maskedPaths());
            linux.put("readonlyPaths", sec.readonlyPaths().isEmpty() ? READONLY : sec.readonlyPaths());
            switch (sec.seccomp().type()) {
                case RUNTIME_DEFAULT -> linux.put("seccomp", SeccompProfiles.runtimeDefault(caps));
                case LOCALHOST -> {
                    Object profile = host.localhostProfile().apply(sec.seccomp().localhostRef());
                    if (profile == null) {
                        throw new IllegalArgumentException("cannot read the Localhost seccomp profile "
                                + sec.seccomp().localhostRef());
                    }
                    linux.put("seccomp", SeccompProfiles.fromProfile(profile));
                }
                default -> { }
            }
        }
        Propagation.rootfs(c.mounts()).ifPresent(p -> linux.put("rootfsPropagation", p));
        spec.put("linux", linux);
        return spec;
    }

    /** The OCI {@code LinuxResources} object for {@code r}; unset values are left out. */
    public static Map<String, Object> resources(LinuxResources r) {
        Map<String, Object> out = new LinkedHashMap<>();
        Map<String, Object> cpu = new LinkedHashMap<>();
        if (r.cpuShares() > 0) {
            cpu.put("shares", r.cpuShares());
        }
        if (r.cpuQuota() != 0) {
            cpu.put("quota", r.cpuQuota());
        }
        if (r.cpuPeriod() > 0) {
            cpu.put("period", r.cpuPeriod());
        }
        if (!r.cpusetCpus().isEmpty()) {
            cpu.put("cpus", r.cpusetCpus());
        }
        if (!r.cpusetMems().isEmpty()) {
            cpu.put("mems", r.cpusetMems());
        }
        if (!cpu.isEmpty()) {
            out.put("cpu", cpu);
        }
        Map<String, Object> mem = new LinkedHashMap<>();
        if (r.memoryLimitBytes() > 0) {
            mem.put("limit", r.memoryLimitBytes());
        }
        if (r.memorySwapLimitBytes() > 0) {
            mem.put("swap", r.memorySwapLimitBytes());
        }
        if (!mem.isEmpty()) {
            out.put("memory", mem);
        }
        if (!r.hugepageLimits().isEmpty()) {
            List<Object> h = new ArrayList<>();
            r.hugepageLimits().forEach((size, limit) -> h.add(Map.of("pageSize", size, "limit", limit)));
            out.put("hugepageLimits", h);
        }
        if (!r.unified().isEmpty()) {
            out.put("unified", new LinkedHashMap<>(r.unified()));
        }
        return out;
    }

    /** The pod sizing annotations Kata reads: overhead plus the containers' resources. */
    public static Map<String, String> sizing(LinuxResources overhead, LinuxResources resources) {
        Map<String, String> a = new LinkedHashMap<>();
        long period = resources.cpuPeriod() > 0 ? resources.cpuPeriod() : overhead.cpuPeriod();
        long quota = Math.max(0, overhead.cpuQuota()) + Math.max(0, resources.cpuQuota());
        long shares = overhead.cpuShares() + resources.cpuShares();
        long memory = overhead.memoryLimitBytes() + resources.memoryLimitBytes();
        if (period > 0) {
            a.put(SANDBOX_CPU_PERIOD, Long.toString(period));
        }
        if (quota > 0) {
            a.put(SANDBOX_CPU_QUOTA, Long.toString(quota));
        }
        if (shares > 0) {
            a.put(SANDBOX_CPU_SHARES, Long.toString(shares));
        }
        if (memory > 0) {
            a.put(SANDBOX_MEMORY, Long.toString(memory));
        }
        return a;
    }

    /** An OCI Process with the given args, the rest copied from the container's {@code process}. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> execProcess(Map<String, Object> containerProcess, List<String> args) {
        Map<String, Object> p = new LinkedHashMap<>(containerProcess);
        p.put("args", List.copyOf(args));
        p.put("terminal", false);
        p.remove("consoleSize");
        return p;
    }

    private static Map<String, Object> base() {
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("ociVersion", "1.0.2");
        return spec;
    }

    private static Map<String, Object> process(List<String> args, List<String> env, String cwd, long uid, long gid,
                                               List<Long> groups, List<String> caps, boolean noNewPrivs,
                                               boolean terminal) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("terminal", terminal);
        Map<String, Object> user = new LinkedHashMap<>();
        user.put("uid", uid);
        user.put("gid", gid);
        if (!groups.isEmpty()) {
            user.put("additionalGids", groups);
        }
        p.put("user", user);
        p.put("args", List.copyOf(args));
        p.put("env", List.copyOf(env));
        p.put("cwd", cwd);
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("bounding", caps);
        c.put("effective", caps);
        c.put("permitted", caps);
        p.put("capabilities", c);
        p.put("noNewPrivileges", noNewPrivs);
        return p;
    }

    private static List<Object> defaultMounts(boolean privileged) {
        List<Object> m = new ArrayList<>();
        m.add(mount("/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev")));
        m.add(mount("/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k")));
        m.add(mount("/dev/pts", "devpts", "devpts",
                List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")));
        m.add(mount("/dev/shm", "tmpfs", "shm", List.of("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")));
        m.add(mount("/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev")));
        m.add(mount("/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", privileged ? "rw" : "ro")));
        return m;
    }

    private static void addFile(List<Object> mounts, Set<String> userTargets, String target, Path host) {
        if (host != null && !userTargets.contains(target)) {
            mounts.add(mount(target, "bind", host.toString(), List.of("rbind", "rprivate", "rw")));
        }
    }

    private static Map<String, Object> mount(String dest, String type, String source, List<String> options) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("destination", dest);
        m.put("type", type);
        m.put("source", source);
        m.put("options", options);
        return m;
    }

    private static Map<String, Object> ns(String type, Object path) {
        Map<String, Object> n = new LinkedHashMap<>();
        n.put("type", type);
        if (path != null) {
            n.put("path", path.toString());
        }
        return n;
    }

    private static String procNs(long pid, String ns) {
        return "/proc/" + pid + "/ns/" + ns;
    }

    private static Map<String, Object> linux(List<Map<String, Object>> namespaces, String cgroupsPath,
                                             LinuxResources r, boolean privileged) {
        Map<String, Object> linux = new LinkedHashMap<>();
        Map<String, Object> res = resources(r);
        if (!privileged) {
            res.put("devices", List.of(Map.of("allow", false, "access", "rwm")));
        }
        linux.put("resources", res);
        linux.put("cgroupsPath", cgroupsPath);
        linux.put("namespaces", namespaces);
        return linux;
    }
}
