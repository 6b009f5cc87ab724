package dev.berth.runc;

import dev.berth.oci.Capabilities;
import dev.berth.oci.Propagation;
import dev.berth.oci.SeccompProfiles;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
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

/**
 * Builds OCI runtime specs ({@code config.json}) for pause and workload containers. Pure: everything it needs
 * from the host comes in through {@link Host}, {@link Pod} and resolved {@link Device}s, so it is tested with
 * tables and no runtime. Its cgroup side is {@link OciResources}, its mounts {@link OciMounts}.
 */
public final class OciSpecs {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
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
    public static ObjectNode sandbox(SandboxSpec spec, Host host) {
        return sandbox(spec, host, null);
    }

    /** The pause container's spec, with the pod's shared /dev/shm at {@code shm} when not null. */
    public static ObjectNode sandbox(SandboxSpec spec, Host host, Path shm) {
        ObjectNode root = base();
        Namespaces ns = spec.security().namespaces();
        boolean hostNet = ns.network() == NamespaceMode.NODE;
        List<String> args = new ArrayList<>(spec.image().entrypoint());
        args.addAll(spec.image().cmd());
        ObjectNode process = process(args.isEmpty() ? DEFAULT_PAUSE : args,
                mergeEnv(spec.image().env(), List.of()), "/", spec.security().runAsUser().orElse(0),
                spec.security().runAsGroup().orElse(0), spec.security().supplementalGroups(), false);
        process.put("oomScoreAdj", Math.max(-998, host.ownOomScoreAdj()));
        process.set("capabilities", caps(DEFAULT_CAPS));
        process.put("noNewPrivileges", true);
        root.set("process", process);
        root.set("root", root(spec.security().readonlyRootfs()));
        if (!hostNet && !spec.hostname().isEmpty()) {
            root.put("hostname", spec.hostname());
        }
        ArrayNode mounts = OciMounts.defaultMounts(spec.security().privileged(), shm);
        root.set("mounts", mounts);
        OciMounts.addPodFileMounts(mounts, spec.resolvConf(), spec.hostsFile(), spec.hostnameFile(), Set.of());

        ObjectNode linux = F.objectNode();
        ArrayNode namespaces = F.arrayNode();
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
        linux.set("namespaces", namespaces);
        ObjectNode sysctl = F.objectNode();
        for (var e : new java.util.TreeMap<>(spec.sysctls()).entrySet()) {
            if (hostNet && e.getKey().startsWith("net.")) {
                throw BackendException.invalid("failed to create sandbox \"" + spec.id() + "\": sysctl \""
                        + e.getKey() + "\" is not allowed with host networking");
            }
            sysctl.put(e.getKey(), e.getValue());
        }
        if (!sysctl.isEmpty()) {
            linux.set("sysctl", sysctl);
        }
        linux.put("cgroupsPath", OciResources.cgroupsPath(host.systemdCgroup(), spec.cgroupParent(), spec.id(), spec.id()));
        linux.set("resources", OciResources.resources(LinuxResources.NONE, List.of(), spec.security().privileged()));
        if (!spec.security().privileged()) {
            linux.set("maskedPaths", strings(DEFAULT_MASKED));
            linux.set("readonlyPaths", strings(DEFAULT_READONLY));
        }
        root.set("linux", linux);
        root.set("annotations", annotations(spec.annotations(), "sandbox", spec.id()));
        return root;
    }

