package dev.berth.runc;

import dev.berth.spi.LinuxResources;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * The swap limit a container's memory cgroup gets. CRI's {@code memory_swap_limit_in_bytes} counts memory and swap
 * together, as OCI's {@code memory.swap} does. Two rules, as containerd's CRI applies them:
 * <ul>
 *   <li>A memory limit without a swap limit gets a swap limit equal to it, so that the container does not swap
 *       unless asked to (the kubelet sends one itself; other clients leave it out). This holds for an update too,
 *       so that raising the memory limit alone raises the swap limit with it rather than finding it below.</li>
 *   <li>Where the host does not account swap in its memory cgroups (cgroup v1 booted with {@code swapaccount=0}, or
 *       a kernel without swap accounting), there is no file to write a swap limit to and the runtime would fail
 *       the container: a swap limit is then left out.</li>
 * </ul>
 */
final class SwapLimits {
    private SwapLimits() {}

    /** Whether this host's memory cgroups account swap; read once. */
    static boolean accounted() {
        return Accounted.VALUE;
    }

    /** {@code r} with the rules above applied; {@code r} itself when they change nothing. */
    static LinuxResources apply(LinuxResources r, boolean accounted) {
        long swap = r.memorySwapLimitBytes();
        if (!accounted) {
            swap = 0;
        } else if (swap == 0 && r.memoryLimitBytes() > 0) {
            swap = r.memoryLimitBytes();
        }
        if (swap == r.memorySwapLimitBytes()) {
            return r;
        }
        return new LinuxResources(r.cpuPeriod(), r.cpuQuota(), r.cpuShares(), r.memoryLimitBytes(), r.oomScoreAdj(),
                r.cpusetCpus(), r.cpusetMems(), r.hugepageLimits(), r.unified(), swap);
    }

    /**
     * Whether the memory cgroups account swap: in v1 the memory hierarchy's root has
     * {@code memory.memsw.limit_in_bytes}; in v2 a cgroup below the root that has the memory controller has
     * {@code memory.swap.max} (the root has neither file).
     */
    static boolean accountedIn(java.util.List<Cgroups.Hierarchy> hierarchies) {
        for (Cgroups.Hierarchy h : hierarchies) {
            if (!h.v2() && h.controllers().contains("memory")) {
                return Files.exists(h.mountPoint().resolve("memory.memsw.limit_in_bytes"));
            }
        }
        for (Cgroups.Hierarchy h : hierarchies) {
            if (h.v2()) {
                try (Stream<Path> children = Files.list(h.mountPoint())) {
                    return children.filter(Files::isDirectory).filter(d -> Files.exists(d.resolve("memory.current")))
                            .anyMatch(d -> Files.exists(d.resolve("memory.swap.max")));
                } catch (IOException e) {
                    return false;
                }
            }
        }
        return false;
    }

    private static final class Accounted {
        static final boolean VALUE = accountedIn(Cgroups.hierarchies());
    }
}
