package dev.berth.hcs;

import dev.berth.hcs.bind.Bindings;
import dev.berth.hcs.fake.FakeHcn;
import dev.berth.hcs.fake.FakeHcs;
import dev.berth.hcs.fake.FakeLayerApi;
import dev.berth.hcs.fake.FakeRelayHandOver;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.ImageConfig;
import dev.berth.spi.MountSpec;
import dev.berth.spi.PodMetadata;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.testing.TestingBackendContext;
import dev.berth.hcs.fake.LayerBlobs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Specs shaped as core hands them over on Windows, and a backend over the fakes. */
final class Fixtures {
    private Fixtures() {}

    /** Where the image's layer blobs and the containers' scratch directories are (core's content store and state). */
    static final Path DIR = sharedDir();
    /** A two-layer Windows image: a base layer and one over it. */
    static final List<LayerBlobs.Blob> IMAGE = image();

    private static Path sharedDir() {
        try {
            Path d = Files.createTempDirectory("berth-hcs-fixtures");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(d)));
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<LayerBlobs.Blob> image() {
        try {
            Map<String, String> base = new LinkedHashMap<>();
            base.put("Files/Windows/System32/cmd.exe", "MZ cmd");
            base.put("Hives/Software_Base", "regf software");
            Map<String, String> app = new LinkedHashMap<>();
            app.put("Files/app/hello.txt", "hello from a layer");
            return List.of(LayerBlobs.gzip(DIR.resolve("blobs"), "base", base),
                    LayerBlobs.gzip(DIR.resolve("blobs"), "app", app));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void deleteTree(Path d) {
        try (var s = Files.walk(d)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException ignored) {
            // a temporary directory
        }
    }

    /**
     * Core's Windows rootfs (core/image/WindowsLayers.rootfs): one windows-layer entry per blob, base first, then
     * the container's own empty windows-scratch directory.
     */
    static List<MountSpec> rootfs(List<LayerBlobs.Blob> layers, Path scratch) {
        try {
            Files.createDirectories(scratch);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<MountSpec> out = new ArrayList<>();
        for (LayerBlobs.Blob b : layers) {
            out.add(new MountSpec("windows-layer", b.path().toString(), "", List.of("digest=" + b.digest(),
                    "diffid=" + b.diffId(), "mediatype=" + b.mediaType())));
        }
        out.add(new MountSpec("windows-scratch", scratch.toString(), "", List.of()));
        return out;
    }

    static List<MountSpec> rootfs(String id) {
        return rootfs(IMAGE, DIR.resolve("scratch").resolve(id));
    }

    static SandboxSpec sandbox(String id) {
        ImageConfig pause = new ImageConfig("sha256:pause", "mcr.microsoft.com/oss/kubernetes/pause:3.9",
                List.of(), List.of("cmd.exe"), List.of(), "", "", -1, -1, List.of(), "", Map.of());
        return new SandboxSpec(id, new PodMetadata("pod-" + id.substring(0, 6), "uid-1", "default", 0), "web-0", "",
                null, List.of(), Map.of(), Map.of(), "", Map.of(), null, null, null, null, rootfs(id), pause, null,
                null, null, null);
    }

    static ImageConfig nanoserver(List<String> cmd) {
        return new ImageConfig("sha256:nano", "mcr.microsoft.com/windows/nanoserver:ltsc2022", List.of(), cmd,
                List.of("PATH=C:\\Windows\\system32;C:\\Windows"), "", "ContainerUser", -1, -1, List.of(), "",
                Map.of());
    }

    static ContainerSpec container(String id, String sandboxId, List<String> cmd, String logPath) {
        return new ContainerSpec(id, sandboxId, "app", 0, nanoserver(cmd), List.of(), List.of(), "", List.of(),
                List.of(), List.of(), Map.of(), Map.of(), logPath, false, false, false, null, null, rootfs(id), null);
    }

    static final List<String> PING = List.of("ping", "-t", "127.0.0.1");

    /** The fakes and a backend over them. */
    static final class Rig {
        final FakeHcs hcs = new FakeHcs();
        final FakeHcn hcn = new FakeHcn();
        final FakeLayerApi layers = new FakeLayerApi();
        final FakeRelayHandOver relays;
        final TestingBackendContext context;

        Rig(Path dir) {
            context = new TestingBackendContext("windows", dir);
            relays = new FakeRelayHandOver(hcs, dir.resolve("fifos"));
        }

        Bindings bindings() {
            return Bindings.of(hcs, hcn, layers, relays);
        }

        HcsBackend backend(Map<String, Object> options) {
            return new HcsBackend("windows", HcsOptions.parse("windows", options), context, bindings(), 4);
        }
    }
}
