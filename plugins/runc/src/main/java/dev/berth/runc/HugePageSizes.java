package dev.berth.runc;

import dev.berth.spi.BackendException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The huge page sizes a host has, named as the CRI and runc name them ({@code 64KB}, {@code 2MB}, {@code 1GB}), from
 * the kernel's {@code /sys/kernel/mm/hugepages/hugepages-<size>kB} directories. A limit for a size the host lacks has
 * no cgroup file to go to: the runtime would fail the create with its own words.
 */
final class HugePageSizes {
    static final Path SYS = Path.of("/sys/kernel/mm/hugepages");

    private HugePageSizes() {}

    /** This host's sizes, read once: the kernel and the processor fix them at boot. */
    static Set<String> host() {
        return OfHost.SIZES;
    }

    private static final class OfHost {
        static final Set<String> SIZES = Set.copyOf(of(SYS));
    }

    /** The sizes under {@code dir}; none when the kernel has no huge pages. */
    static Set<String> of(Path dir) {
        Set<String> sizes = new TreeSet<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.matches("hugepages-\\d+kB"))
                    .forEach(n -> sizes.add(name(Long.parseLong(n.substring("hugepages-".length(), n.length() - 2)))));
        } catch (IOException e) {
            // no huge pages on this kernel
        }
        return sizes;
    }

    /** A size in KiB as the CRI names it: the largest unit that divides it. */
    static String name(long kib) {
        String[] units = {"KB", "MB", "GB", "TB", "PB"};
        int u = 0;
        while (kib >= 1024 && kib % 1024 == 0 && u < units.length - 1) {
            kib /= 1024;
            u++;
        }
        return kib + units[u];
    }

    /** Refuses, naming it, a limit for a page size not among {@code host}. */
    static void check(String what, Map<String, Long> limits, Set<String> host) {
        for (String size : limits.keySet()) {
            if (!host.contains(size)) {
                throw BackendException.invalid(what + ": hugepage_limits names page size \"" + size
                        + "\", which this host does not have (" + (host.isEmpty() ? "it has no huge pages"
                        : "it has " + String.join(", ", new TreeSet<>(host))) + ")");
            }
        }
    }
}
