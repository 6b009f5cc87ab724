package dev.berth.hcs;

import dev.berth.hcs.fake.FakeHcs;
import dev.berth.hcs.fake.FakeLayerApi;
import dev.berth.spi.MountSpec;
import dev.berth.spi.RuntimeBackend;
import dev.berth.spi.SandboxSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The backend over the fakes, for tests outside this module (test/plugins-it), which hand it specs built by core:
 * the backend, the fakes it runs on, and a pod spec with a given rootfs.
 */
public final class HcsTestRig {
    private final Fixtures.Rig rig;

    public HcsTestRig(Path dir) {
        rig = new Fixtures.Rig(dir);
    }

    public RuntimeBackend backend() {
        return rig.backend(Map.of());
    }

    public FakeLayerApi layers() {
        return rig.layers;
    }

    public FakeHcs hcs() {
        return rig.hcs;
    }

    /** The persistent directory the backend imports layers under ({@code <rootDir>/layers}). */
    public Path layerStore() {
        return rig.context.rootDir().resolve("layers");
    }

    /** A pod whose sandbox image's rootfs is {@code rootfs}. */
    public static SandboxSpec sandbox(String id, List<MountSpec> rootfs) {
        SandboxSpec s = Fixtures.sandbox(id);
        return new SandboxSpec(s.id(), s.metadata(), s.hostname(), s.logDirectory(), s.dns(), s.portMappings(),
                s.labels(), s.annotations(), s.cgroupParent(), s.sysctls(), s.security(), s.overhead(), s.resources(),
                s.netnsPath(), rootfs, s.image(), null, null, null, null);
    }
}
