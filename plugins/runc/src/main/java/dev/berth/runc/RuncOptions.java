package dev.berth.runc;

import dev.berth.spi.BackendException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A handler's options, validated. Programs are given as a name looked up on {@code PATH} or as a path; a
 * program that cannot be found is not an option error (the host may get it later) but {@code health()} says so.
 *
 * @param binary the OCI runtime (runc or crun), resolved to a path when found
 * @param root the runtime's state root ({@code --root})
 * @param systemdCgroup use the systemd cgroup driver
 * @param conmon the conmon program, resolved to a path when found
 * @param pauseImage the sandbox image this handler wants, if set
 * @param noPivot pass {@code --no-pivot} to the runtime's create
 * @param dropInfraContainer run pods without a pause container where none is needed (their namespaces pinned
 *     instead, a pod-wide pid namespace kept by {@code pause_process}); only pods without a pinned network
 *     namespace keep one
 * @param logJoiner {@code berth-logjoin}, which joins the partial records conmon writes into whole lines
 *     before they reach a container's log file; empty ({@code log_joiner = "none"}, or no copy found) lets
 *     conmon write the file itself
 * @param pauseProcess {@code berth-pause}, the init of the pid namespace of a pod without a pause container whose
 *     containers share one; empty ({@code pause_process = "none"}, or no copy found) gives such pods a pause
 *     container
 * @param runtimeArgs global flags for every call of the runtime, berth's own and conmon's ({@code runtime_args},
 *     and for runsc the flags its {@code platform}, {@code network} and {@code debug_log} options stand for, and
 *     {@code --oci-seccomp} unless runtime_args say otherwise)
 * @param privilegedWithoutHostDevices a privileged container gets only the devices it asks for, not all of the
 *     host's ({@code privileged_without_host_devices}, containerd's name; on by default for runsc, whose sandbox
 *     kernel does not pass host devices through)
 */
