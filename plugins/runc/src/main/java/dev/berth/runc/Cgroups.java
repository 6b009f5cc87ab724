package dev.berth.runc;

import dev.berth.oci.SmallFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.stream.Stream;

/** The host's cgroup mounts (v1, hybrid or v2) and the few files the backend reads or cleans up. */
final class Cgroups {
    /** A mounted hierarchy: v2 (cgroup2) or a v1 one with its controllers. */
    record Hierarchy(Path mountPoint, boolean v2, List<String> controllers) {}

    private Cgroups() {}

    /** A cgroup mount from /proc/self/mountinfo: where, its file system type and its super options. */
    record CgroupMount(Path mountPoint, String type, List<String> options) {}

    /**
     * How long a reading of the cgroup mounts is used. Every stats reading needs them, and reading
     * /proc/self/mountinfo costs time in proportion to the node's mounts (a few per pod, so a few thousand on a full
     * node) under the kernel's mount lock, which runc's mounts wait for too: read per container, a stats call grew
     * with the square of the pod count. The hierarchies do not change while a node runs; a remount shows within this.
     */
    static final long MOUNTS_TTL_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
    private record MountsReading(long at, List<CgroupMount> mounts, List<Hierarchy> hierarchies) {}
    private static volatile MountsReading mounts;
    /** How often mountinfo was read, for the tests. */
    static final java.util.concurrent.atomic.AtomicLong MOUNTINFO_READS = new java.util.concurrent.atomic.AtomicLong();

    /**
     * The cgroup and cgroup2 mounts of this mount namespace, in mountinfo's order; empty if it cannot be read. A
     * reading is used for {@link #MOUNTS_TTL_NANOS}; one that found nothing is not kept.
     */
    private static List<CgroupMount> cgroupMounts() {
        return reading().mounts();
    }

    private static MountsReading reading() {
        MountsReading r = mounts;
        long now = System.nanoTime();
        if (r != null && now - r.at() < MOUNTS_TTL_NANOS) {
            return r;
        }
        List<CgroupMount> fresh = readCgroupMounts();
        MountsReading reading = new MountsReading(now, fresh, hierarchiesOf(fresh));
        mounts = fresh.isEmpty() ? null : reading;
        return reading;
    }

    private static List<CgroupMount> readCgroupMounts() {
        MOUNTINFO_READS.incrementAndGet();
        try {
            return parseCgroupMounts(SmallFiles.read(Path.of("/proc/self/mountinfo"), 64 << 10));
        } catch (IOException e) {
            return List.of();
        }
    }

    /** The cgroup and cgroup2 mounts in a mountinfo text. */
    static List<CgroupMount> parseCgroupMounts(String text) {
        List<CgroupMount> out = new ArrayList<>();
        // A node has a few mounts per pod and a handful of cgroup ones: only the lines whose file system type (the
        // first field after " - ") starts with "cgroup" are cut out of the text.
        for (int at = 0; at < text.length(); ) {
            int eol = text.indexOf('\n', at);
            int end = eol < 0 ? text.length() : eol;
            int start = at;
            int dash = text.indexOf(" - ", start);
            at = end + 1;
            if (dash < 0 || dash >= end || !text.startsWith("cgroup", dash + 3)) {
                continue;
            }
            String[] pre = text.substring(start, dash).split(" ");
            String[] post = text.substring(dash + 3, end).split(" ");
            if (post.length < 3 || pre.length < 5 || !(post[0].equals("cgroup") || post[0].equals("cgroup2"))) {
                continue;
            }
            out.add(new CgroupMount(Path.of(pre[4]), post[0], List.of(post[2].split(","))));
        }
        return List.copyOf(out);
    }

    /** The mounted hierarchies, from the reading of the mounts in use ({@link #MOUNTS_TTL_NANOS}). */
    static List<Hierarchy> hierarchies() {
        return reading().hierarchies();
    }

    static List<Hierarchy> hierarchiesOf(List<CgroupMount> mounts) {
        List<Hierarchy> out = new ArrayList<>();
        for (CgroupMount m : mounts) {
            if (m.type().equals("cgroup2")) {
                out.add(new Hierarchy(m.mountPoint(), true, List.of()));
            } else {
                List<String> ctrls = new ArrayList<>();
                for (String o : m.options()) {
                    if (!o.equals("rw") && !o.equals("ro") && !o.contains("=") && !o.startsWith("no")
                            && !o.equals("relatime") && !o.equals("clone_children") && !o.equals("xattr")) {
                        ctrls.add(o);
                    }
                }
                out.add(new Hierarchy(m.mountPoint(), false, List.copyOf(ctrls)));
            }
        }
        return List.copyOf(out);
    }

