package dev.berth.runc;

import dev.berth.oci.SmallFiles;
import dev.berth.spi.BundleRunning;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The cgroup readings of a bundle container for the containerd 0.2 API's {@code GetStats}: CPU (total, per CPU,
 * kernel and user, throttling) and memory (usage, maximum, failures, cache and the whole {@code memory.stat}), from
 * the v1 controllers, else from cgroup v2's files.
 */
final class BundleCgroupStats {
    private static final long NANOS_PER_TICK = 10_000_000L; // USER_HZ 100

    private BundleCgroupStats() {}

    /** @param cgroups the container's cgroup by v1 controller, and "" for v2 */
    static BundleRunning.BundleStats read(Map<String, String> cgroups) {
        Instant now = Instant.now();
        if (cgroups.isEmpty()) {
            return new BundleRunning.BundleStats(now, -1, List.of(), -1, -1, -1, -1, -1, -1, -1, -1, -1, Map.of(), -1);
        }
        Path cpuacct = v1("cpuacct", cgroups.get("cpuacct"));
        Path cpu = v1("cpu", cgroups.get("cpu"));
        Path memory = v1("memory", cgroups.get("memory"));
        Path pids = v1("pids", cgroups.get("pids"));
        String unified = cgroups.get("");
        Path v2 = unified == null ? null : Cgroups.hierarchies().stream().filter(Cgroups.Hierarchy::v2).findFirst()
                .map(h -> h.mountPoint().resolve(Cgroups.relative(unified))).orElse(null);
        long total = -1;
        long kernel = -1;
        long user = -1;
        List<Long> perCpu = List.of();
        if (cpuacct != null && Files.isDirectory(cpuacct)) {
            total = Cgroups.readLong(cpuacct.resolve("cpuacct.usage")).orElse(-1);
            perCpu = longs(cpuacct.resolve("cpuacct.usage_percpu"));
            kernel = ticks(Cgroups.readKey(cpuacct.resolve("cpuacct.stat"), "system").orElse(-1));
            user = ticks(Cgroups.readKey(cpuacct.resolve("cpuacct.stat"), "user").orElse(-1));
        } else if (v2 != null && Files.isDirectory(v2)) {
            total = micros(Cgroups.readKey(v2.resolve("cpu.stat"), "usage_usec").orElse(-1));
            kernel = micros(Cgroups.readKey(v2.resolve("cpu.stat"), "system_usec").orElse(-1));
            user = micros(Cgroups.readKey(v2.resolve("cpu.stat"), "user_usec").orElse(-1));
        }
        Path cpuStat = cpu != null && Files.isDirectory(cpu) ? cpu.resolve("cpu.stat")
                : v2 == null ? null : v2.resolve("cpu.stat");
        long periods = cpuStat == null ? -1 : Cgroups.readKey(cpuStat, "nr_periods").orElse(-1);
        long throttled = cpuStat == null ? -1 : Cgroups.readKey(cpuStat, "nr_throttled").orElse(-1);
        long throttledTime = cpuStat == null ? -1 : Cgroups.readKey(cpuStat, "throttled_time")
                .orElse(micros(Cgroups.readKey(cpuStat, "throttled_usec").orElse(-1)));
        long usage = -1;
        long max = -1;
        long failcnt = -1;
        long cache = -1;
        Map<String, Long> stat = Map.of();
        if (memory != null && Files.isDirectory(memory)) {
            usage = Cgroups.readLong(memory.resolve("memory.usage_in_bytes")).orElse(-1);
            max = Cgroups.readLong(memory.resolve("memory.max_usage_in_bytes")).orElse(-1);
            failcnt = Cgroups.readLong(memory.resolve("memory.failcnt")).orElse(-1);
            stat = keyed(memory.resolve("memory.stat"));
            cache = stat.getOrDefault("total_cache", stat.getOrDefault("cache", -1L));
        } else if (v2 != null && Files.isDirectory(v2)) {
            usage = Cgroups.readLong(v2.resolve("memory.current")).orElse(-1);
            max = Cgroups.readLong(v2.resolve("memory.peak")).orElse(-1);
            failcnt = Cgroups.readKey(v2.resolve("memory.events"), "max").orElse(-1);
            stat = keyed(v2.resolve("memory.stat"));
            cache = stat.getOrDefault("file", -1L);
        }
        long procs = pids != null && Files.isDirectory(pids) ? Cgroups.readLong(pids.resolve("pids.current")).orElse(-1)
                : v2 == null ? -1 : Cgroups.readLong(v2.resolve("pids.current")).orElse(-1);
        return new BundleRunning.BundleStats(now, total, perCpu, kernel, user, periods, throttled, throttledTime,
                usage, max, failcnt, cache, stat, procs);
    }

    private static Path v1(String controller, String cgroup) {
        if (cgroup == null) {
            return null;
        }
        for (Cgroups.Hierarchy h : Cgroups.hierarchies()) {
            if (!h.v2() && h.controllers().contains(controller)) {
                return h.mountPoint().resolve(Cgroups.relative(cgroup));
            }
        }
        return null;
    }

    private static long ticks(long t) {
        return t < 0 ? -1 : t * NANOS_PER_TICK;
    }

    private static long micros(long us) {
        return us < 0 ? -1 : us * 1000;
    }

    private static List<Long> longs(Path file) {
        try {
            List<Long> out = new ArrayList<>();
            for (String s : SmallFiles.read(file, 256).strip().split("\\s+")) {
                if (!s.isEmpty()) {
                    out.add(Long.parseLong(s));
                }
            }
            return out;
        } catch (IOException | NumberFormatException e) {
            return List.of();
        }
    }

    /** Every {@code key value} line of a flat-keyed file whose value is a number, in the file's order. */
    static Map<String, Long> keyed(Path file) {
        String text;
        try {
            text = SmallFiles.read(file, 2048);
        } catch (IOException e) {
            return Map.of();
        }
        Map<String, Long> out = new LinkedHashMap<>();
        Cgroups.scanKeyValues(text, (t, start, space, end) -> {
            try {
                out.put(t.substring(start, space), Long.parseLong(t, space + 1, end, 10));
            } catch (NumberFormatException e) {
                // not a counter
            }
            return true;
        });
        return out;
    }
}
