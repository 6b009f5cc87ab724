package dev.berth.spi;

import java.util.Map;

/**
 * Linux resource settings, from CRI's {@code LinuxContainerResources}. Zero means "not set" for the numeric
 * fields, exactly as in CRI; {@code oomScoreAdj} is taken as given.
 *
 * @param hugepageLimits page size (e.g. {@code 2MB}) to limit in bytes
 * @param unified cgroup v2 key-value settings, written as-is
 */
public record LinuxResources(
        long cpuPeriod,
        long cpuQuota,
        long cpuShares,
        long memoryLimitBytes,
        long oomScoreAdj,
        String cpusetCpus,
        String cpusetMems,
        Map<String, Long> hugepageLimits,
        Map<String, String> unified,
        long memorySwapLimitBytes) {

    public static final LinuxResources NONE = new LinuxResources(0, 0, 0, 0, 0, "", "", Map.of(), Map.of(), 0);

    public LinuxResources {
        cpusetCpus = Checks.text(cpusetCpus);
        cpusetMems = Checks.text(cpusetMems);
        hugepageLimits = Checks.map(hugepageLimits);
        unified = Checks.map(unified);
        if (cpuPeriod < 0 || cpuShares < 0 || memoryLimitBytes < 0 || memorySwapLimitBytes < 0) {
            throw new IllegalArgumentException("resource values must not be negative");
        }
    }
}
