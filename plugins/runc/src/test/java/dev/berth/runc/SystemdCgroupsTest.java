package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The systemd cgroup driver's names: slices from cgroup parents, cgroupsPath forms and where systemd puts them. */
class SystemdCgroupsTest {
    static final String ID = "a".repeat(64);

    static Stream<Arguments> slices() {
        return Stream.of(
                // kubelet's form (cgroupDriver: systemd): the expanded path of the pod's slice
                Arguments.of("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod12_ab.slice",
                        "kubepods-besteffort-pod12_ab.slice"),
                Arguments.of("/kubepods.slice/kubepods-pod1.slice/", "kubepods-pod1.slice"),
                Arguments.of("kubepods-burstable-pod7.slice", "kubepods-burstable-pod7.slice"),
                Arguments.of("/test.slice", "test.slice"),
                Arguments.of("", "system.slice"),
                Arguments.of(null, "system.slice"),
                Arguments.of("/", "system.slice"));
    }

    @ParameterizedTest
    @MethodSource("slices")
    void aPodsSliceIsTheLastElementOfItsCgroupParent(String parent, String slice) {
        assertThat(SystemdCgroups.slice(parent)).isEqualTo(slice);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/kubepods/besteffort/pod1", "kubepods", "/a.slice/b--c.slice", "/x.slice/-y.slice"})
    void aCgroupParentThatNamesNoSliceIsRefused(String parent) {
        assertThatThrownBy(() -> SystemdCgroups.slice(parent)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(parent.substring(parent.lastIndexOf('/') + 1));
    }

    @Test
    void aContainersCgroupsPathIsSliceBerthId() {
        assertThat(SystemdCgroups.cgroupsPath("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice",
                ID)).isEqualTo("kubepods-besteffort-pod1.slice:berth:" + ID);
        assertThat(SystemdCgroups.cgroupsPath("", ID)).isEqualTo("system.slice:berth:" + ID);
        assertThat(OciResources.cgroupsPath(true, "/test.slice", "sb", ID)).isEqualTo("test.slice:berth:" + ID);
        assertThat(SystemdCgroups.scope(ID)).isEqualTo("berth-" + ID + ".scope");
    }

    @Test
    void sliceNamesExpandLikeSystemd() {
        assertThat(SystemdCgroups.expand("kubepods-besteffort-pod1.slice"))
                .isEqualTo("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice");
        assertThat(SystemdCgroups.expand("system.slice")).isEqualTo("/system.slice");
        assertThat(SystemdCgroups.expand("-.slice")).isEqualTo("/");
        for (String bad : List.of("a", "a/b.slice", "a--b.slice", "-a.slice", "a-.slice", ".slice")) {
            assertThatThrownBy(() -> SystemdCgroups.expand(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void theScopesCgroupIsTheExpandedSliceAndTheUnitBelowSystemdsRoot() {
        String path = "kubepods-besteffort-pod1.slice:berth:" + ID;
        assertThat(SystemdCgroups.cgroup("/", path))
                .isEqualTo("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/berth-" + ID + ".scope");
        assertThat(SystemdCgroups.cgroup("/machine.slice/node.scope", "test.slice:berth:" + ID))
                .isEqualTo("/machine.slice/node.scope/test.slice/berth-" + ID + ".scope");
        assertThat(SystemdCgroups.cgroup("/", ":berth:" + ID)).isEqualTo("/system.slice/berth-" + ID + ".scope");
        assertThat(SystemdCgroups.cgroup("/", "system.slice::" + ID)).isEqualTo("/system.slice/" + ID + ".scope");
        assertThat(SystemdCgroups.cgroup("/", "kubepods.slice:berth:kubepods-pod2.slice"))
                .isEqualTo("/kubepods.slice/kubepods-pod2.slice");
        assertThat(SystemdCgroups.sliceCgroup("/", "-.slice")).isEqualTo("/");
        assertThatThrownBy(() -> SystemdCgroups.cgroup("/", "/berth/" + ID)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void systemdsRootIsPidOnesCgroupWithoutInitScope() {
        assertThat(SystemdCgroups.root(List.of("12:memory:/", "1:name=systemd:/init.scope", "0::/init.scope")))
                .isEqualTo("/");
        assertThat(SystemdCgroups.root(List.of("0::/init.scope"))).isEqualTo("/");
        assertThat(SystemdCgroups.root(List.of("4:memory:/x", "1:name=systemd:/machine.slice/node.scope/init.scope",
                "0::/elsewhere"))).isEqualTo("/machine.slice/node.scope");
        assertThat(SystemdCgroups.root(List.of("3:cpu:/"))).isEqualTo("/");
    }

    @Test
    void systemdsOwnSlicesAreNeverStopped() {
        assertThat(SystemdCgroups.stoppable("system.slice")).isFalse();
        assertThat(SystemdCgroups.stoppable("-.slice")).isFalse();
        assertThat(SystemdCgroups.stoppable("kubepods-besteffort-pod1.slice")).isTrue();
    }
}
