package dev.berth.oci;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.spi.LinuxResources;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ResourceLimitsTest {
    @Test
    void unsetLimitsAreLeftOut() {
        assertThat(ResourceLimits.toOci(LinuxResources.NONE)).isEmpty();
    }

    @Test
    void everyLimitInTheSpecsShapeAndOrder() {
        LinuxResources r = new LinuxResources(100000, 50000, 512, 1L << 30, 0, "0-1", "0",
                Map.of("2MB", 4L << 20, "1GB", 1L << 30), Map.of("pids.max", "100", "io.weight", "50"), 2L << 30);
        Map<String, Object> oci = ResourceLimits.toOci(r);
        assertThat(oci).containsOnlyKeys("cpu", "memory", "hugepageLimits", "unified");
        assertThat(List.copyOf(oci.keySet())).containsExactly("cpu", "memory", "hugepageLimits", "unified");
        assertThat(oci.get("cpu")).isEqualTo(Map.of("shares", 512L, "quota", 50000L, "period", 100000L,
                "cpus", "0-1", "mems", "0"));
        assertThat(oci.get("memory")).isEqualTo(Map.of("limit", 1L << 30, "swap", 2L << 30));
        // Sorted by page size name, so that the same request always writes the same spec.
        assertThat(oci.get("hugepageLimits")).isEqualTo(List.of(Map.of("pageSize", "1GB", "limit", 1L << 30),
                Map.of("pageSize", "2MB", "limit", 4L << 20)));
        assertThat(List.<Object>copyOf(((Map<?, ?>) oci.get("unified")).keySet()))
                .containsExactly("io.weight", "pids.max");
    }

    @Test
    void aNegativeQuotaMeansUnlimitedAndIsKept() {
        LinuxResources r = new LinuxResources(0, -1, 0, 0, 0, "", "", Map.of(), Map.of(), 0);
        assertThat(ResourceLimits.toOci(r)).isEqualTo(Map.of("cpu", Map.of("quota", -1L)));
    }
}