    /**
     * The hierarchy systemd tracks its units in: the v1 {@code name=systemd} one (legacy and hybrid layouts), else
     * the cgroup2 mount; null when neither is mounted.
     */
    static Path systemdHierarchy() {
        Path v2 = null;
        for (CgroupMount m : cgroupMounts()) {
            if (m.type().equals("cgroup") && m.options().contains("name=systemd")) {
                return m.mountPoint();
            }
            if (m.type().equals("cgroup2") && v2 == null) {
                v2 = m.mountPoint();
            }
        }
        return v2;
    }

    /** The only cgroup2 mount is at /sys/fs/cgroup with no v1 hierarchies. */
    static boolean unifiedOnly(List<Hierarchy> hs) {
        return !hs.isEmpty() && hs.stream().allMatch(Hierarchy::v2);
    }

    /** A hybrid host whose cgroup2 mount holds controllers: crun 1.8 refuses to run there. */
    static List<String> hybridV2Controllers(List<Hierarchy> hs) {
        if (unifiedOnly(hs) || hs.stream().noneMatch(Hierarchy::v2)) {
            return List.of();
        }
        Path v2 = hs.stream().filter(Hierarchy::v2).findFirst().orElseThrow().mountPoint();
        try {
            String c = Files.readString(v2.resolve("cgroup.controllers")).strip();
            return c.isEmpty() ? List.of() : List.of(c.split(" "));
        } catch (IOException e) {
            return List.of();
        }
    }

    /** The directory of {@code cgroup} in the hierarchy holding {@code controller} (v1) or in v2. */
    static Path dir(String controller, String cgroup) {
        List<Hierarchy> hs = hierarchies();
        for (Hierarchy h : hs) {
            if (!h.v2() && h.controllers().contains(controller)) {
                return h.mountPoint().resolve(relative(cgroup));
            }
        }
        for (Hierarchy h : hs) {
            if (h.v2()) {
                return h.mountPoint().resolve(relative(cgroup));
            }
        }
        return null;
    }

    /** A cgroup path as a path relative to a hierarchy's mount point: without its leading slashes. */
    static String relative(String cgroup) {
        int i = 0;
        while (i < cgroup.length() && cgroup.charAt(i) == '/') {
            i++;
        }
        return cgroup.substring(i);
    }

