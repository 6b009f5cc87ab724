package dev.berth.oci.spec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.spi.LinuxResources;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link SpecMapper#resources}: the one mapping of CRI's limits to {@code linux.resources} and update bodies. */
class SpecMapperResourcesTest {
    @Test
    void noLimitsIsAnEmptyObject() {
        assertThat(SpecMapper.resources(LinuxResources.NONE).isEmpty()).isTrue();
        assertThat(OciJson.write(SpecMapper.resources(LinuxResources.NONE))).isEqualTo("{}");
    }

    @Test
    void everyLimitInTheSpecsShapeAndOrder() {
        LinuxResources r = new LinuxResources(100000, 50000, 512, 1L << 30, 0, "0-1", "0",
                Map.of("2MB", 4L << 20, "1GB", 1L << 30), Map.of("pids.max", "100", "io.weight", "50"), 2L << 30);
        // Huge pages by page size and unified keys sorted, so that the same request always writes the same spec.
        assertThat(OciJson.write(SpecMapper.resources(r))).isEqualTo("{\"cpu\":{\"shares\":512,\"quota\":50000,"
                + "\"period\":100000,\"cpus\":\"0-1\",\"mems\":\"0\"},\"memory\":{\"limit\":1073741824,"
                + "\"swap\":2147483648},\"hugepageLimits\":[{\"pageSize\":\"1GB\",\"limit\":1073741824},"
                + "{\"pageSize\":\"2MB\",\"limit\":4194304}],\"unified\":{\"io.weight\":\"50\",\"pids.max\":\"100\"}}");
    }

    @Test
    void aNegativeQuotaMeansUnlimitedAndIsKept() {
        LinuxResources r = new LinuxResources(0, -1, 0, 0, 0, "", "", Map.of(), Map.of(), 0);
        assertThat(OciJson.write(SpecMapper.resources(r))).isEqualTo("{\"cpu\":{\"quota\":-1}}");
    }
}
