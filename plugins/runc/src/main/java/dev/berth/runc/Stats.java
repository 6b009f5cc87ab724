package dev.berth.runc;

import dev.berth.oci.SmallFiles;
import dev.berth.spi.PodMetricsSource.ContainerMetrics;
import dev.berth.spi.StatsProvider.Usage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.OptionalLong;

/** CPU and memory usage of a cgroup, from the v1 controllers or the v2 files, whichever hold them. */
final class Stats {
    private Stats() {}

    static Usage read(String cgroup) {
        Instant now = Instant.now();
        if (cgroup == null || cgroup.isEmpty()) {
            return new Usage(now, -1, -1, -1, -1, -1, -1, -1);
        }
        String rel = Cgroups.relative(cgroup);
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
                        OptionalLong[] m = Cgroups.readKeys(d.resolve("memory.stat"), "inactive_file", "anon",
                                "pgfault", "pgmajfault");
                        workingSet = Math.max(0, usage - m[0].orElse(0));
                        rss = m[1].orElse(-1);
                        faults = m[2].orElse(-1);
                        major = m[3].orElse(-1);
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
                    OptionalLong[] m = Cgroups.readKeys(d.resolve("memory.stat"), "total_inactive_file", "total_rss",
                            "total_pgfault", "total_pgmajfault");
                    workingSet = usage < 0 ? -1 : Math.max(0, usage - m[0].orElse(0));
                    rss = m[1].orElse(-1);
                    faults = m[2].orElse(-1);
                    major = m[3].orElse(-1);
                }
                if (h.controllers().contains("pids")) {
                    procs = Cgroups.readLong(d.resolve("pids.current")).orElse(-1);
                }
            }
        }
        return new Usage(now, cpu, workingSet, usage, rss, faults, major, procs);
    }

    /**
     * A container's readings for pod metrics: {@link #read} plus user and system CPU, page cache, and processes
     * ({@code cgroup.procs}) apart from threads (the pids controller's task count, or the {@code tasks} or
     * {@code cgroup.threads} file). Null when the cgroup holds no process (the container exited) or is gone.
     */
    static ContainerMetrics metrics(String id, String cgroup) {
        if (cgroup == null || cgroup.isEmpty()) {
            return null;
        }
        Usage u = read(cgroup);
        String rel = Cgroups.relative(cgroup);
        long user = -1;
        long system = -1;
        long cache = -1;
        long procs = -1;
        long threads = -1;
        for (Cgroups.Hierarchy h : Cgroups.hierarchies()) {
            Path d = h.mountPoint().resolve(rel);
            if (!Files.isDirectory(d)) {
                continue;
            }
            if (h.v2()) {
                if (user < 0) {
                    OptionalLong[] cpu = Cgroups.readKeys(d.resolve("cpu.stat"), "user_usec", "system_usec");
                    user = micros(cpu[0]);
                    system = micros(cpu[1]);
                }
                if (cache < 0 && Files.exists(d.resolve("memory.current"))) {
                    cache = Cgroups.readKey(d.resolve("memory.stat"), "file").orElse(-1);
                }
                if (procs < 0) {
                    procs = lines(d.resolve("cgroup.procs"));
                }
                if (threads < 0) {
                    threads = Cgroups.readLong(d.resolve("pids.current")).orElse(lines(d.resolve("cgroup.threads")));
                }
            } else {
                if (h.controllers().contains("cpuacct")) {
                    user = Cgroups.readLong(d.resolve("cpuacct.usage_user")).orElse(-1);
                    system = Cgroups.readLong(d.resolve("cpuacct.usage_sys")).orElse(-1);
                    if (user < 0 || system < 0) { // kernels before 4.7: USER_HZ ticks
                        OptionalLong[] cpu = Cgroups.readKeys(d.resolve("cpuacct.stat"), "user", "system");
                        user = ticks(cpu[0]);
                        system = ticks(cpu[1]);
                    }
                }
                if (h.controllers().contains("memory")) {
                    cache = Cgroups.readKey(d.resolve("memory.stat"), "total_cache").orElse(-1);
                }
                if (h.controllers().contains("pids")) {
                    threads = Cgroups.readLong(d.resolve("pids.current")).orElse(-1);
                }
                if (procs < 0) {
                    procs = lines(d.resolve("cgroup.procs"));
                }
                if (threads < 0) {
                    threads = lines(d.resolve("tasks"));
                }
            }
        }
        if (procs <= 0) {
            return null;
        }
        Usage withProcesses = new Usage(u.at(), u.cpuUsageCoreNanoSeconds(), u.memoryWorkingSetBytes(),
                u.memoryUsageBytes(), u.memoryRssBytes(), u.pageFaults(), u.majorPageFaults(), procs);
        return new ContainerMetrics(id, withProcesses, user, system, cache, threads);
    }

    private static long micros(OptionalLong us) {
        return us.isPresent() ? us.getAsLong() * 1000 : -1;
    }

    /** USER_HZ is 100 on every Linux architecture berth runs on. */
    private static long ticks(OptionalLong t) {
        return t.isPresent() ? t.getAsLong() * 10_000_000L : -1;
    }

    /** Lines of a cgroup list file (one process or thread id each), or -1 if it cannot be read. */
    static long lines(Path file) {
        String text;
        try {
            text = SmallFiles.read(file, 256);
        } catch (IOException e) {
            return -1;
        }
        long n = 0;
        boolean blank = true;
        for (int i = 0; i < text.length(); i++) {
            char ch = text.charAt(i);
            if (ch == '\n') {
                n += blank ? 0 : 1;
                blank = true;
            } else if (!Character.isWhitespace(ch)) {
                blank = false;
            }
        }
        return n + (blank ? 0 : 1);
    }
}