    /** A file of one number, or "max" ({@link Long#MAX_VALUE}); empty if it cannot be read or is not one. */
    static OptionalLong readLong(Path file) {
        try {
            String s = SmallFiles.read(file, 32).strip();
            return s.equals("max") ? OptionalLong.of(Long.MAX_VALUE) : OptionalLong.of(Long.parseLong(s));
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /**
     * Several {@code key value} lines of a flat-keyed file such as memory.stat, memory.events or cpu.stat, from one
     * reading of it, in the order of {@code keys}: the first line naming a key decides (empty when its value is not
     * a number); empty for a key the file lacks, all empty when it cannot be read. Lines of other than two fields
     * are skipped. The stats calls read these files for every container, so the lines are scanned in place.
     */
    static OptionalLong[] readKeys(Path file, String... keys) {
        OptionalLong[] out = new OptionalLong[keys.length];
        java.util.Arrays.fill(out, OptionalLong.empty());
        String text;
        try {
            text = SmallFiles.read(file, 2048);
        } catch (IOException e) {
            return out;
        }
        boolean[] seen = new boolean[keys.length];
        int[] left = {keys.length};
        scanKeyValues(text, (t, start, space, end) -> {
            for (int i = 0; i < keys.length; i++) {
                if (!seen[i] && keys[i].length() == space - start && t.startsWith(keys[i], start)) {
                    seen[i] = true;
                    left[0]--;
                    try {
                        out[i] = OptionalLong.of(Long.parseLong(t, space + 1, end, 10));
                    } catch (NumberFormatException e) {
                        // not a number: the key stays empty
                    }
                }
            }
            return left[0] > 0;
        });
        return out;
    }

    /** One {@code key value} line: the key is {@code text[start, space)}, the value {@code text[space + 1, end)}. */
    @FunctionalInterface
    interface KeyValueLine {
        /** Returns whether to go on to the next line. */
        boolean accept(String text, int start, int space, int end);
    }

    /**
     * The lines of two space-separated fields in a flat-keyed file's text (memory.stat, cpu.stat, memory.events), in
     * order, scanned in place; other lines are skipped. Stops when {@code line} returns false.
     */
    static void scanKeyValues(String text, KeyValueLine line) {
        for (int start = 0; start < text.length(); ) {
            int eol = text.indexOf('\n', start);
            int end = eol < 0 ? text.length() : eol;
            int space = text.indexOf(' ', start);
            if (space > start && space < end - 1 && text.indexOf(' ', space + 1, end) < 0
                    && !line.accept(text, start, space, end)) {
                return;
            }
            start = end + 1;
        }
    }

    /** A {@code key value} line of a flat-keyed file ({@link #readKeys} for one key). */
    static OptionalLong readKey(Path file, String key) {
        return readKeys(file, key)[0];
    }

    /** Whether the cgroup saw an OOM kill (v1 memory.oom_control, v2 memory.events). */
    static boolean oomKilled(String cgroup) {
        for (Hierarchy h : hierarchies()) {
            Path d = h.mountPoint().resolve(relative(cgroup));
            if (h.v2()) {
                if (readKey(d.resolve("memory.events"), "oom_kill").orElse(0) > 0) {
                    return true;
                }
            } else if (h.controllers().contains("memory")) {
                if (readKey(d.resolve("memory.oom_control"), "oom_kill").orElse(0) > 0) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Whether {@code cgroup} or a cgroup below it holds a process, as the first hierarchy that has it says (a
     * process is in every hierarchy). False when no hierarchy has it.
     */
    static boolean holdsProcesses(String cgroup) {
        for (Hierarchy h : hierarchies()) {
            Path d = h.mountPoint().resolve(relative(cgroup));
            if (!Files.isDirectory(d)) {
                continue;
            }
            try (Stream<Path> s = Files.walk(d)) {
                return s.filter(p -> p.getFileName().toString().equals("cgroup.procs")).anyMatch(p -> {
                    try {
                        return !SmallFiles.read(p, 64).isBlank();
                    } catch (IOException e) {
                        return false; // removed meanwhile
                    }
                });
            } catch (IOException | java.io.UncheckedIOException e) {
                return true; // changing under the walk: let the caller look closer
            }
        }
        return false;
    }

    /** Removes {@code cgroup} and its children in every hierarchy; empty cgroups only. Returns what is left. */
    static List<Path> remove(String cgroup) {
        List<Path> left = new ArrayList<>();
        for (Hierarchy h : hierarchies()) {
            Path d = h.mountPoint().resolve(relative(cgroup));
            if (!Files.isDirectory(d)) {
                continue;
            }
            for (int attempt = 0; attempt < 50; attempt++) {
                try (Stream<Path> s = Files.walk(d)) {
                    s.filter(Files::isDirectory).sorted(Comparator.reverseOrder()).forEach(p -> {
                        try {
                            Files.delete(p);
                        } catch (IOException ignored) {
                            // busy: processes still exiting; retried below
                        }
                    });
                } catch (IOException | java.io.UncheckedIOException ignored) {
                    // raced with another removal
                }
                if (!Files.exists(d)) {
                    break;
                }
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            if (Files.exists(d)) {
                left.add(d);
            }
        }
        return left;
    }

    /**
     * Creates a pod cgroup that no pause process made: in cgroup v2, and in the v1 hierarchies whose limits
     * {@link #applyPodLimits} writes (memory, cpu). The runtime creates the rest when it makes the first
     * container's cgroup below it. In v2 each level above delegates the cpu, memory and pids controllers, so the
     * pod cgroup has the files its limits go into; a controller a level cannot delegate is left out.
     */
    static void create(String cgroup) throws IOException {
        String rel = relative(cgroup);
        for (Hierarchy h : hierarchies()) {
            if (h.v2()) {
                Path level = h.mountPoint();
                for (Path name : Path.of(rel)) {
                    enableControllers(level);
                    level = level.resolve(name.toString());
                    if (!Files.isDirectory(level)) {
                        Files.createDirectory(level);
                    }
                }
            } else if (h.controllers().contains("memory") || h.controllers().contains("cpu")) {
                Files.createDirectories(h.mountPoint().resolve(rel));
            }
        }
    }

    /**
     * Creates {@code cgroup} in every mounted hierarchy, v1 and v2, as a runtime does for a container's process;
     * returns the directories, for a process to join through their {@code cgroup.procs}.
     */
    static List<Path> createEverywhere(String cgroup) throws IOException {
        String rel = relative(cgroup);
        List<Path> dirs = new ArrayList<>();
        for (Hierarchy h : hierarchies()) {
            Path level = h.mountPoint();
            for (Path name : Path.of(rel)) {
                Path parent = level;
                level = level.resolve(name.toString());
                if (!Files.isDirectory(level)) {
                    Files.createDirectory(level);
                }
                if (!h.v2() && h.controllers().contains("cpuset")) {
                    inheritCpuset(parent, level);
                }
            }
            dirs.add(level);
        }
        return dirs;
    }

    /** A new v1 cpuset cgroup has no cpus or memory nodes, and takes no process until given its parent's. */
    private static void inheritCpuset(Path parent, Path level) throws IOException {
        for (String file : List.of("cpuset.cpus", "cpuset.mems")) {
            if (Files.readString(level.resolve(file)).isBlank()) {
                Files.writeString(level.resolve(file), Files.readString(parent.resolve(file)).strip());
            }
        }
    }

    private static void enableControllers(Path level) {
        List<String> available;
        try {
            available = List.of(Files.readString(level.resolve("cgroup.controllers")).strip().split(" "));
        } catch (IOException e) {
            return; // not readable: nothing to delegate
        }
        for (String c : List.of("cpu", "memory", "pids")) {
            if (available.contains(c)) {
                try {
                    Files.writeString(level.resolve("cgroup.subtree_control"), "+" + c);
                } catch (IOException ignored) {
                    // cannot delegate at this level (it holds processes): that limit is left out
                }
            }
        }
    }

    /** Writes a pod's limits (overhead plus the containers' resources) to the pod cgroup, v1 or v2. */
    static void applyPodLimits(String podCgroup, dev.berth.spi.LinuxResources overhead,
                               dev.berth.spi.LinuxResources res) throws IOException {
        long memory = res.memoryLimitBytes() > 0 ? res.memoryLimitBytes() + overhead.memoryLimitBytes() : 0;
        long shares = res.cpuShares() > 0 ? res.cpuShares() + overhead.cpuShares() : 0;
        long period = res.cpuPeriod() > 0 ? res.cpuPeriod() : 100_000;
        long quota = res.cpuQuota() > 0 ? res.cpuQuota() + Math.max(0, overhead.cpuQuota()) : 0;
        for (Hierarchy h : hierarchies()) {
            Path d = h.mountPoint().resolve(relative(podCgroup));
            if (!Files.isDirectory(d)) {
                continue;
            }
            if (h.v2()) {
                if (memory > 0 && Files.exists(d.resolve("memory.max"))) {
                    write(d.resolve("memory.max"), Long.toString(memory));
                }
                if (quota > 0 && Files.exists(d.resolve("cpu.max"))) {
                    write(d.resolve("cpu.max"), quota + " " + period);
                }
            } else {
                if (memory > 0 && h.controllers().contains("memory")) {
                    write(d.resolve("memory.limit_in_bytes"), Long.toString(memory));
                }
                if (h.controllers().contains("cpu")) {
                    if (shares > 0) {
                        write(d.resolve("cpu.shares"), Long.toString(shares));
                    }
                    if (quota > 0) {
                        write(d.resolve("cpu.cfs_period_us"), Long.toString(period));
                        write(d.resolve("cpu.cfs_quota_us"), Long.toString(quota));
                    }
                }
            }
        }
    }

    /** Writes a limit; the failure names the file and the value beside the kernel's reason. */
    private static void write(Path file, String value) throws IOException {
        try {
            Files.writeString(file, value);
        } catch (IOException e) {
            throw new IOException("cannot write " + value + " to " + file.getFileName() + ": " + e.getMessage(), e);
        }
    }

    /**
     * The container's cgroup in each hierarchy, from its main process: by v1 controller, and "" for v2. The paths
     * differ between hierarchies where berth itself runs in a cgroup of one of them.
     */
    static Map<String, String> ofProcess(long pid) {
        Map<String, String> byController = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "cgroup"))) {
                String[] f = line.split(":", 3);
                if (f.length == 3) {
                    for (String c : f[1].split(",")) {
                        byController.put(c, f[2]);
                    }
                }
            }
        } catch (IOException e) {
            return Map.of();
        }
        return byController;
    }
}
