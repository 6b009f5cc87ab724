package dev.berth.runc;

import dev.berth.spi.BackendException;
import dev.berth.spi.NamespaceMode;
import dev.berth.spi.Namespaces;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which sysctls a pod may set: only those that belong to a namespace of the pod's own, so that a pod can never
 * change a setting of the node. The same rule as runc's: {@code net.*} in a network namespace that is not the
 * host's, the IPC settings in a private IPC namespace, the domain name in a private UTS namespace (the host name
 * is the pod's hostname field's, and a sysctl for it is refused, as runc refuses it beside the spec's hostname).
 * Anything else is INVALID_ARGUMENT, naming the sysctl, before anything is created.
 */
final class PodSysctls {
    private static final Set<String> IPC = Set.of("kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
            "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced");
    private static final Set<String> UTS = Set.of("kernel.hostname", "kernel.domainname");
    /** One segment of a sysctl's path under /proc/sys, such as {@code ipv4} or {@code eth0.100}. */
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_:.-]+");
    private static final Path PROC_SYS = Path.of("/proc/sys");

    private PodSysctls() {}

    /** Checks every sysctl of a pod with namespaces {@code ns}; throws INVALID_ARGUMENT for the first bad one. */
    static void validate(String sandboxId, Map<String, String> sysctls, Namespaces ns) {
        for (var e : new java.util.TreeMap<>(sysctls).entrySet()) {
            String key = e.getKey();
            String why = null;
            if (!wellFormed(key)) {
                why = "is not a sysctl name";
            } else if (e.getValue().indexOf('\n') >= 0 || e.getValue().indexOf('\0') >= 0) {
                why = "has a value with a line break or a NUL";
            } else if (key.startsWith("net.")) {
                why = ns.network() == NamespaceMode.NODE ? "is not allowed with host networking" : null;
            } else if (IPC.contains(key) || key.startsWith("fs.mqueue.")) {
                why = ns.ipc() == NamespaceMode.NODE ? "is not allowed with the host's IPC namespace" : null;
            } else if (key.equals("kernel.hostname")) {
                // as runc refuses it beside the spec's hostname, which a pod always has
                why = "conflicts with the pod's hostname, which sets it (the pod's hostname field)";
            } else if (UTS.contains(key)) {
                why = ns.network() == NamespaceMode.NODE ? "is not allowed with host networking (the pod uses the "
                        + "host's UTS namespace)" : null;
            } else {
                why = "is not in a namespace of the pod's own, so setting it would change the node";
            }
            if (why != null) {
                throw BackendException.invalid("failed to create sandbox \"" + sandboxId + "\": sysctl \"" + key
                        + "\" " + why);
            }
        }
    }

    /** Dot-separated segments, each (with '/' read as '.') a plain file name: never empty, "." or "..". */
    private static boolean wellFormed(String key) {
        String[] segments = key.split("\\.", -1);
        if (segments.length < 2) {
            return false;
        }
        for (String s : segments) {
            String segment = s.replace('/', '.');
            if (!SEGMENT.matcher(segment).matches() || segment.equals(".") || segment.equals("..")) {
                return false;
            }
        }
        return true;
    }

    /**
     * The /proc/sys file of a sysctl name. In a name a '/' stands for a '.' inside one path segment (an
     * interface like {@code eth0.100}), as the kubelet writes them, so '.' and '/' swap.
     */
    static Path file(String key) {
        StringBuilder b = new StringBuilder(key.length());
        for (char c : key.toCharArray()) {
            b.append(c == '.' ? '/' : c == '/' ? '.' : c);
        }
        Path p = PROC_SYS.resolve(b.toString()).normalize();
        if (!p.startsWith(PROC_SYS) || p.equals(PROC_SYS)) {
            throw BackendException.invalid("sysctl \"" + key + "\" is not a sysctl name");
        }
        return p;
    }
}
