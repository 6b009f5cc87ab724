package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.oci.spec.Devices;
import dev.berth.oci.spec.SpecMapper.HostDevice;
import dev.berth.spi.ContainerSpec;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The runc handler's {@code privileged_without_host_devices} over berth-oci's {@link Devices}. */
class PrivilegedDevicesTest {
    @Test
    void onlyAPrivilegedContainerGetsTheHostsDevicesAndTheHandlerCanTurnThatOff() {
        ContainerSpec plain = Host.container("a".repeat(64), "b".repeat(64), Path.of("/nonexistent"),
                List.of("true"), null, null, dev.berth.spi.ContainerSecurity.DEFAULT);
        ContainerSpec privileged = Host.container("a".repeat(64), "b".repeat(64), Path.of("/nonexistent"),
                List.of("true"), null, null, RuncBackendTest.PRIVILEGED);
        assertThat(Devices.of("c", plain, false)).isEmpty();
        assertThat(Devices.of("c", privileged, true)).as("privileged_without_host_devices").isEmpty();
        assertThat(Devices.of("c", privileged, false)).extracting(HostDevice::containerPath).contains("/dev/null");
    }
}