    /** A workload container's spec, joining the pod's namespaces. */
    public static ObjectNode container(ContainerSpec spec, Pod pod, Host host, List<Device> devices) {
        ContainerSecurity sec = spec.security();
        ObjectNode root = base();
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
        ObjectNode process = process(args, mergeEnv(spec.image().env(), spec.env()), cwd, user.uid(), user.gid(),
                List.copyOf(groups), spec.tty());
        process.put("oomScoreAdj", (int) Math.max(spec.resources().oomScoreAdj(), host.ownOomScoreAdj()));
        List<String> wanted = capabilities(sec);
        if (host.grantableCaps() != null) {
            wanted = wanted.stream().filter(host.grantableCaps()::contains).toList();
        }
        process.set("capabilities", caps(wanted));
        process.put("noNewPrivileges", sec.noNewPrivs());
        if (sec.apparmor().type() == SecurityProfile.Type.LOCALHOST) {
            process.put("apparmorProfile", sec.apparmor().localhostRef());
        }
        root.set("process", process);
        root.set("root", root(sec.readonlyRootfs()));

        ArrayNode mounts = OciMounts.defaultMounts(sec.privileged(), pod.shm());
        Set<String> requested = new LinkedHashSet<>();
        for (ContainerMount m : spec.mounts()) {
            requested.add(m.containerPath());
        }
        // CRI mounts win over the defaults at the same destination.
        for (int i = mounts.size() - 1; i >= 0; i--) {
            if (requested.contains(mounts.get(i).path("destination").asText())) {
                mounts.remove(i);
            }
        }
        boolean hostNet = pod.namespaces().network() == NamespaceMode.NODE;
        OciMounts.addPodFileMounts(mounts, pod.resolvConf(), pod.hostsFile(), hostNet ? null : pod.hostnameFile(), requested);
        for (ContainerMount m : spec.mounts()) {
            mounts.add(OciMounts.criMount(spec.id(), m, host.recursiveReadOnly()));
        }
        root.set("mounts", mounts);

        ObjectNode linux = F.objectNode();
        linux.set("namespaces", containerNamespaces(spec, pod));
        linux.put("cgroupsPath", OciResources.cgroupsPath(host.systemdCgroup(), pod.cgroupParent(), pod.id(), spec.id()));
        linux.set("resources", OciResources.resources(spec.resources(), devices, sec.privileged()));
        ArrayNode devs = F.arrayNode();
        for (Device d : devices) {
            ObjectNode n = devs.addObject();
            n.put("path", d.containerPath());
            n.put("type", d.type());
            n.put("major", d.major());
            n.put("minor", d.minor());
            n.put("fileMode", d.fileMode());
            n.put("uid", 0);
            n.put("gid", 0);
        }
        if (!devs.isEmpty()) {
            linux.set("devices", devs);
        }
        if (!sec.privileged()) {
            linux.set("maskedPaths", strings(sec.maskedPaths().isEmpty() ? DEFAULT_MASKED : sec.maskedPaths()));
            linux.set("readonlyPaths",
                    strings(sec.readonlyPaths().isEmpty() ? DEFAULT_READONLY : sec.readonlyPaths()));
        }
        if (sec.seccomp().type() == SecurityProfile.Type.LOCALHOST && !sec.privileged()) {
            JsonNode profile = host.seccompLoader().apply(Path.of(sec.seccomp().localhostRef()));
            if (profile == null) {
                throw BackendException.invalid("failed to create container \"" + spec.id()
                        + "\": cannot read the Localhost seccomp profile " + sec.seccomp().localhostRef());
            }
            linux.set("seccomp", seccomp(spec.id(), profile));
        }
        if (sec.seccomp().type() == SecurityProfile.Type.RUNTIME_DEFAULT && !sec.privileged()) {
            linux.set("seccomp", JSON.valueToTree(SeccompProfiles.runtimeDefault(texts(root.path("process")
                    .path("capabilities").path("bounding")))));
        }
        if (sec.namespaces().userNamespace() != null) {
            throw BackendException.unimplemented("failed to create container \"" + spec.id()
                    + "\": user namespaces are not supported by the runc backend yet");
        }
        Propagation.rootfs(spec.mounts()).ifPresent(p -> linux.put("rootfsPropagation", p));
        root.set("linux", linux);
        root.set("annotations", annotations(spec.annotations(), "container", pod.id()));
        return root;
    }

    /** A process spec for {@code exec}: the container's process with new args and no terminal. */
    public static ObjectNode execProcess(JsonNode containerProcess, List<String> args, boolean tty) {
        ObjectNode p = containerProcess.deepCopy();
        p.set("args", strings(args));
        p.put("terminal", tty);
        return p;
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new java.util.ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
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

    static ArrayNode containerNamespaces(ContainerSpec spec, Pod pod) {
        Namespaces ns = spec.security().namespaces();
        Namespaces podNs = pod.namespaces();
        ArrayNode out = F.arrayNode();
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
    static ObjectNode seccomp(String containerId, JsonNode profile) {
        try {
            return JSON.valueToTree(SeccompProfiles.fromProfile(profile == null ? null
                    : JSON.convertValue(profile, Object.class)));
        } catch (IllegalArgumentException e) {
            throw BackendException.invalid("failed to create container \"" + containerId
                    + "\": the Localhost seccomp profile is unusable: " + e.getMessage());
        }
    }

    private static ObjectNode base() {
        ObjectNode root = F.objectNode();
        root.put("ociVersion", "1.0.2");
        return root;
    }

    private static ObjectNode process(List<String> args, List<String> env, String cwd, long uid, long gid,
                                      List<Long> groups, boolean tty) {
        ObjectNode p = F.objectNode();
        p.put("terminal", tty);
        ObjectNode user = p.putObject("user");
        user.put("uid", uid);
        user.put("gid", gid);
        if (!groups.isEmpty()) {
            ArrayNode g = user.putArray("additionalGids");
            groups.forEach(g::add);
        }
        p.set("args", strings(args));
        p.set("env", strings(env));
        p.put("cwd", cwd);
        return p;
    }

    private static ObjectNode caps(List<String> caps) {
        ObjectNode c = F.objectNode();
        for (String set : List.of("bounding", "effective", "permitted")) {
            c.set(set, strings(caps));
        }
        return c;
    }

    private static ObjectNode root(boolean readonly) {
        ObjectNode r = F.objectNode();
        r.put("path", "rootfs");
        r.put("readonly", readonly);
        return r;
    }

    private static ObjectNode ns(String type, Path path) {
        ObjectNode n = F.objectNode();
        n.put("type", type);
        if (path != null) {
            n.put("path", path.toString());
        }
        return n;
    }

    private static ObjectNode annotations(Map<String, String> request, String type, String sandboxId) {
        ObjectNode a = F.objectNode();
        new java.util.TreeMap<>(request).forEach(a::put);
        a.put("io.kubernetes.cri.container-type", type);
        a.put("io.kubernetes.cri.sandbox-id", sandboxId);
        return a;
    }

    static ArrayNode strings(List<String> values) {
        ArrayNode a = F.arrayNode();
        values.forEach(a::add);
        return a;
    }

    /** A mapper for the specs and state files. */
    static final ObjectMapper JSON = new ObjectMapper();
}
