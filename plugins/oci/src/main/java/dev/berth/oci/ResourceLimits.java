package dev.berth.oci;

import dev.berth.spi.LinuxResources;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * CRI's resource limits as the OCI runtime spec's {@code linux.resources} (and {@code runc update}'s input):
 * {@code cpu}, {@code memory}, {@code hugepageLimits} and {@code unified}, in plain maps and lists that any JSON
 * writer turns into the spec's object. Unset values are left out; device rules are the caller's.
 */
public final class ResourceLimits {
    private ResourceLimits() {}

    /** The {@code LinuxResources} object for {@code r}, without {@code devices}; keys in the spec's order. */
    public static Map<String, Object> toOci(LinuxResources r) {
        Map<String, Object> out = new LinkedHashMap<>();
        Map<String, Object> cpu = new LinkedHashMap<>();
        if (r.cpuShares() > 0) {
            cpu.put("shares", r.cpuShares());
        }
        if (r.cpuQuota() != 0) {
            cpu.put("quota", r.cpuQuota());
        }
        if (r.cpuPeriod() > 0) {
            cpu.put("period", r.cpuPeriod());
        }
        if (!r.cpusetCpus().isEmpty()) {
            cpu.put("cpus", r.cpusetCpus());
        }
        if (!r.cpusetMems().isEmpty()) {
            cpu.put("mems", r.cpusetMems());
        }
        if (!cpu.isEmpty()) {
            out.put("cpu", cpu);
        }
        Map<String, Object> mem = new LinkedHashMap<>();
        if (r.memoryLimitBytes() > 0) {
            mem.put("limit", r.memoryLimitBytes());
        }
        if (r.memorySwapLimitBytes() > 0) {
            mem.put("swap", r.memorySwapLimitBytes());
        }
        if (!mem.isEmpty()) {
            out.put("memory", mem);
        }
        if (!r.hugepageLimits().isEmpty()) {
            List<Object> pages = new ArrayList<>();
            new TreeMap<>(r.hugepageLimits()).forEach((size, limit) -> {
                Map<String, Object> h = new LinkedHashMap<>();
                h.put("pageSize", size);
                h.put("limit", limit);
                pages.add(h);
            });
            out.put("hugepageLimits", pages);
        }
        if (!r.unified().isEmpty()) {
            out.put("unified", new TreeMap<>(r.unified()));
        }
        return out;
    }
}
