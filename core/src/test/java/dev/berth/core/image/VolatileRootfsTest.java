package dev.berth.core.image;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Which kernels have overlay's {@code volatile} option (5.10 and later). The overlay options themselves, volatile by
 * default and not when the settings say so, are checked against a registry's image in ImageServiceRegistryTest, and
 * the runc plugin's RuncBackendTest mounts a volatile overlay for a real container.
 */
class VolatileRootfsTest {
    @ParameterizedTest
    @CsvSource({"6.18.0-1-amd64, true", "5.10.0-28-amd64, true", "5.9.16, false", "4.18.0-513.el8.x86_64, false",
            "10.0, true", "5, false", "'', false", "6.1, true"})
    void theKernelReleaseSaysWhetherOverlayHasVolatile(String release, boolean has) {
        assertThat(RootfsSnapshots.kernelHasVolatile(release)).isEqualTo(has);
    }
}
