package dev.berth.runc;

import dev.berth.spi.StatsProvider.Usage;
import java.nio.file.Path;
import java.time.Instant;

/** CPU and memory usage of a cgroup, from the v1 controllers or the v2 files, whichever hold them. */
final class Stats {
    private Stats() {}

    static Usage read(String cgroup) {
        Instant now = Instant.now();
        if (cgroup == null || cgroup.isEmpty()) {
            return new Usage(now, -1, -1, -1, -1, -1, -1, -1);
        }
        String rel = cgroup.replaceFirst("^/+", "");
        long cpu = -1;
        long usage = -1;
        long workingSet = -1;
        long rss = -1;
        long faults = -1;
        long major = -1;
        long procs = -1;
        for (Cgroups.Hierarchy h : Cgroups.hierarchies()) {
            Path d = h.mountPoint().resolve(rel);
            if (h.v2()) {
                if (cpu < 0) {
                    long us = Cgroups.readKey(d.resolve("cpu.stat"), "usage_usec").orElse(-1);
                    cpu = us < 0 ? -1 : us * 1000;
                }
                if (usage < 0) {
                    usage = Cgroups.readLong(d.resolve("memory.current")).orElse(-1);
                    if (usage >= 0) {
                        Path stat = d.resolve("memory.stat");
                        long inactive = Cgroups.readKey(stat, "inactive_file").orElse(0);
                        workingSet = Math.max(0, usage - inactive);
                        rss = Cgroups.readKey(stat, "anon").orElse(-1);
                        faults = Cgroups.readKey(stat, "pgfault").orElse(-1);
                        major = Cgroups.readKey(stat, "pgmajfault").orElse(-1);
                    }
                }
                if (procs < 0) {
                    procs = Cgroups.readLong(d.resolve("pids.current")).orElse(-1);
                }
            } else {
                if (h.controllers().contains("cpuacct")) {
                    cpu = Cgroups.readLong(d.resolve("cpuacct.usage")).orElse(-1);
                }
                if (h.controllers().contains("memory")) {
                    usage = Cgroups.readLong(d.resolve("memory.usage_in_bytes")).orElse(-1);
                    Path stat = d.resolve("memory.stat");
                    long inactive = Cgroups.readKey(stat, "total_inactive_file").orElse(0);
                    workingSet = usage < 0 ? -1 : Math.max(0, usage - inactive);
                    rss = Cgroups.readKey(stat, "total_rss").orElse(-1);
                    faults = Cgroups.readKey(stat, "total_pgfault").orElse(-1);
                    major = Cgroups.readKey(stat, "total_pgmajfault").orElse(-1);
                }
                if (h.controllers().contains("pids")) {
                    procs = Cgroups.readLong(d.resolve("pids.current")).orElse(-1);
                }
            }
        }
        return new Usage(now, cpu, workingSet, usage, rss, faults, major, procs);
    }
}
