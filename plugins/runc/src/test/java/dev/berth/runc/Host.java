package dev.berth.runc;

import static dev.berth.spi.testing.HostRequirements.require;

import dev.berth.oci.FileTrees;
import dev.berth.oci.ProcessRunner;
import dev.berth.spi.ContainerSecurity;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.ImageConfig;
import dev.berth.spi.LinuxResources;
import dev.berth.spi.MountSpec;
import dev.berth.spi.PodMetadata;
import dev.berth.spi.PodSecurity;
import dev.berth.spi.SandboxSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** Host checks and fixtures for tests that run the real runtime and conmon. */
final class Host {
    static final Path BUSYBOX = Path.of("/bin/busybox");
    static final List<String> PAUSE = List.of("sh", "-c", "trap 'exit 0' TERM; while :; do sleep 3600 & wait; done");

    private Host() {}

    /** Skips the test (fails it under CI, see {@code HostRequirements}) unless root and the programs are installed. */
    static void assumeRuntime(String binary) {
        require("root".equals(System.getProperty("user.name")), "needs root");
        require(Files.isExecutable(RuncOptions.resolveProgram(binary)), binary + " is not installed");
        require(Files.isExecutable(RuncOptions.resolveProgram("conmon")), "conmon is not installed");
        require(Files.isExecutable(BUSYBOX), "busybox-static is not installed");
    }

    /**
     * crun 1.8 refuses hybrid hosts whose cgroup2 holds hugetlb; the documented fix mounts hugetlb as a v1
     * hierarchy. It is a host setting, left in place (other users of crun need it as well).
     */
    static void applyCrunHybridFix() {
        List<Cgroups.Hierarchy> hs = Cgroups.hierarchies();
        for (String c : Cgroups.hybridV2Controllers(hs)) {
            boolean v1 = hs.stream().anyMatch(h -> !h.v2() && h.controllers().contains(c));
            if (!v1) {
                Path dir = Path.of("/sys/fs/cgroup", c);
                ProcessRunner.Result r = ProcessRunner.run(List.of("sh", "-c", "mkdir -p " + dir + " && mount -t cgroup -o "
                        + c + " cgroup " + dir), null, Duration.ofSeconds(30));
                require(r.ok(), "cannot apply the crun hybrid cgroup fix: " + r.errorText());
            }
        }
    }

    /** A short temp dir: conmon's attach socket path must stay under 108 bytes. */
    static Path tempDir() throws IOException {
        return Files.createTempDirectory(Path.of("/tmp"), "b");
    }

    /** A busybox root file system: the static binary, its applets, users and the mount points runc needs. */
    static Path busyboxRootfs(Path dir) throws IOException {
        Files.createDirectories(dir.resolve("bin"));
        for (String d : List.of("proc", "dev", "sys", "etc", "tmp", "root", "rw")) {
            Files.createDirectories(dir.resolve(d));
        }
        Files.copy(BUSYBOX, dir.resolve("bin/busybox"));
        String applets = ProcessRunner.run(List.of(BUSYBOX.toString(), "--list"), null, Duration.ofSeconds(30)).stdout();
        for (String a : applets.split("\n")) {
            if (!a.isBlank() && !a.equals("busybox")) {
                Files.createSymbolicLink(dir.resolve("bin").resolve(a.strip()), Path.of("busybox"));
            }
        }
        Files.writeString(dir.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n");
        Files.writeString(dir.resolve("etc/group"), "root:x:0:\nnogroup:x:65534:\n");
        for (String f : List.of("hosts", "resolv.conf", "hostname")) {
            Files.writeString(dir.resolve("etc").resolve(f), "");
        }
        return dir;
    }

    static List<MountSpec> rootfs(Path dir) {
        return List.of(new MountSpec("bind", dir.toString(), "", List.of("rbind", "ro")));
    }

    static SandboxSpec sandbox(String id, Path rootfs, PodSecurity security) {
        return sandbox(id, rootfs, security, null, Map.of());
    }

    /** A sandbox spec in the network namespace pinned at {@code netns} (null: none, as for host networking). */
    static SandboxSpec sandbox(String id, Path rootfs, PodSecurity security, Path netns, Map<String, String> sysctls) {
        return new SandboxSpec(id, new PodMetadata("pod-" + id.substring(0, 6), "uid-" + id.substring(0, 6), "default", 0),
                "pod-" + id.substring(0, 6), "", null, List.of(), Map.of(), Map.of(), "", sysctls, security, null, null,
                netns, rootfs(rootfs), image(PAUSE), null, null, null, null);
    }

    /**
     * A new network namespace with loopback up, pinned at {@code pin} as core pins a pod's (here with
     * util-linux's unshare and iproute2). {@link #deleteTree} unpins it with the rest of a test's directory.
     */
    static Path netns(Path pin) throws IOException {
        Files.createDirectories(pin.getParent());
        Files.deleteIfExists(pin);
        Files.createFile(pin);
        ProcessRunner.Result r = ProcessRunner.run(List.of("unshare", "--net=" + pin, "ip", "link", "set", "lo", "up"), null,
                Duration.ofSeconds(30));
        if (!r.ok()) {
            throw new IOException("cannot pin a network namespace at " + pin + ": " + r.errorText());
        }
        return pin;
    }

    static ImageConfig image(List<String> cmd) {
        return new ImageConfig("sha256:busybox", "busybox:test", List.of(), cmd, List.of("PATH=/bin"), "", "", 0, 0,
                List.of(), "", Map.of());
    }

    static ContainerSpec container(String id, String sandboxId, Path rootfs, List<String> cmd, Path log,
                                   LinuxResources resources, ContainerSecurity security) {
        return new ContainerSpec(id, sandboxId, "c-" + id.substring(0, 6), 0, image(cmd), List.of(), List.of(), "",
                List.of("GREETING=hello"), List.of(), List.of(), Map.of(), Map.of(), log == null ? "" : log.toString(),
                false, false, false, resources, security, rootfs(rootfs), null);
    }

    /** A container running {@code cmd} with one CRI mount and no environment of the test's own. */
    static ContainerSpec containerWithMount(String id, String sandboxId, Path rootfs, List<String> cmd,
                                            dev.berth.spi.ContainerMount mount) {
        ContainerSpec c = container(id, sandboxId, rootfs, cmd, null, null, ContainerSecurity.DEFAULT);
        return new ContainerSpec(id, sandboxId, c.name(), 0, c.image(), List.of(), List.of(), "", List.of(),
                List.of(mount), List.of(), Map.of(), Map.of(), "", false, false, false, null, null, c.rootfs(), null);
    }

    /** Removes a test's temp dir, unmounting anything a failed test left below it first. */
    static void deleteTree(Path dir) throws IOException {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        FileTrees.unmountAll(dir);
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
