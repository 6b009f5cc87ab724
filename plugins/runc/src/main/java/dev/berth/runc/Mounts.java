package dev.berth.runc;

import dev.berth.oci.FileTrees;
import dev.berth.oci.Libc;
import dev.berth.spi.MountSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Mounts a container's root file system and the pod's tmpfs with mount(2), and takes them down again with
 * umount2(2). Calling the system directly, not the mount program, keeps forks off the container start path.
 */
final class Mounts {
    /** Options that are mount flags, as mount(8) reads them; a flag with a zero bit clears. */
    private static final Map<String, long[]> FLAGS = Map.ofEntries(
            Map.entry("ro", new long[] {Libc.MS_RDONLY, 1}), Map.entry("rw", new long[] {Libc.MS_RDONLY, 0}),
            Map.entry("nosuid", new long[] {Libc.MS_NOSUID, 1}), Map.entry("suid", new long[] {Libc.MS_NOSUID, 0}),
            Map.entry("nodev", new long[] {Libc.MS_NODEV, 1}), Map.entry("dev", new long[] {Libc.MS_NODEV, 0}),
            Map.entry("noexec", new long[] {Libc.MS_NOEXEC, 1}), Map.entry("exec", new long[] {Libc.MS_NOEXEC, 0}),
            Map.entry("sync", new long[] {Libc.MS_SYNCHRONOUS, 1}), Map.entry("async", new long[] {Libc.MS_SYNCHRONOUS, 0}),
            Map.entry("dirsync", new long[] {Libc.MS_DIRSYNC, 1}),
            Map.entry("noatime", new long[] {Libc.MS_NOATIME, 1}), Map.entry("atime", new long[] {Libc.MS_NOATIME, 0}),
            Map.entry("nodiratime", new long[] {Libc.MS_NODIRATIME, 1}),
            Map.entry("diratime", new long[] {Libc.MS_NODIRATIME, 0}),
            Map.entry("relatime", new long[] {Libc.MS_RELATIME, 1}), Map.entry("norelatime", new long[] {Libc.MS_RELATIME, 0}),
            Map.entry("strictatime", new long[] {Libc.MS_STRICTATIME, 1}),
            Map.entry("remount", new long[] {Libc.MS_REMOUNT, 1}),
            Map.entry("bind", new long[] {Libc.MS_BIND, 1}), Map.entry("rbind", new long[] {Libc.MS_BIND | Libc.MS_REC, 1}),
            Map.entry("defaults", new long[] {0, 1}));

    private Mounts() {}

    /** Mount flags and the file-system data string that mount(8) would pass for {@code options}. */
    record Options(long flags, String data) {}

    static Options parse(List<String> options) {
        long flags = 0;
        List<String> data = new ArrayList<>();
        for (String o : options) {
            long[] f = FLAGS.get(o);
            if (f == null) {
                data.add(o);
            } else if (f[1] == 1) {
                flags |= f[0];
            } else {
                flags &= ~f[0];
            }
        }
        return new Options(flags, data.isEmpty() ? null : String.join(",", data));
    }

    /** Mounts {@code specs} in order at {@code rootfs} (empty target) or below it; on failure undoes them. */
    static void mountAll(List<MountSpec> specs, Path rootfs) throws IOException {
        Files.createDirectories(rootfs);
        try {
            for (MountSpec m : specs) {
                Path target = m.target().isEmpty() ? rootfs : rootfs.resolve(m.target().replaceFirst("^/+", ""));
                Files.createDirectories(target);
                mount(m, target);
            }
        } catch (IOException | RuntimeException e) {
            FileTrees.unmountAll(rootfs);
            throw e;
        }
    }

    private static void mount(MountSpec m, Path target) throws IOException {
        Options o = parse(m.options());
        if (m.type().equals("bind") || (o.flags() & Libc.MS_BIND) != 0) {
            long bind = Libc.MS_BIND | (o.flags() & Libc.MS_REC);
            Libc.mount(m.source(), target.toString(), null, bind, null);
            // A bind mount ignores every other flag; they take effect on a remount.
            long rest = o.flags() & ~(Libc.MS_BIND | Libc.MS_REC);
            if (rest != 0) {
                Libc.mount(null, target.toString(), null, Libc.MS_REMOUNT | Libc.MS_BIND | rest, null);
            }
            return;
        }
        mount(m.source().isEmpty() ? "none" : m.source(), target, m.type(), o.flags(), o.data());
    }

    /** A plain mount(2) of a file system: {@code mount -t type -o options source target}. */
    static void mount(String source, Path target, String type, long flags, String data) throws IOException {
        Libc.mount(source, target.toString(), type, flags, data);
    }

    /**
     * Makes the mount holding {@code hostPath} a shared mount if it is not one, so that a bidirectional
     * ({@code rshared}) container mount can propagate back to the host. On systemd hosts every mount is shared
     * already; elsewhere this changes only the propagation type of that one mount.
     */
    static void ensureShared(Path hostPath) throws IOException {
        String path = hostPath.toAbsolutePath().normalize().toString();
        String best = null;
        boolean shared = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String[] f = line.split(" ");
            if (f.length < 7) {
                continue;
            }
            String mp = unescape(f[4]);
            boolean covers = mp.equals("/") || path.equals(mp) || path.startsWith(mp + "/");
            if (covers && (best == null || mp.length() >= best.length())) {
                best = mp;
                shared = false;
                for (int i = 6; i < f.length && !f[i].equals("-"); i++) {
                    shared |= f[i].startsWith("shared:");
                }
            }
        }
        if (best != null && !shared) {
            Libc.mount(null, best, null, Libc.MS_SHARED, null);
        }
    }

    private static String unescape(String s) {
        return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }
}
