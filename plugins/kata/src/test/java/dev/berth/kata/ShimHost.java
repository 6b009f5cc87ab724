package dev.berth.kata;

import dev.berth.oci.FileTrees;
import dev.berth.oci.Processes;
import dev.berth.spi.ImageConfig;
import dev.berth.spi.MountSpec;
import dev.berth.spi.PodMetadata;
import dev.berth.spi.SandboxSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** Test helpers for running the backend against the real containerd-shim-runc-v2 on this host. */
final class ShimHost {
    static final String RUNC_SHIM = "containerd-shim-runc-v2";

    private ShimHost() {}

    static boolean usable() {
        return "root".equals(System.getProperty("user.name")) && Files.isExecutable(Path.of("/bin/busybox"))
                && Stream.of("/usr/bin", "/usr/local/bin", "/bin").anyMatch(d -> Files.isExecutable(Path.of(d, RUNC_SHIM)))
                && Stream.of("/usr/sbin", "/usr/bin", "/usr/local/sbin").anyMatch(d -> Files.isExecutable(Path.of(d, "runc")));
    }

    /** A busybox root file system: /bin/busybox plus applet links, and the mount points runc needs. */
    static Path busyboxRootfs(Path dir) throws IOException {
        Path root = dir.resolve("busybox-rootfs");
        for (String d : List.of("bin", "proc", "sys", "dev", "etc", "tmp", "root")) {
            Files.createDirectories(root.resolve(d));
        }
        Files.copy(Path.of("/bin/busybox"), root.resolve("bin/busybox"));
        for (String applet : List.of("sh", "sleep", "echo", "cat", "ls", "ps", "true", "false", "kill", "yes",
                "head", "env", "id", "hostname", "dd", "stty", "seq", "touch", "tty")) {
            Files.createSymbolicLink(root.resolve("bin").resolve(applet), Path.of("busybox"));
        }
        for (String f : List.of("etc/hosts", "etc/resolv.conf", "etc/hostname")) {
            Files.writeString(root.resolve(f), "");
        }
        Files.writeString(root.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
        return root;
    }

    static List<MountSpec> rootfsOf(Path busybox) {
        return List.of(new MountSpec("bind", busybox.toString(), "", List.of("rbind", "rw")));
    }

    static SandboxSpec sandbox(String id, Path busybox) {
        ImageConfig pause = new ImageConfig("sha256:pause", "busybox-pause", List.of("sleep"), List.of("100000"),
                List.of(), "", "", 0, 0, List.of(), "", Map.of());
        return new SandboxSpec(id, new PodMetadata("pod-" + id.substring(0, 8), "uid-" + id.substring(0, 8),
                "default", 0), "kata-test", "", null, List.of(), Map.of(), Map.of(), "", Map.of(), null, null, null,
                null, rootfsOf(busybox), pause, null, null, null, null);
    }

    /** Live (non-zombie) processes whose command line contains {@code needle}. */
    static List<Long> processesWith(String needle) {
        List<Long> found = new ArrayList<>();
        try (var dirs = Files.list(Path.of("/proc"))) {
            for (Path p : dirs.toList()) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String cmd = Files.readString(p.resolve("cmdline")).replace('\0', ' ');
                    long pid = Long.parseLong(name);
                    if (cmd.contains(needle) && pid != ProcessHandle.current().pid() && Processes.live(pid)) {
                        found.add(pid);
                    }
                } catch (IOException | RuntimeException e) {
                    // raced with an exiting process
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return found;
    }

    /** Kills what a failed test may have left: shims started with our state dir, and mounts under {@code dir}. */
    static void sweep(Path stateDir, Path dir) throws IOException {
        for (long pid : processesWith(stateDir.toString())) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            Processes.awaitExit(pid, java.time.Duration.ofSeconds(10));
        }
        FileTrees.unmountAll(dir);
    }

    static boolean poll(java.util.function.BooleanSupplier cond, java.time.Duration timeout) {
        return Processes.await(cond, timeout, java.time.Duration.ofMillis(50));
    }
}