public record RuncOptions(Path binary, Path root, boolean systemdCgroup, Path conmon, Optional<String> pauseImage,
                          boolean noPivot, boolean dropInfraContainer, Optional<Path> logJoiner,
                          Optional<Path> pauseProcess, List<String> runtimeArgs, boolean privilegedWithoutHostDevices) {

    static final Set<String> KEYS = Set.of("binary", "root", "systemd_cgroup", "conmon", "pause_image", "no_pivot",
            "drop_infra_container", "log_joiner", "pause_process", "runtime_args", "platform", "network",
            "debug_log", "privileged_without_host_devices");
    /** The options only gVisor's runsc understands: its global flags {@code --platform}, {@code --network}, {@code --debug-log}. */
    static final Set<String> RUNSC_KEYS = Set.of("platform", "network", "debug_log");
    /** runsc's network modes: its own netstack in the sandbox, the host kernel's stack (hostinet), or loopback only. */
    static final Set<String> RUNSC_NETWORKS = Set.of("sandbox", "host", "none");

    public RuncOptions {
        runtimeArgs = List.copyOf(runtimeArgs);
    }

    /** Validates a handler's options table; unknown keys and wrong types are INVALID_ARGUMENT naming the key. */
    public static RuncOptions parse(String handler, Map<String, Object> options, Path stateDir) {
        Map<String, Object> o = options == null ? Map.of() : new LinkedHashMap<>(options);
        for (String key : o.keySet()) {
            if (!KEYS.contains(key)) {
                throw BackendException.invalid("invalid option \"" + key + "\" for runtime handler \"" + handler
                        + "\": unknown key (known: binary, conmon, debug_log, drop_infra_container, log_joiner, network, "
                        + "no_pivot, pause_image, pause_process, platform, privileged_without_host_devices, root, "
                        + "runtime_args, systemd_cgroup)");
            }
        }
        String binary = string(handler, o, "binary", "runc");
        String conmon = string(handler, o, "conmon", "conmon");
        String root = string(handler, o, "root", "");
        if (!root.isEmpty() && !root.startsWith("/")) {
            throw BackendException.invalid("invalid option \"root\" for runtime handler \"" + handler
                    + "\": must be an absolute path, got \"" + root + "\"");
        }
        String pause = string(handler, o, "pause_image", "");
        String joiner = string(handler, o, "log_joiner", "");
        String pauseProcess = string(handler, o, "pause_process", "");
        Path program = resolveProgram(binary);
        boolean runsc = isRunsc(program);
        List<String> args = new ArrayList<>();
        for (String key : List.of("platform", "network", "debug_log")) {
            if (!o.containsKey(key)) {
                continue;
            }
            String v = string(handler, o, key, "");
            if (!runsc) {
                throw BackendException.invalid("invalid option \"" + key + "\" for runtime handler \"" + handler
                        + "\": only runsc (gVisor) has it, and the binary is " + program.getFileName());
            }
            switch (key) {
                case "platform" -> args.add("--platform=" + v);
                case "network" -> {
                    if (!RUNSC_NETWORKS.contains(v)) {
                        throw BackendException.invalid("invalid option \"network\" for runtime handler \"" + handler
                                + "\": expected \"sandbox\", \"host\" or \"none\", got \"" + v + "\"");
                    }
                    args.add("--network=" + v);
                }
                default -> {
                    if (!v.startsWith("/")) {
                        throw BackendException.invalid("invalid option \"debug_log\" for runtime handler \""
                                + handler + "\": must be an absolute path, got \"" + v + "\"");
                    }
                    args.add("--debug");
                    args.add("--debug-log=" + v);
                }
            }
        }
        args.addAll(strings(handler, o, "runtime_args"));
        if (runsc && args.stream().noneMatch(a -> a.startsWith("--oci-seccomp"))) {
            // runsc ignores the spec's seccomp profile unless asked: CRI's RuntimeDefault and Localhost profiles
            // must apply ("--oci-seccomp=false" in runtime_args turns this off).
            args.add("--oci-seccomp");
        }
        boolean dropInfra = bool(handler, o, "drop_infra_container", !runsc);
        if (runsc && dropInfra) {
            throw BackendException.invalid("invalid option \"drop_infra_container\" for runtime handler \"" + handler
                    + "\": runsc needs a pause container: it is the pod's gVisor sandbox, which the other containers "
                    + "join");
        }
        return new RuncOptions(
                program,
                root.isEmpty() ? stateDir.resolve("runtime") : Path.of(root),
                bool(handler, o, "systemd_cgroup", false),
                resolveProgram(conmon),
                pause.isEmpty() ? Optional.empty() : Optional.of(pause),
                bool(handler, o, "no_pivot", false),
                dropInfra,
                helper(joiner, LogJoiner.PROGRAM),
                helper(pauseProcess, PauseProcess.PROGRAM),
                args,
                bool(handler, o, "privileged_without_host_devices", runsc));
    }

    /** A helper program as configured ({@code none} turns it off), else the plugin's own copy, else one on PATH. */
    private static Optional<Path> helper(String configured, String name) {
        if (configured.equals("none")) {
            return Optional.empty();
        }
        if (!configured.isEmpty()) {
            return Optional.of(resolveProgram(configured));
        }
        return Programs.bundled(name).or(() -> Optional.of(resolveProgram(name)).filter(Path::isAbsolute));
    }

    /** The runtime's short name, e.g. {@code runc} or {@code crun}, from the binary's file name. */
    public String runtimeName() {
        return binary.getFileName().toString();
    }

    /** Whether the runtime is gVisor's runsc: one sandbox per pod, which the pod's containers join. */
    public boolean runsc() {
        return isRunsc(binary);
    }

    private static boolean isRunsc(Path binary) {
        return binary.getFileName().toString().startsWith("runsc");
    }

    /** The value of a {@code --name=value} global flag among the runtime args, if given. */
    Optional<String> runtimeFlag(String name) {
        String prefix = "--" + name + "=";
        return runtimeArgs.stream().filter(a -> a.startsWith(prefix)).map(a -> a.substring(prefix.length()))
                .reduce((first, last) -> last);
    }

    private static List<String> strings(String handler, Map<String, Object> o, String key) {
        Object v = o.get(key);
        if (v == null) {
            return List.of();
        }
        if (v instanceof List<?> l && l.stream().allMatch(e -> e instanceof String s && s.startsWith("-")
                && s.length() > 1)) {
            return l.stream().map(String.class::cast).toList();
        }
        throw BackendException.invalid("invalid option \"" + key + "\" for runtime handler \"" + handler
                + "\": expected a list of flags, each with its value in one string (\"--flag=value\"), got "
                + describe(v));
    }

    private static String string(String handler, Map<String, Object> o, String key, String fallback) {
        Object v = o.get(key);
        if (v == null) {
            return fallback;
        }
        if (!(v instanceof String s) || s.isBlank()) {
            throw BackendException.invalid("invalid option \"" + key + "\" for runtime handler \"" + handler
                    + "\": expected a non-empty string, got " + describe(v));
        }
        return s;
    }

    private static boolean bool(String handler, Map<String, Object> o, String key, boolean fallback) {
        Object v = o.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        throw BackendException.invalid("invalid option \"" + key + "\" for runtime handler \"" + handler
                + "\": expected true or false, got " + describe(v));
    }

    private static String describe(Object v) {
        return v instanceof String s ? "\"" + s + "\"" : String.valueOf(v);
    }

    /** A name with a slash is a path; otherwise the first executable match on PATH, or the name as given. */
    static Path resolveProgram(String name) {
        if (name.contains("/")) {
            return Path.of(name);
        }
        String path = System.getenv().getOrDefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        for (String dir : (path + ":/usr/sbin:/sbin").split(":")) {
            if (dir.isEmpty()) {
                continue;
            }
            Path p = Path.of(dir, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return p;
            }
        }
        return Path.of(name);
    }
}
