package dev.berth.runc;

import dev.berth.oci.Capabilities;
import dev.berth.oci.Propagation;
import dev.berth.oci.SeccompProfiles;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.oci.spec.RuntimeSpec;
import dev.berth.oci.spec.RuntimeSpec.Linux;
import dev.berth.oci.spec.RuntimeSpec.Mount;
import dev.berth.oci.spec.RuntimeSpec.Namespace;
import dev.berth.oci.spec.RuntimeSpec.Process;
import dev.berth.oci.spec.RuntimeSpec.Root;
import dev.berth.oci.spec.RuntimeSpec.Seccomp;
import dev.berth.oci.spec.RuntimeSpec.User;
import dev.berth.oci.spec.SpecMapper;
import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerMount;
import dev.berth.spi.ContainerSecurity;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.LinuxResources;
import dev.berth.spi.NamespaceMode;
import dev.berth.spi.Namespaces;
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

/**
 * Builds OCI runtime specs ({@code config.json}) for pause and workload containers, as berth-oci's typed
 * {@link RuntimeSpec} (written with {@link dev.berth.oci.spec.OciJson}). Pure: everything it needs from the host
 * comes in through {@link Host}, {@link Pod} and resolved {@link Device}s, so it is tested with tables and no
 * runtime. Its cgroup side is {@link OciResources} (limits from {@link SpecMapper#resources}), its mounts
 * {@link OciMounts}.
 */
public final class OciSpecs {
    static final String DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /** The capabilities a non-privileged container gets unless it adds or drops some (containerd's set). */
    static final List<String> DEFAULT_CAPS = Capabilities.DEFAULT;

    /** Every capability Linux 5.9+ knows, for privileged containers and for "ALL". */
    static final List<String> ALL_CAPS = Capabilities.ALL;

    static final List<String> DEFAULT_MASKED = List.of("/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
            "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
            "/sys/firmware", "/sys/devices/virtual/powercap");

