package dev.berth.oci.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.oci.spec.SpecMapper.HostDevice;
import dev.berth.spi.BackendException;
import dev.berth.spi.DeviceSpec;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DevicesTest {
    private static final HostDevice ASKED = new HostDevice("/dev/kvm", "/dev/null", "c", 1, 3, 0666, "r");
    private static final HostDevice HOST_KVM = new HostDevice("/dev/kvm", "/dev/kvm", "c", 10, 232, 0660, "rwm");
    private static final HostDevice HOST_LOOP = new HostDevice("/dev/loop0", "/dev/loop0", "b", 7, 0, 0660, "rwm");

    @Test
    void whatAContainerAsksForWinsOverTheHostsDeviceAtTheSamePath() {
        assertThat(Devices.withHost(List.of(ASKED), List.of(HOST_KVM, HOST_LOOP)))
                .containsExactly(ASKED, HOST_LOOP);
    }

    @Test
    void theHostsDevicesAreCharacterAndBlockNodesOnlyWithoutThePerContainerDirectories() {
        List<HostDevice> host = Devices.host(Path.of("/dev"));
        assertThat(host).extracting(HostDevice::containerPath).contains("/dev/null", "/dev/zero")
                .noneMatch(p -> p.startsWith("/dev/pts/") || p.startsWith("/dev/shm/") || p.equals("/dev/console"));
        assertThat(host).allSatisfy(d -> {
            assertThat(d.type()).isIn("c", "b");
            assertThat(d.permissions()).isEqualTo("rwm");
            assertThat(d.hostPath()).isEqualTo(d.containerPath());
        });
        HostDevice nul = host.stream().filter(d -> d.containerPath().equals("/dev/null")).findFirst().orElseThrow();
        assertThat(List.of(nul.major(), nul.minor())).containsExactly(1L, 3L);
    }

    @Test
    void aDirectoryAskedForGivesEachDeviceUnderItAtTheSamePlaceUnderTheContainerPath(@TempDir Path empty) {
        List<HostDevice> all = Devices.resolve("c", List.of(new DeviceSpec("/devices/", "/dev", "rw")));
        assertThat(all).extracting(HostDevice::containerPath).contains("/devices/null", "/devices/zero")
                .noneMatch(p -> p.startsWith("/devices/pts/") || p.equals("/devices/console"));
        assertThat(all).allSatisfy(d -> {
            assertThat(d.permissions()).isEqualTo("rw");
            assertThat(d.containerPath()).isEqualTo("/devices/" + d.hostPath().substring("/dev/".length()));
        });
        assertThatThrownBy(() -> Devices.resolve("c", List.of(new DeviceSpec("/dev/x", empty.toString(), "rw"))))
                .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.kind())
                        .isEqualTo(BackendException.Kind.INVALID_ARGUMENT))
                .hasMessageContaining("holds no device");
        assertThatThrownBy(() -> Devices.resolve("c", List.of(new DeviceSpec("/dev/x", "/etc/hostname", "rw"))))
                .hasMessageContaining("/etc/hostname is not a device");
    }

    @Test
    void aRelativeOrMissingHostPathIsRefusedInPlainWords() {
        assertThatThrownBy(() -> Devices.resolve("c", List.of(new DeviceSpec("/dev/x", "dev/null", "rw"))))
                .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.kind())
                        .isEqualTo(BackendException.Kind.INVALID_ARGUMENT))
                .hasMessageContaining("device host path \"dev/null\" is not absolute");
        assertThatThrownBy(() -> Devices.resolve("c", List.of(new DeviceSpec("/dev/x", "/dev/berth-none", "rw"))))
                .isInstanceOfSatisfying(BackendException.class, e -> assertThat(e.kind())
                        .isEqualTo(BackendException.Kind.INVALID_ARGUMENT))
                .hasMessageContaining("device /dev/berth-none does not exist on the host");
    }
}
