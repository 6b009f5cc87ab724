package dev.berth.core.cdi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerMount;
import dev.berth.spi.ContainerSecurity;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.DeviceSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CdiEditsTest {
    @TempDir
    Path dir;

    private static final Path FILE = Path.of("/etc/cdi/test.yaml");

    private static CdiSpec.Edits edits(List<String> env, List<CdiSpec.DeviceNode> nodes, List<CdiSpec.Mount> mounts,
                                       List<Long> gids) {
        return new CdiSpec.Edits(env, nodes, null, mounts, null, gids, null);
    }

    private static CdiRegistry.Resolved resolved(CdiSpec.Edits e) {
        return new CdiRegistry.Resolved("vendor.example/gpu=0", FILE, e);
    }

    private static CdiSpec.DeviceNode node(String path, String host) {
        return new CdiSpec.DeviceNode(path, host, null, null, null, null, null, null, null);
    }

    private static ContainerSpec container() {
        ContainerSecurity security = new ContainerSecurity(List.of(), List.of(), false, null, null, null, "", false,
                List.of(10L), false, List.of(), List.of(), null, null, null, null);
        return new ContainerSpec("c1", "p1", "c", 0, null, List.of(), List.of(), "", List.of("A=request", "B=kept"),
                List.of(new ContainerMount("/data", "/srv/data", false, false, null, false, "")),
                List.of(new DeviceSpec("/dev/gpu0", "/dev/zero", "r")), Map.of(), Map.of(), "", false, false, false,
                null, security, List.of(), new byte[] {1, 2});
    }

    @Test
    void theEditsReachTheContainerInTheSpisTerms() {
        var prepared = CdiEdits.prepare(List.of(
                resolved(edits(List.of("A=spec", "SPEC=1"), List.of(), List.of(), List.of(0L, 44L))),
                resolved(edits(List.of("GPU=0"), List.of(node("/dev/gpu0", "/dev/null"), node("/dev/null", null)),
                        List.of(new CdiSpec.Mount(dir.toString(), "/data", "bind", List.of("rbind", "ro", "rslave"))),
                        List.of(44L, 45L)))));
        ContainerSpec out = prepared.applyTo(container());
        // A variable of the same name is replaced, as CDI's own library does; the others keep their order.
        assertThat(out.env()).containsExactly("B=kept", "A=spec", "SPEC=1", "GPU=0");
        // A device or mount at a path the request also uses is CDI's.
        assertThat(out.devices()).containsExactly(new DeviceSpec("/dev/gpu0", "/dev/null", "rwm"),
                new DeviceSpec("/dev/null", "/dev/null", "rwm"));
        assertThat(out.mounts()).containsExactly(new ContainerMount("/data", dir.toString(), true, false,
                ContainerMount.Propagation.HOST_TO_CONTAINER, false, ""));
        assertThat(out.security().supplementalGroups()).containsExactly(10L, 44L, 45L);
        // Everything else is the request's.
        assertThat(out.id()).isEqualTo("c1");
        assertThat(out.raw()).containsExactly(1, 2);
    }

    @Test
    void noEditsLeaveTheContainerAsItIs() {
        ContainerSpec c = container();
        assertThat(CdiEdits.Prepared.NONE.applyTo(c)).isSameAs(c);
    }

    @Test
    void aDeviceNodeMayNameTheHostNodesOwnTypeAndNumbers() {
        var ok = new CdiSpec.DeviceNode("/dev/n", "/dev/null", "c", 1L, 3L, null, "rw", null, null);
        assertThat(CdiEdits.prepare(List.of(resolved(edits(null, List.of(ok), null, null)))).devices())
                .containsExactly(new DeviceSpec("/dev/n", "/dev/null", "rw"));
        var unset = new CdiSpec.DeviceNode("/dev/n", "/dev/null", "", 0L, 0L, null, null, null, null);
        assertThat(CdiEdits.prepare(List.of(resolved(edits(null, List.of(unset), null, null)))).devices())
                .containsExactly(new DeviceSpec("/dev/n", "/dev/null", "rwm"));
        var wrong = new CdiSpec.DeviceNode("/dev/n", "/dev/null", "c", 1L, 5L, null, null, null, null);
        var e = refused(edits(null, List.of(wrong), null, null));
        assertThat(e.kind()).isEqualTo(BackendException.Kind.FAILED_PRECONDITION);
        assertThat(e.getMessage()).isEqualTo("CDI device vendor.example/gpu=0 (/etc/cdi/test.yaml): device node "
                + "/dev/n is described as c 1:5, but host device /dev/null is c 1:3");
    }

    @Test
    void aMissingHostDeviceOrMountSourceIsAFailedPrecondition() {
        var missing = refused(edits(null, List.of(node("/dev/gpu9", null)), null, null));
        assertThat(missing.kind()).isEqualTo(BackendException.Kind.FAILED_PRECONDITION);
        assertThat(missing.getMessage()).endsWith("device node /dev/gpu9: host device /dev/gpu9 does not exist");
        var notADevice = refused(edits(null, List.of(node("/dev/x", dir.toString())), null, null));
        assertThat(notADevice.getMessage()).endsWith("is not a character or block device");
        var mount = refused(edits(null, null, List.of(new CdiSpec.Mount(dir.resolve("gone").toString(), "/x", null,
                List.of("bind"))), null));
        assertThat(mount.kind()).isEqualTo(BackendException.Kind.FAILED_PRECONDITION);
        assertThat(mount.getMessage()).endsWith(dir.resolve("gone") + " does not exist on this node");
    }

    @Test
    void whatBerthCannotDoIsRefusedNamingTheDeviceAndTheEdit() {
        String who = "CDI device vendor.example/gpu=0 (/etc/cdi/test.yaml)";
        assertUnimplemented(new CdiSpec.Edits(null, null, List.of(new CdiSpec.Hook("createContainer",
                "/usr/bin/vendor-hook", List.of("vendor-hook", "ldcache"), null, null)), null, null, null, null),
                who + " asks for the OCI hook createContainer /usr/bin/vendor-hook, and berth does not run CDI hooks");
        assertUnimplemented(new CdiSpec.Edits(null, null, null, null, Map.of("closID", "gold"), null, null),
                who + " asks for intelRdt, which berth does not set");
        assertUnimplemented(new CdiSpec.Edits(null, null, null, null, null, null,
                List.of(Map.of("hostInterfaceName", "eth1", "name", "net1"))), who + " asks to move network devices");
        assertUnimplemented(edits(null, List.of(new CdiSpec.DeviceNode("/dev/n", "/dev/null", null, null, null, 0666,
                null, null, null)), null, null), who + ": device node /dev/n sets its own uid, gid or fileMode");
        assertUnimplemented(edits(null, List.of(new CdiSpec.DeviceNode("/dev/n", "/dev/null", null, null, null, null,
                "none", null, null)), null, null), who + ": device node /dev/n asks for no access");
        assertUnimplemented(edits(null, null, List.of(new CdiSpec.Mount("/tmp", "/lib/vendor", "bind",
                List.of("ro", "nosuid", "nodev", "bind"))), null), who + ": mount of /tmp at /lib/vendor has options "
                + "[nosuid, nodev], which berth does not set");
        assertUnimplemented(edits(null, null, List.of(new CdiSpec.Mount("tmpfs", "/scratch", "tmpfs", List.of())),
                null), who + ": mount of tmpfs at /scratch is of type tmpfs; berth makes only bind mounts");
    }

    private void assertUnimplemented(CdiSpec.Edits e, String message) {
        var x = refused(e);
        assertThat(x.kind()).isEqualTo(BackendException.Kind.UNIMPLEMENTED);
        assertThat(x.getMessage()).startsWith(message);
    }

    private static BackendException refused(CdiSpec.Edits e) {
        return catchThrowableOfType(BackendException.class, () -> CdiEdits.prepare(List.of(resolved(e))));
    }
}
