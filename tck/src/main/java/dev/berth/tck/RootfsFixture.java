package dev.berth.tck;

import dev.berth.spi.BackendEvent;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.ImageConfig;
import dev.berth.spi.MountSpec;
import dev.berth.spi.PodMetadata;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A fixture for backends that run Linux containers from a root file system, the shape core hands them: the
 * sandbox and every container get the same busybox root (a read-only bind mount, as core's prepared root is a
 * mount), an image config whose command keeps running, and no network namespace (as for host networking).
 *
 * <p>The root is built from the host's static busybox ({@link #busyboxRootfs}): the binary, a link per applet,
 * {@code /etc/passwd} and {@code /etc/group}, and the mount points a runtime needs. That is all the contract's
 * commands ({@code sh}, {@code sleep}, {@code echo}) need, with no registry and no image service.
 */
public final class RootfsFixture implements ContractFixture {
    /** The sandbox's process: a pause that exits on SIGTERM. */
    public static final List<String> PAUSE = List.of("sh", "-c", "trap 'exit 0' TERM; while :; do sleep 3600 & wait; done");

    private final RuntimeBackend backend;
    private final Path rootfs;
    private final ScratchBackendContext context;

    /** A fixture over {@code backend}, whose events {@code context} keeps, with the root file system at {@code rootfs}. */
    public RootfsFixture(RuntimeBackend backend, ScratchBackendContext context, Path rootfs) {
        this.backend = backend;
        this.context = context;
        this.rootfs = rootfs;
    }

    @Override
    public RuntimeBackend backend() {
        return backend;
    }

    @Override
    public SandboxSpec sandboxSpec(String id) {
        String s = id.substring(0, 8);
        return new SandboxSpec(id, new PodMetadata("tck-" + s, "uid-" + s, "default", 0), "tck-" + s, "", null,
                List.of(), Map.of(), Map.of(), "", Map.of(), null, null, null, null, mounts(), image(PAUSE), null,
                null, null, null);
    }

    @Override
    public ContainerSpec longRunningContainer(String id, String sandboxId) {
        return new ContainerSpec(id, sandboxId, "tck-" + id.substring(0, 8), 0, image(List.of("sleep", "3600")),
                List.of(), List.of(), "", List.of("TCK=1"), List.of(), List.of(), Map.of(), Map.of(), "", false, false,
                false, null, null, mounts(), null);
    }

    @Override
    public Optional<List<BackendEvent>> publishedEvents() {
        return context == null ? Optional.empty() : Optional.of(context.published());
    }

    private List<MountSpec> mounts() {
        return List.of(new MountSpec("bind", rootfs.toString(), "", List.of("rbind", "ro")));
    }

    private static ImageConfig image(List<String> cmd) {
        return new ImageConfig("sha256:tck-busybox", "tck/busybox:host", List.of(), cmd, List.of("PATH=/bin"), "",
                "", 0, 0, List.of(), "", Map.of());
    }

    /**
     * Builds a busybox root file system in {@code dir} from the static {@code busybox} binary: the binary, a link
     * per applet it lists, users and groups, and the directories and files a runtime mounts over.
     */
    public static Path busyboxRootfs(Path busybox, Path dir) throws IOException {
        if (!Files.isExecutable(busybox)) {
            throw new IOException(busybox + " is not an executable busybox (a static build: busybox-static)");
        }
        Files.createDirectories(dir.resolve("bin"));
        for (String d : List.of("proc", "dev", "sys", "etc", "tmp", "root", "run")) {
            Files.createDirectories(dir.resolve(d));
        }
        Files.copy(busybox, dir.resolve("bin/busybox"));
        for (String a : applets(busybox)) {
            if (!a.equals("busybox") && !Files.exists(dir.resolve("bin").resolve(a), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.createSymbolicLink(dir.resolve("bin").resolve(a), Path.of("busybox"));
            }
        }
        Files.writeString(dir.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n");
        Files.writeString(dir.resolve("etc/group"), "root:x:0:\nnogroup:x:65534:\n");
        for (String f : List.of("hosts", "resolv.conf", "hostname")) {
            Files.writeString(dir.resolve("etc").resolve(f), "");
        }
        return dir;
    }

    private static List<String> applets(Path busybox) throws IOException {
        Process p = new ProcessBuilder(busybox.toString(), "--list").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        try {
            if (p.waitFor() != 0) {
                throw new IOException(busybox + " --list failed: " + out.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        return out.lines().map(String::strip).filter(s -> !s.isEmpty() && !s.contains("/")).toList();
    }
}
