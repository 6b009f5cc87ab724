package dev.berth.oci.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.oci.spec.RuntimeSpec.Mount;
import dev.berth.oci.spec.RuntimeSpec.Namespace;
import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerMount;
import dev.berth.spi.ContainerSecurity;
import dev.berth.spi.ContainerSpec;
import dev.berth.spi.ImageConfig;
import dev.berth.spi.LinuxResources;
import dev.berth.spi.NamespaceMode;
import dev.berth.spi.Namespaces;
import dev.berth.spi.PodMetadata;
import dev.berth.spi.PodSecurity;
import dev.berth.spi.SandboxSpec;
import dev.berth.spi.SecurityProfile;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link SpecMapper}: what it decides for every plugin, and that the plugin's {@link SpecMapper.Conventions}
 * change only what they name. (Each plugin's golden files pin its whole output.)
 */
class SpecMapperTest {
    private static final SpecMapper.Conventions A = new SpecMapper.Conventions(
            List.of("mount", "uts", "network", "ipc", "pid"), List.of("mount", "network", "uts", "ipc", "pid"),
            List.of(SpecMapper.CONTAINER_TYPE, SpecMapper.SANDBOX_ID), SpecMapper.MASKED_WITH_POWERCAP,
            Set.of(SpecMapper.Option.CONFINED_PAUSE, SpecMapper.Option.CGROUP_MOUNT),
            new RuntimeSpec.DeviceRule(true, null, null, null, "rwm"));
    private static final SpecMapper.Conventions B = new SpecMapper.Conventions(
            List.of("pid", "ipc", "uts", "network", "mount"), List.of("pid", "ipc", "uts", "network", "mount"),
            List.of(SpecMapper.CONTAINER_TYPE, SpecMapper.SANDBOX_ID, SpecMapper.CONTAINER_NAME), SpecMapper.MASKED,
            Set.of(SpecMapper.Option.HOSTNAME_WITH_HOST_NETWORK, SpecMapper.Option.STATES_READ_WRITE,
                    SpecMapper.Option.ACCESS_BEFORE_PROPAGATION), null);
    private static final SpecMapper.PodRef POD = new SpecMapper.PodRef("sb", "web", "prod", "uid", 42,
            Path.of("/run/netns/p"), false, false, false, Path.of("/r/resolv"), Path.of("/r/hosts"),
            Path.of("/r/hostname"));

    private static ContainerSpec container(List<String> env, Namespaces ns, List<ContainerMount> mounts) {
        ImageConfig image = new ImageConfig("id", "img", List.of("/entry"), List.of(), List.of("A=image", "B=1"), "",
                "", 0, 0, List.of(), "", Map.of());
        var d = ContainerSecurity.DEFAULT;
        ContainerSecurity sec = new ContainerSecurity(List.of(), List.of(), false, ns, d.runAsUser(),
                d.runAsGroup(), "", false, List.of(), false, List.of(), List.of(), SecurityProfile.UNCONFINED,
                d.apparmor(), d.selinux(), d.supplementalGroupsPolicy());
        return new ContainerSpec("c1", "sb", "app", 0, image, List.of(), List.of(), "", env, mounts, List.of(),
                Map.of(), Map.of(), "", false, false, false, LinuxResources.NONE, sec, List.of(), null);
    }

    private static RuntimeSpec map(SpecMapper.Conventions c, ContainerSpec spec, SpecMapper.PodRef pod) {
        return new SpecMapper(c, SpecMapper.Host.UNRESTRICTED).container(spec, pod, 0, "/c", List.of());
    }

    @Test
    void theEnvironmentIsMergedByKeyTheRequestWinningInPlaceWithADefaultPath() {
        RuntimeSpec spec = map(B, container(List.of("A=request", "C=2"), Namespaces.POD_DEFAULT, List.of()), POD);
        assertThat(spec.process().env()).containsExactly(SpecMapper.DEFAULT_PATH, "A=request", "B=1", "C=2");
        assertThat(SpecMapper.mergeEnv(List.of("PATH=/img"), List.of("X"))).containsExactly("PATH=/img", "X");
    }

    @Test
    void conventionsOrderTheNamespacesAndChooseTheAnnotationsButNotWhatIsJoined() {
        ContainerSpec spec = container(List.of(), Namespaces.POD_DEFAULT, List.of());
        RuntimeSpec a = map(A, spec, POD);
        RuntimeSpec b = map(B, spec, POD);
        assertThat(a.linux().namespaces()).extracting(Namespace::type)
                .containsExactly("mount", "network", "uts", "ipc", "pid");
        assertThat(b.linux().namespaces()).extracting(Namespace::type)
                .containsExactly("pid", "ipc", "uts", "network", "mount");
        assertThat(a.linux().namespaces()).containsExactlyInAnyOrderElementsOf(b.linux().namespaces())
                .contains(new Namespace("network", "/run/netns/p"), new Namespace("ipc", "/proc/42/ns/ipc"));
        assertThat(a.annotations()).containsOnlyKeys(SpecMapper.CONTAINER_TYPE, SpecMapper.SANDBOX_ID);
        assertThat(b.annotations()).containsEntry(SpecMapper.CONTAINER_NAME, "app");
        assertThat(a.linux().maskedPaths()).contains("/sys/devices/virtual/powercap");
        assertThat(b.linux().maskedPaths()).doesNotContain("/sys/devices/virtual/powercap");
        assertThat(a.mounts()).extracting(Mount::destination).contains("/sys/fs/cgroup");
        assertThat(b.mounts()).extracting(Mount::destination).doesNotContain("/sys/fs/cgroup");
    }

    @Test
    void mountOptionsTakeTheConventionsFormAndCriMountsReplaceDefaults() {
        ContainerSpec spec = container(List.of(), Namespaces.POD_DEFAULT, List.of(
                new ContainerMount("/data", "/h/data", false, false, ContainerMount.Propagation.HOST_TO_CONTAINER,
                        false, ""),
                new ContainerMount("/dev/shm", "/h/shm", false, false, null, false, "")));
        RuntimeSpec a = map(A, spec, POD);
        RuntimeSpec b = map(B, spec, POD);
        assertThat(mount(a, "/data").options()).containsExactly("rbind", "rslave");
        assertThat(mount(b, "/data").options()).containsExactly("rbind", "rw", "rslave");
        for (RuntimeSpec s : List.of(a, b)) {
            assertThat(s.mounts()).filteredOn(m -> m.destination().equals("/dev/shm")).singleElement()
                    .extracting(Mount::source).isEqualTo("/h/shm");
        }
    }

    @Test
    void thePodsFilesAreReadOnlyInAContainerWhoseRootIs() {
        ContainerSpec writable = container(List.of(), Namespaces.POD_DEFAULT, List.of());
        var s = writable.security();
        ContainerSecurity ro = new ContainerSecurity(s.addCapabilities(), s.dropCapabilities(), s.privileged(),
                s.namespaces(), s.runAsUser(), s.runAsGroup(), s.runAsUsername(), true, s.supplementalGroups(),
                s.noNewPrivs(), s.maskedPaths(), s.readonlyPaths(), s.seccomp(), s.apparmor(), s.selinux(),
                s.supplementalGroupsPolicy());
        ContainerSpec readOnly = new ContainerSpec(writable.id(), writable.sandboxId(), writable.name(),
                writable.attempt(), writable.image(), writable.command(), writable.args(), writable.workingDir(),
                writable.env(), writable.mounts(), writable.devices(), writable.labels(), writable.annotations(),
                writable.logPath(), writable.stdin(), writable.stdinOnce(), writable.tty(), writable.resources(), ro,
                writable.rootfs(), writable.raw());
        for (String file : List.of("/etc/resolv.conf", "/etc/hosts", "/etc/hostname")) {
            assertThat(mount(map(A, readOnly, POD), file).options()).containsExactly("rbind", "rprivate", "ro");
            assertThat(mount(map(B, readOnly, POD), file).options()).containsExactly("rbind", "rprivate", "ro");
            assertThat(mount(map(A, writable, POD), file).options()).containsExactly("rbind", "rprivate");
            assertThat(mount(map(B, writable, POD), file).options()).containsExactly("rbind", "rprivate", "rw");
        }
        assertThat(map(A, readOnly, POD).root().readonly()).isTrue();
    }

    @Test
    void aPodOnTheHostsPidNamespaceGivesItsContainersNoOther() {
        SpecMapper.PodRef hostPid = new SpecMapper.PodRef("sb", "web", "prod", "uid", 42, Path.of("/run/netns/p"),
                false, true, false, null, null, null);
        RuntimeSpec spec = map(B, container(List.of(), Namespaces.POD_DEFAULT, List.of()), hostPid);
        assertThat(spec.linux().namespaces()).extracting(Namespace::type).doesNotContain("pid");
    }

    @Test
    void refusalsAreInvalidArgumentNamingTheContainer() {
        Namespaces target = new Namespaces(NamespaceMode.POD, NamespaceMode.TARGET, NamespaceMode.POD, "t", null);
        assertThatThrownBy(() -> map(A, container(List.of(), target, List.of()), POD))
                .isInstanceOfSatisfying(BackendException.class, e -> {
                    assertThat(e.kind()).isEqualTo(BackendException.Kind.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).startsWith("failed to create container \"c1\": target container \"t\"");
                });
        ContainerSpec rro = container(List.of(), Namespaces.POD_DEFAULT, List.of(
                new ContainerMount("/d", "/h", true, true, null, false, "")));
        assertThatThrownBy(() -> map(B, rro, POD)).isInstanceOf(BackendException.class)
                .hasMessageContaining("recursive read-only mount of \"/d\"");
        ContainerSpec relative = container(List.of(), Namespaces.POD_DEFAULT, List.of(
                new ContainerMount("/d", "h/data", false, false, null, false, "")));
        assertThatThrownBy(() -> map(A, relative, POD)).isInstanceOfSatisfying(BackendException.class,
                e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.INVALID_ARGUMENT))
                .hasMessageContaining("mount at \"/d\" has a relative host path, \"h/data\"");
        ContainerSpec base = container(List.of(), Namespaces.POD_DEFAULT, List.of());
        ContainerSpec relativeCwd = new ContainerSpec(base.id(), base.sandboxId(), base.name(), base.attempt(),
                base.image(), base.command(), base.args(), "relative/dir", base.env(), base.mounts(), base.devices(),
                base.labels(), base.annotations(), base.logPath(), base.stdin(), base.stdinOnce(), base.tty(),
                base.resources(), base.security(), base.rootfs(), base.raw());
        assertThatThrownBy(() -> map(B, relativeCwd, POD)).isInstanceOfSatisfying(BackendException.class,
                e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.INVALID_ARGUMENT))
                .hasMessageContaining("working directory \"relative/dir\" is not an absolute path");
    }

    @Test
    void aSandboxOnTheHostNetworkRefusesNetSysctls() {
        PodSecurity hostNet = new PodSecurity(new Namespaces(NamespaceMode.NODE, NamespaceMode.POD, NamespaceMode.POD,
                "", null), false, false, OptionalLong.empty(), OptionalLong.empty(), List.of(), null, null, null);
        SandboxSpec s = new SandboxSpec("sb", new PodMetadata("web", "uid", "prod", 0), "web", "/logs", null,
                List.of(), Map.of(), Map.of(), "", Map.of("net.ipv4.ip_forward", "1"), hostNet, null, null, null,
                List.of(), null, null, null, null, null);
        assertThatThrownBy(() -> new SpecMapper(B, SpecMapper.Host.UNRESTRICTED).sandbox(s, "/sb", null))
                .isInstanceOf(BackendException.class).hasMessageContaining("is not allowed with host networking");
    }

    private static Mount mount(RuntimeSpec spec, String destination) {
        return spec.mounts().stream().filter(m -> m.destination().equals(destination)).findFirst().orElseThrow();
    }
}
