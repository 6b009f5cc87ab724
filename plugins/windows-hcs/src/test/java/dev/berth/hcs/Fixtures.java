package dev.berth.hcs;

import dev.berth.hcs.bind.Bindings;
import dev.berth.hcs.fake.FakeHcn;
import dev.berth.hcs.fake.FakeHcs;
import dev.berth.hcs.fake.FakeLayerApi;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.ImageConfig;
import dev.berth.spi.MountSpec;
import dev.berth.spi.PodMetadata;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.testing.TestingBackendContext;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Specs shaped as core hands them over on Windows, and a backend over the fakes. */
final class Fixtures {
    private Fixtures() {}

    static final String BASE = "C:\\ProgramData\\berth\\snapshots\\1";
    static final String NANOSERVER = "C:\\ProgramData\\berth\\snapshots\\2";

    /** containerd's Windows snapshot: the scratch layer and its parents, nearest first. */
    static List<MountSpec> rootfs(String id) {
        String scratch = "C:\\ProgramData\\berth\\snapshots\\" + id.substring(0, 12);
        return List.of(new MountSpec("windows-layer", scratch, "",
                List.of("rw", "parentLayerPaths=[\"" + NANOSERVER.replace("\\", "\\\\") + "\",\""
                        + BASE.replace("\\", "\\\\") + "\"]")));
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
        final TestingBackendContext context;

        Rig(Path dir) {
            context = new TestingBackendContext("windows", dir);
        }

        HcsBackend backend(Map<String, Object> options) {
            return new HcsBackend("windows", HcsOptions.parse("windows", options), context,
                    Bindings.of(hcs, hcn, layers), 4);
        }
    }
}
