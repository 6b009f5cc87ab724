package dev.berth.oci;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which Linux capabilities a container gets: containerd's default set, every capability for privileged containers,
 * CRI's add and drop lists (with "ALL"), never more than the runtime itself may grant.
 */
public final class Capabilities {
    /** The capabilities a non-privileged container gets unless it adds or drops some (containerd's set). */
    public static final List<String> DEFAULT = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER",
            "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
            "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE");

    /** Every capability Linux 5.9+ knows, in bit order, for privileged containers and for "ALL". */
    public static final List<String> ALL = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH",
            "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
            "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
            "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
            "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
            "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
            "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
            "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE");

    private Capabilities() {}

    /**
     * The container's capabilities: every one when privileged, else the defaults with {@code add} and {@code drop}
     * applied ("ALL" in either means every capability; names with or without {@code CAP_}, any case), then
     * limited to {@code grantable} unless that is null. Asking runc for a capability outside its own bounding
     * set fails the whole create ("unable to apply caps"), so a runtime that lacks some passes its set here.
     */
    public static List<String> resolve(boolean privileged, List<String> add, List<String> drop,
                                       Set<String> grantable) {
        Set<String> caps;
        if (privileged) {
            caps = new LinkedHashSet<>(ALL);
        } else {
            Set<String> adds = normalise(add);
            Set<String> drops = normalise(drop);
            caps = new LinkedHashSet<>(DEFAULT);
            if (adds.contains("CAP_ALL")) {
                caps.addAll(ALL);
            }
            if (drops.contains("CAP_ALL")) {
                caps.clear();
            }
            for (String c : adds) {
                if (!c.equals("CAP_ALL")) {
                    caps.add(c);
                }
            }
            caps.removeAll(drops);
        }
        if (grantable != null) {
            caps.retainAll(grantable);
        }
        return List.copyOf(caps);
    }

    private static Set<String> normalise(List<String> caps) {
        Set<String> out = new LinkedHashSet<>();
        for (String c : caps) {
            String u = c.trim().toUpperCase(Locale.ROOT);
            out.add(u.startsWith("CAP_") ? u : "CAP_" + u);
        }
        return out;
    }

    /** The capabilities in this process's bounding set, from /proc/self/status; null when unreadable. */
    public static Set<String> boundingSet() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapBnd:")) {
                    return fromMask(Long.parseUnsignedLong(line.substring(7).strip(), 16));
                }
            }
        } catch (IOException | NumberFormatException e) {
            return null;
        }
        return null;
    }

    /** The names of the capabilities whose bits are set in {@code mask} (bit i is {@code ALL[i]}). */
    public static Set<String> fromMask(long mask) {
        Set<String> out = new LinkedHashSet<>();
        for (int i = 0; i < ALL.size(); i++) {
            if ((mask & (1L << i)) != 0) {
                out.add(ALL.get(i));
            }
        }
        return Set.copyOf(out);
    }
}
