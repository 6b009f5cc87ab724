package dev.berth.oci;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Seccomp profiles in OCI runtime-spec form ({@code linux.seccomp}), as plain maps and lists that any JSON writer
 * can serialise.
 *
 * <p>{@link #runtimeDefault} is berth's {@code RuntimeDefault}: every system call is allowed except those that
 * reach outside the container (kernel modules, kexec, clocks, mounts and namespaces, tracing other processes,
 * keyrings, BPF, swap, quotas, legacy and obsolete calls). Calls guarded by a capability are allowed again when
 * the container holds that capability, as Docker's and containerd's default profiles do. It is a deny-list, so it
 * is looser than containerd's allow-list profile: a system call added to a future kernel is allowed here until it
 * is listed. It blocks with {@code EPERM}.
 */
public final class SeccompProfiles {
    /** Calls blocked unless the container holds the capability they are keyed by ("" = always blocked). */
    private static final Map<String, List<String>> BLOCKED = Map.of(
            "", List.of("add_key", "request_key", "keyctl", "lookup_dcookie", "nfsservctl", "uselib", "ustat",
                    "sysfs", "_sysctl", "vm86", "vm86old", "userfaultfd", "get_kernel_syms", "query_module",
                    "create_module", "move_pages", "mbind", "set_mempolicy", "get_mempolicy"),
            "CAP_SYS_MODULE", List.of("init_module", "finit_module", "delete_module"),
            "CAP_SYS_BOOT", List.of("reboot", "kexec_load", "kexec_file_load"),
            "CAP_SYS_TIME", List.of("settimeofday", "stime", "clock_settime", "clock_adjtime", "adjtimex"),
            "CAP_SYS_RAWIO", List.of("ioperm", "iopl"),
            "CAP_SYS_PACCT", List.of("acct"),
            "CAP_SYS_PTRACE", List.of("ptrace", "process_vm_readv", "process_vm_writev", "kcmp"),
            "CAP_DAC_READ_SEARCH", List.of("open_by_handle_at", "name_to_handle_at"),
            "CAP_SYS_ADMIN", List.of("mount", "umount", "umount2", "unshare", "setns", "pivot_root", "quotactl",
                    "swapon", "swapoff", "fanotify_init", "bpf", "perf_event_open", "fsopen", "fsconfig",
                    "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr"));

    /** The actions and argument operators the OCI runtime spec defines; runtimes refuse any other. */
    private static final Set<String> ACTIONS = Set.of("SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
            "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_NOTIFY");
    private static final Set<String> OPERATORS = Set.of("SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ",
            "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ");

    private SeccompProfiles() {}

    /** berth's RuntimeDefault profile for a container holding {@code capabilities}. */
    public static Map<String, Object> runtimeDefault(Collection<String> capabilities) {
        List<String> blocked = new ArrayList<>();
        BLOCKED.forEach((cap, calls) -> {
            if (cap.isEmpty() || !capabilities.contains(cap)) {
                blocked.addAll(calls);
            }
        });
        blocked.sort(null);
        Map<String, Object> rule = new LinkedHashMap<>();
        rule.put("names", List.copyOf(blocked));
        rule.put("action", "SCMP_ACT_ERRNO");
        rule.put("errnoRet", 1);
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("defaultAction", "SCMP_ACT_ALLOW");
        p.put("architectures", List.of("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"));
        p.put("syscalls", List.of(rule));
        return p;
    }

    /**
     * A {@code Localhost} profile (OCI form, or Docker's with {@code archMap} and single {@code name}s) as OCI wants
     * it: only the fields OCI knows. Throws {@link IllegalArgumentException} naming what is wrong.
     */
    public static Map<String, Object> fromProfile(Object parsed) {
        if (!(parsed instanceof Map<?, ?> profile) || profile.get("defaultAction") == null) {
            throw new IllegalArgumentException("the seccomp profile has no defaultAction");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("defaultAction", action(profile.get("defaultAction"), "defaultAction"));
        for (String f : List.of("defaultErrnoRet", "flags", "listenerPath", "listenerMetadata")) {
            if (profile.containsKey(f)) {
                out.put(f, profile.get(f));
            }
        }
        if (profile.containsKey("architectures")) {
            out.put("architectures", profile.get("architectures"));
        } else if (profile.get("archMap") instanceof List<?> archMap) {
            List<Object> arches = new ArrayList<>();
            for (Object a : archMap) {
                if (a instanceof Map<?, ?> m) {
                    arches.add(String.valueOf(m.get("architecture")));
                    if (m.get("subArchitectures") instanceof List<?> subs) {
                        arches.addAll(subs);
                    }
                }
            }
            out.put("architectures", arches);
        }
        if (profile.get("syscalls") instanceof List<?> syscalls) {
            List<Object> rules = new ArrayList<>();
            for (Object o : syscalls) {
                if (!(o instanceof Map<?, ?> s)) {
                    throw new IllegalArgumentException("a seccomp syscalls entry is not an object");
                }
                Map<String, Object> c = new LinkedHashMap<>();
                if (s.containsKey("names")) {
                    c.put("names", s.get("names"));
                } else if (s.containsKey("name")) {
                    c.put("names", List.of(String.valueOf(s.get("name"))));
                }
                c.put("action", action(s.get("action"), "the action of syscalls " + c.get("names")));
                if (s.get("args") instanceof List<?> args) {
                    for (Object a : args) {
                        if (a instanceof Map<?, ?> arg && !OPERATORS.contains(String.valueOf(arg.get("op")))) {
                            throw new IllegalArgumentException("the argument operator \"" + arg.get("op")
                                    + "\" of syscalls " + c.get("names") + " is not one of " + new TreeSet<>(OPERATORS));
                        }
                    }
                }
                for (String f : List.of("errnoRet", "args")) {
                    if (s.containsKey(f)) {
                        c.put(f, s.get(f));
                    }
                }
                rules.add(c);
            }
            out.put("syscalls", rules);
        }
        return out;
    }

    /** {@code value} when it is an action the OCI runtime spec defines; else what is wrong, naming {@code what}. */
    private static String action(Object value, String what) {
        String a = String.valueOf(value);
        if (!ACTIONS.contains(a)) {
            throw new IllegalArgumentException(what + " \"" + a + "\" is not one of " + new TreeSet<>(ACTIONS));
        }
        return a;
    }
}
