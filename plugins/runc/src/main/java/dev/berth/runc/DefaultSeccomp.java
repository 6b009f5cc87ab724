package dev.berth.runc;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * berth's {@code RuntimeDefault} seccomp profile: every system call is allowed except those that reach outside
 * the container (kernel modules, kexec, clocks, mounts and namespaces, tracing other processes, keyrings, BPF,
 * swap, quotas, legacy and obsolete calls). Calls guarded by a capability are allowed again when the container
 * holds that capability, as Docker's and containerd's default profiles do.
 *
 * <p>This is a deny-list, so it is looser than containerd's allow-list profile: a system call added to a future
 * kernel is allowed here until it is listed. It blocks with {@code EPERM}.
 */
final class DefaultSeccomp {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

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

    private DefaultSeccomp() {}

    /** The profile for a container holding {@code capabilities}, in OCI runtime-spec form. */
    static ObjectNode profile(Collection<String> capabilities) {
        List<String> blocked = new ArrayList<>();
        BLOCKED.forEach((cap, calls) -> {
            if (cap.isEmpty() || !capabilities.contains(cap)) {
                blocked.addAll(calls);
            }
        });
        blocked.sort(null);
        ObjectNode p = F.objectNode();
        p.put("defaultAction", "SCMP_ACT_ALLOW");
        ArrayNode arches = p.putArray("architectures");
        List.of("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32").forEach(arches::add);
        ObjectNode rule = p.putArray("syscalls").addObject();
        ArrayNode names = rule.putArray("names");
        blocked.forEach(names::add);
        rule.put("action", "SCMP_ACT_ERRNO");
        rule.put("errnoRet", 1);
        return p;
    }
}
