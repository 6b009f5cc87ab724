package dev.berth.core.mapping;

import dev.berth.cri.v1.HugepageLimit;
import dev.berth.cri.v1.LinuxContainerResources;
import dev.berth.spi.BackendException;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What a request's Linux resources must be on any Linux node, checked before a backend sees them, so that a value
 * no kernel takes is refused as INVALID_ARGUMENT naming the field and the value rather than failing in the OCI
 * runtime or a cgroup write. Zero means "not set" for the numbers, as in CRI. What depends on the node (which CPUs
 * and memory nodes exist, which huge page sizes, cgroup v1 or v2, the current memory use) is the backend's to say.
 * <ul>
 *   <li>{@code cpu_period}: 1000 to 1000000 µs, the CFS period's limits;</li>
 *   <li>{@code cpu_quota}: -1 (no limit) or at least 1000 µs, the CFS quota's minimum;</li>
 *   <li>{@code cpu_shares}: 2 to 262144, the smallest and largest shares cgroup v1 has (cgroup v2's weights 1 and
 *       10000); the kernel would write 1 as 2, which runc reports as a failure;</li>
 *   <li>{@code oom_score_adj}: -1000 to 1000;</li>
 *   <li>{@code memory_swap_limit_in_bytes}: memory and swap together, so not below {@code memory_limit_in_bytes};</li>
 *   <li>{@code cpuset_cpus}, {@code cpuset_mems}: the kernel's list format, e.g. {@code 0-3,6}, each range
 *       ascending;</li>
 *   <li>{@code hugepage_limits}: a page size such as {@code 2MB} or {@code 1GB}, a limit below 2<sup>63</sup>;</li>
 *   <li>{@code unified}: cgroup v2 file names, {@code <controller>.<setting>}, nothing that could name a path.</li>
 * </ul>
 */
final class ResourceRules {
    static final long MIN_CFS_PERIOD = 1_000;
    static final long MAX_CFS_PERIOD = 1_000_000;
    static final long MIN_CFS_QUOTA = 1_000;
    static final long MIN_CPU_SHARES = 2;
    static final long MAX_CPU_SHARES = 262_144;

    private static final Pattern CPU_LIST = Pattern.compile("\\d{1,6}(-\\d{1,6})?(,\\d{1,6}(-\\d{1,6})?)*");
    private static final Pattern PAGE_SIZE = Pattern.compile("[1-9][0-9]{0,5}(KB|MB|GB|TB|PB)");
    private static final Pattern UNIFIED_KEY = Pattern.compile("[a-z][a-z_]*\\.[A-Za-z0-9_]+([.-][A-Za-z0-9_]+)*");

    private ResourceRules() {}

    /** INVALID_ARGUMENT naming {@code field + "." + name} and the value for the first rule {@code r} breaks. */
    static void check(LinuxContainerResources r, String field) {
        long period = r.getCpuPeriod();
        if (period != 0 && (period < MIN_CFS_PERIOD || period > MAX_CFS_PERIOD)) {
            throw bad(field, "cpu_period", Long.toString(period), "it must be 0 (not set) or " + MIN_CFS_PERIOD
                    + " to " + MAX_CFS_PERIOD + " microseconds");
        }
        long quota = r.getCpuQuota();
        if (quota != 0 && quota != -1 && quota < MIN_CFS_QUOTA) {
            throw bad(field, "cpu_quota", Long.toString(quota), "it must be 0 (not set), -1 (no limit) or at least "
                    + MIN_CFS_QUOTA + " microseconds");
        }
        if (r.getCpuShares() > MAX_CPU_SHARES) {
            throw bad(field, "cpu_shares", Long.toString(r.getCpuShares()), "the most is " + MAX_CPU_SHARES);
        }
        if (r.getCpuShares() == 1) {
            throw bad(field, "cpu_shares", "1", "it must be 0 (not set) or " + MIN_CPU_SHARES + " to "
                    + MAX_CPU_SHARES);
        }
        long oom = r.getOomScoreAdj();
        if (oom < -1000 || oom > 1000) {
            throw bad(field, "oom_score_adj", Long.toString(oom), "it must be -1000 to 1000");
        }
        long memory = r.getMemoryLimitInBytes();
        long swap = r.getMemorySwapLimitInBytes();
        if (memory > 0 && swap > 0 && swap < memory) {
            throw bad(field, "memory_swap_limit_in_bytes", Long.toString(swap), "it counts memory and swap together, "
                    + "so it must not be below memory_limit_in_bytes (" + memory + ")");
        }
        cpuList(r.getCpusetCpus(), field, "cpuset_cpus");
        cpuList(r.getCpusetMems(), field, "cpuset_mems");
        for (int i = 0; i < r.getHugepageLimitsCount(); i++) {
            HugepageLimit h = r.getHugepageLimits(i);
            String at = "hugepage_limits[" + i + "]";
            if (!PAGE_SIZE.matcher(h.getPageSize()).matches()) {
                throw bad(field, at + ".page_size", quoted(h.getPageSize()), "it must be a size such as 2MB or 1GB");
            }
            if (h.getLimit() < 0) {
                throw bad(field, at + ".limit", Long.toUnsignedString(h.getLimit()), "the most is " + Long.MAX_VALUE);
            }
        }
        for (Map.Entry<String, String> e : r.getUnifiedMap().entrySet()) {
            if (!UNIFIED_KEY.matcher(e.getKey()).matches()) {
                throw bad(field, "unified", "key " + quoted(e.getKey()), "a key is a cgroup v2 file name such as "
                        + "memory.high: <controller>.<setting>");
            }
        }
    }

    private static void cpuList(String list, String field, String name) {
        if (list.isEmpty()) {
            return;
        }
        boolean ok = CPU_LIST.matcher(list).matches();
        if (ok) {
            for (String range : list.split(",")) {
                int dash = range.indexOf('-');
                if (dash > 0 && Integer.parseInt(range.substring(0, dash)) > Integer.parseInt(range.substring(dash + 1))) {
                    ok = false;
                }
            }
        }
        if (!ok) {
            throw bad(field, name, quoted(list), "it must be a list of numbers and ascending ranges such as 0-3,6");
        }
    }

    private static String quoted(String s) {
        String shown = s.length() > 80 ? s.substring(0, 80) + "..." : s;
        StringBuilder sb = new StringBuilder("\"");
        shown.codePoints().forEach(cp -> sb.append(Character.isISOControl(cp) ? String.format("\\u%04x", cp)
                : Character.toString(cp)));
        return sb.append('"').toString();
    }

    private static BackendException bad(String field, String name, String value, String rule) {
        return BackendException.invalid((field.isEmpty() ? "" : field + ".") + name + " " + value
                + " is not valid: " + rule);
    }
}
