package dev.berth.runc;

import dev.berth.spi.MountSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Mounts a container's root file system with the {@code mount} program, and takes it down again. */
final class Mounts {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private Mounts() {}

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
            unmountAll(rootfs);
            throw e;
        }
    }

    private static void mount(MountSpec m, Path target) throws IOException {
        List<String> opts = new ArrayList<>(m.options());
        if (m.type().equals("bind") || opts.contains("bind") || opts.contains("rbind")) {
            boolean recursive = opts.contains("rbind");
            boolean ro = opts.contains("ro");
            run(List.of("mount", recursive ? "--rbind" : "--bind", m.source(), target.toString()));
            if (ro) {
                run(List.of("mount", "-o", "remount,bind,ro", target.toString()));
            }
            return;
        }
        List<String> cmd = new ArrayList<>(List.of("mount", "-t", m.type()));
        if (!opts.isEmpty()) {
            cmd.add("-o");
            cmd.add(String.join(",", opts));
        }
        cmd.add(m.source().isEmpty() ? "none" : m.source());
        cmd.add(target.toString());
        run(cmd);
    }

    private static void run(List<String> cmd) throws IOException {
        Programs.Result r = Programs.run(cmd, null, TIMEOUT);
        if (!r.ok()) {
            throw new IOException(String.join(" ", cmd.subList(0, cmd.size())) + ": " + r.errorText());
        }
    }

    /** Mount points at or below {@code dir}, deepest first, from /proc/self/mountinfo. */
    static List<String> mountsUnder(Path dir) {
        String prefix = dir.toString();
        List<String> out = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                String[] f = line.split(" ");
                if (f.length > 4) {
                    String mp = unescape(f[4]);
                    if (mp.equals(prefix) || mp.startsWith(prefix + "/")) {
                        out.add(mp);
                    }
                }
            }
        } catch (IOException e) {
            return List.of();
        }
        // Later mounts stack on earlier ones: unmount in reverse order of appearance.
        java.util.Collections.reverse(out);
        return out;
    }

    static boolean isMounted(Path dir) {
        return !mountsUnder(dir).isEmpty();
    }

    /** Unmounts everything at and below {@code dir}; falls back to a lazy unmount when busy. */
    static void unmountAll(Path dir) throws IOException {
        for (int attempt = 0; attempt < 3; attempt++) {
            List<String> mounts = mountsUnder(dir);
            if (mounts.isEmpty()) {
                return;
            }
            for (String mp : mounts) {
                Programs.Result r = Programs.run(List.of("umount", mp), null, TIMEOUT);
                if (!r.ok() && attempt > 0) {
                    Programs.run(List.of("umount", "-l", mp), null, TIMEOUT);
                }
            }
        }
        if (isMounted(dir)) {
            throw new IOException("cannot unmount " + mountsUnder(dir).getFirst());
        }
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
            run(List.of("mount", "--make-shared", best));
        }
    }

    private static String unescape(String s) {
        return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }
}