    static final List<String> DEFAULT_READONLY = List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
            "/proc/sysrq-trigger");

    /** The pause process when the sandbox image names none. */
    static final List<String> DEFAULT_PAUSE = List.of("/pause");

    /**
     * What the spec needs from the host.
     *
     * @param ownOomScoreAdj berth's own oom_score_adj: without CAP_SYS_RESOURCE nothing lower can be set
     * @param recursiveReadOnly whether runtime and kernel support {@code rro}
     * @param systemdCgroup whether the systemd cgroup driver is used
     * @param seccompLoader reads a Localhost seccomp profile file (tests pass a fake)
     * @param grantableCaps the capabilities berth itself holds in its bounding set; a container can get no others
     *     (runc fails with "unable to apply caps" if asked). Null means all.
     */
    public record Host(int ownOomScoreAdj, boolean recursiveReadOnly, boolean systemdCgroup,
                       java.util.function.Function<Path, JsonNode> seccompLoader, Set<String> grantableCaps) {
        public Host(int ownOomScoreAdj, boolean recursiveReadOnly, boolean systemdCgroup,
                    java.util.function.Function<Path, JsonNode> seccompLoader) {
            this(ownOomScoreAdj, recursiveReadOnly, systemdCgroup, seccompLoader, null);
        }

        /** The capabilities in this process's bounding set, from /proc/self/status; null when unreadable. */
        public static Set<String> boundingSet() {
            return Capabilities.boundingSet();
        }
    }

    /**
     * The sandbox a container joins.
     *
     * @param pausePid the pause process, whose namespaces containers join; 0 if none. In a pod with {@code pins}
     *     it is the {@link PauseProcess} whose pid namespace is pinned at {@code pins/pid}
     * @param targetPid the pid of the TARGET container for a shared pid namespace; 0 if none
     * @param shm the pod's shared /dev/shm on the host, or null for a private one per container
     * @param pins the directory of the pod's pinned UTS and IPC (and pid) namespaces when it has no pause
     *     container, else null
     */
    public record Pod(String id, String cgroupParent, long pausePid, Path netnsPath, Namespaces namespaces,
                      Path resolvConf, Path hostsFile, Path hostnameFile, List<Long> supplementalGroups,
                      long targetPid, Path shm, Path pins) {
        public Pod {
            supplementalGroups = supplementalGroups == null ? List.of() : List.copyOf(supplementalGroups);
        }

        /** A pod with a pause process, whose namespaces its containers join. */
        public Pod(String id, String cgroupParent, long pausePid, Path netnsPath, Namespaces namespaces,
                   Path resolvConf, Path hostsFile, Path hostnameFile, List<Long> supplementalGroups, long targetPid,
                   Path shm) {
            this(id, cgroupParent, pausePid, netnsPath, namespaces, resolvConf, hostsFile, hostnameFile,
                    supplementalGroups, targetPid, shm, null);
        }

        /**
         * Where a container joins the pod's namespace {@code ns} ({@code net}, {@code uts}, {@code ipc}, {@code pid});
         * null for a pid namespace of its own, the only kind a pod without any pause process has.
         */
        Path namespace(String ns) {
            if (ns.equals("net") && netnsPath != null) {
                return netnsPath;
            }
            if (pins != null) {
                return switch (ns) {
                    case "uts", "ipc" -> pins.resolve(ns);
                    case "pid" -> pausePid > 0 ? pins.resolve(PauseProcess.PIN) : null;
                    default -> throw new BackendException(BackendException.Kind.FAILED_PRECONDITION,
                            "the sandbox has no pause process and no pinned " + ns + " namespace");
                };
            }
            return nsPath(pausePid, ns);
        }

        /** A pod without a shared /dev/shm: each container gets its own. */
        public Pod(String id, String cgroupParent, long pausePid, Path netnsPath, Namespaces namespaces,
                   Path resolvConf, Path hostsFile, Path hostnameFile, List<Long> supplementalGroups, long targetPid) {
            this(id, cgroupParent, pausePid, netnsPath, namespaces, resolvConf, hostsFile, hostnameFile,
                    supplementalGroups, targetPid, null);
        }
    }

    /** A host device resolved to its node numbers ({@code type} is {@code c} or {@code b}). */
    public record Device(String containerPath, String hostPath, String type, long major, long minor, int fileMode,
                         String permissions) {}

    private OciSpecs() {}

    // ---- specs ---------------------------------------------------------------------------------------------

    /** The pause container's spec: it owns the pod's namespaces and sysctls. */
    public static RuntimeSpec sandbox(SandboxSpec spec, Host host) {
        return sandbox(spec, host, null);
    }

    /** The pause container's spec, with the pod's shared /dev/shm at {@code shm} when not null. */
    public static RuntimeSpec sandbox(SandboxSpec spec, Host host, Path shm) {
        Namespaces ns = spec.security().namespaces();
        boolean hostNet = ns.network() == NamespaceMode.NODE;
        List<String> args = new ArrayList<>(spec.image().entrypoint());
        args.addAll(spec.image().cmd());
        Process process = process(args.isEmpty() ? DEFAULT_PAUSE : args, mergeEnv(spec.image().env(), List.of()),
                "/", spec.security().runAsUser().orElse(0), spec.security().runAsGroup().orElse(0),
                spec.security().supplementalGroups(), false, DEFAULT_CAPS, true, null,
                Math.max(-998, host.ownOomScoreAdj()));
        List<Mount> mounts = OciMounts.defaultMounts(spec.security().privileged(), shm);
        OciMounts.addPodFileMounts(mounts, spec.resolvConf(), spec.hostsFile(), spec.hostnameFile(), Set.of());

        List<Namespace> namespaces = new ArrayList<>();
        namespaces.add(ns("mount", null));
        if (!hostNet) {
            namespaces.add(ns("uts", null));
            namespaces.add(ns("network", spec.netnsPath()));
        }
        if (ns.ipc() != NamespaceMode.NODE) {
            namespaces.add(ns("ipc", null));
        }
        if (ns.pid() != NamespaceMode.NODE) {
            namespaces.add(ns("pid", null));
        }
        Map<String, String> sysctl = new TreeMap<>();
        for (var e : new TreeMap<>(spec.sysctls()).entrySet()) {
            if (hostNet && e.getKey().startsWith("net.")) {
                throw BackendException.invalid("failed to create sandbox \"" + spec.id() + "\": sysctl \""
                        + e.getKey() + "\" is not allowed with host networking");
            }
            sysctl.put(e.getKey(), e.getValue());
        }
        boolean privileged = spec.security().privileged();
        Linux linux = new Linux(null, null,
                OciResources.resources(LinuxResources.NONE, List.of(), privileged),
                OciResources.cgroupsPath(host.systemdCgroup(), spec.cgroupParent(), spec.id(), spec.id()),
                namespaces, null, sysctl.isEmpty() ? null : sysctl, privileged ? null : DEFAULT_MASKED,
                privileged ? null : DEFAULT_READONLY, null, null, null);
        return new RuntimeSpec(RuntimeSpec.VERSION, process, new Root("rootfs", spec.security().readonlyRootfs()),
                !hostNet && !spec.hostname().isEmpty() ? spec.hostname() : null, mounts, null,
                annotations(spec.annotations(), "sandbox", spec.id()), linux);
    }

    /** A workload container's spec, joining the pod's namespaces. */
    public static RuntimeSpec container(ContainerSpec spec, Pod pod, Host host, List<Device> devices) {
        ContainerSecurity sec = spec.security();
        List<String> args = spec.processArgs();
        if (args.isEmpty()) {
            throw BackendException.invalid("failed to create container \"" + spec.id()
                    + "\": no command given and the image has neither entrypoint nor cmd");
        }
        ProcessUser user = spec.processUser();
        Set<Long> groups = new LinkedHashSet<>(user.additionalGids());
        groups.addAll(pod.supplementalGroups());
        String cwd = !spec.workingDir().isEmpty() ? spec.workingDir()
                : !spec.image().workingDir().isEmpty() ? spec.image().workingDir() : "/";
        List<String> caps = Capabilities.resolve(sec.privileged(), sec.addCapabilities(), sec.dropCapabilities(),
                host.grantableCaps());
        Process process = process(args, mergeEnv(spec.image().env(), spec.env()), cwd, user.uid(), user.gid(),
                List.copyOf(groups), spec.tty(), caps, sec.noNewPrivs(),
                sec.apparmor().type() == SecurityProfile.Type.LOCALHOST ? sec.apparmor().localhostRef() : null,
                (int) Math.max(spec.resources().oomScoreAdj(), host.ownOomScoreAdj()));

        List<Mount> mounts = OciMounts.defaultMounts(sec.privileged(), pod.shm());
        Set<String> requested = new LinkedHashSet<>();
        for (ContainerMount m : spec.mounts()) {
            requested.add(m.containerPath());
        }
        // CRI mounts win over the defaults at the same destination.
        mounts.removeIf(m -> requested.contains(m.destination()));
        boolean hostNet = pod.namespaces().network() == NamespaceMode.NODE;
        OciMounts.addPodFileMounts(mounts, pod.resolvConf(), pod.hostsFile(), hostNet ? null : pod.hostnameFile(),
                requested);
        for (ContainerMount m : spec.mounts()) {
            mounts.add(OciMounts.criMount(spec.id(), m, host.recursiveReadOnly()));
        }

        List<RuntimeSpec.Device> devs = new ArrayList<>();
        for (Device d : devices) {
            devs.add(new RuntimeSpec.Device(d.containerPath(), d.type(), d.major(), d.minor(), d.fileMode(), 0L, 0L));
        }
        Seccomp seccomp = null;
        if (sec.seccomp().type() == SecurityProfile.Type.LOCALHOST && !sec.privileged()) {
            JsonNode profile = host.seccompLoader().apply(Path.of(sec.seccomp().localhostRef()));
            if (profile == null) {
                throw BackendException.invalid("failed to create container \"" + spec.id()
                        + "\": cannot read the Localhost seccomp profile " + sec.seccomp().localhostRef());
            }
            seccomp = seccomp(spec.id(), profile);
        }
        if (sec.seccomp().type() == SecurityProfile.Type.RUNTIME_DEFAULT && !sec.privileged()) {
            seccomp = SpecMapper.seccomp(SeccompProfiles.runtimeDefault(caps));
        }
        if (sec.namespaces().userNamespace() != null) {
            throw BackendException.unimplemented("failed to create container \"" + spec.id()
                    + "\": user namespaces are not supported by the runc backend yet");
        }
        Linux linux = new Linux(null, null, OciResources.resources(spec.resources(), devices, sec.privileged()),
                OciResources.cgroupsPath(host.systemdCgroup(), pod.cgroupParent(), pod.id(), spec.id()),
                containerNamespaces(spec, pod), devs.isEmpty() ? null : List.copyOf(devs), null,
                sec.privileged() ? null : sec.maskedPaths().isEmpty() ? DEFAULT_MASKED : sec.maskedPaths(),
                sec.privileged() ? null : sec.readonlyPaths().isEmpty() ? DEFAULT_READONLY : sec.readonlyPaths(),
                seccomp, Propagation.rootfs(spec.mounts()).orElse(null), null);
        return new RuntimeSpec(RuntimeSpec.VERSION, process, new Root("rootfs", sec.readonlyRootfs()), null, mounts,
                null, annotations(spec.annotations(), "container", pod.id()), linux);
    }

    /** A process spec for {@code exec}: the container's process with new args and no terminal unless asked. */
    public static Process execProcess(Process containerProcess, List<String> args, boolean tty) {
        return containerProcess.forExec(args, tty, containerProcess.consoleSize());
    }

    // ---- parts ---------------------------------------------------------------------------------------------

    static List<String> capabilities(ContainerSecurity sec) {
        return Capabilities.resolve(sec.privileged(), sec.addCapabilities(), sec.dropCapabilities(), null);
    }

    /** Image env first, then the request's, a later KEY replacing an earlier one in place; PATH if none. */
    static List<String> mergeEnv(List<String> image, List<String> request) {
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

    static List<Namespace> containerNamespaces(ContainerSpec spec, Pod pod) {
        Namespaces ns = spec.security().namespaces();
        Namespaces podNs = pod.namespaces();
        List<Namespace> out = new ArrayList<>();
        out.add(ns("mount", null));
        if (podNs.network() != NamespaceMode.NODE) {
            out.add(ns("network", pod.namespace("net")));
            out.add(ns("uts", pod.namespace("uts")));
        }
        if (podNs.ipc() != NamespaceMode.NODE && ns.ipc() != NamespaceMode.NODE) {
            out.add(ns("ipc", pod.namespace("ipc")));
        }
        NamespaceMode pid = podNs.pid() == NamespaceMode.NODE ? NamespaceMode.NODE : ns.pid();
        switch (pid) {
            case NODE -> { }
            case POD -> out.add(ns("pid", pod.namespace("pid")));
            case CONTAINER -> out.add(ns("pid", null));
            case TARGET -> {
                if (pod.targetPid() <= 0) {
                    throw BackendException.invalid("failed to create container \"" + spec.id()
                            + "\": target container \"" + ns.targetId() + "\" for the pid namespace is not running");
                }
                out.add(ns("pid", nsPath(pod.targetPid(), "pid")));
            }
        }
        return out;
    }

    private static Path nsPath(long pid, String ns) {
        if (pid <= 0) {
            throw new BackendException(BackendException.Kind.FAILED_PRECONDITION,
                    "the sandbox's pause process is not running, cannot join its " + ns + " namespace");
        }
        return Path.of("/proc", Long.toString(pid), "ns", ns);
    }

    /** Takes the fields OCI knows from a seccomp profile (OCI or Docker format). */
    static Seccomp seccomp(String containerId, JsonNode profile) {
        try {
            return SpecMapper.seccomp(SeccompProfiles.fromProfile(profile == null ? null
                    : JSON.convertValue(profile, Object.class)));
        } catch (IllegalArgumentException e) {
            throw BackendException.invalid("failed to create container \"" + containerId
                    + "\": the Localhost seccomp profile is unusable: " + e.getMessage());
        }
    }

    private static Process process(List<String> args, List<String> env, String cwd, long uid, long gid,
                                   List<Long> groups, boolean tty, List<String> caps, boolean noNewPrivileges,
                                   String apparmorProfile, int oomScoreAdj) {
        return new Process(tty, null, new User(uid, gid, null, groups.isEmpty() ? null : List.copyOf(groups)),
                List.copyOf(args), env, cwd, RuntimeSpec.Capabilities.of(caps), null, noNewPrivileges,
                apparmorProfile, oomScoreAdj, null);
    }

    private static Namespace ns(String type, Path path) {
        return new Namespace(type, path == null ? null : path.toString());
    }

    private static Map<String, String> annotations(Map<String, String> request, String type, String sandboxId) {
        Map<String, String> a = new LinkedHashMap<>(new TreeMap<>(request));
        a.put(SpecMapper.CONTAINER_TYPE, type);
        a.put(SpecMapper.SANDBOX_ID, sandboxId);
        return a;
    }

    /** A mapper for the state files and the runtime's JSON output. */
    static final ObjectMapper JSON = new ObjectMapper();
}
