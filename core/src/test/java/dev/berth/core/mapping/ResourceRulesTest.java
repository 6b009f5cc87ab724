package dev.berth.core.mapping;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.cri.v1.ContainerConfig;
import dev.berth.cri.v1.ContainerMetadata;
import dev.berth.cri.v1.HugepageLimit;
import dev.berth.cri.v1.ImageSpec;
import dev.berth.cri.v1.LinuxContainerConfig;
import dev.berth.cri.v1.LinuxContainerResources;
import dev.berth.cri.v1.LinuxPodSandboxConfig;
import dev.berth.cri.v1.PodSandboxConfig;
import dev.berth.cri.v1.PodSandboxMetadata;
import dev.berth.spi.BackendException;
import dev.berth.spi.ImageConfig;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Resource values no Linux kernel takes are refused in core, as INVALID_ARGUMENT naming the field's path in the
 * request and the value, before a backend sees them: the values the CRI fuzzer sent that reached runc or a
 * cgroup write and came back INTERNAL, and their neighbours. Values at the edges of each rule are accepted.
 */
class ResourceRulesTest {
    record Row(String name, UnaryOperator<LinuxContainerResources.Builder> set, String message) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Row> refused() {
        return Stream.of(
                new Row("cfs period below 1 ms", r -> r.setCpuPeriod(4),
                        "cpu_period 4 is not valid: it must be 0 (not set) or 1000 to 1000000 microseconds"),
                new Row("cfs period above 1 s", r -> r.setCpuPeriod(1_000_001), "cpu_period 1000001 is not valid"),
                new Row("cfs quota below 1 ms", r -> r.setCpuQuota(1),
                        "cpu_quota 1 is not valid: it must be 0 (not set), -1 (no limit) or at least 1000"),
                new Row("negative cfs quota other than -1", r -> r.setCpuQuota(-2), "cpu_quota -2 is not valid"),
                new Row("cpu shares above the most", r -> r.setCpuShares(262_145),
                        "cpu_shares 262145 is not valid: the most is 262144"),
                new Row("cpu shares 1, below the least", r -> r.setCpuShares(1),
                        "cpu_shares 1 is not valid: it must be 0 (not set) or 2 to 262144"),
                new Row("oom score adj above 1000", r -> r.setOomScoreAdj(1001),
                        "oom_score_adj 1001 is not valid: it must be -1000 to 1000"),
                new Row("oom score adj below -1000", r -> r.setOomScoreAdj(-1001), "oom_score_adj -1001 is not valid"),
                new Row("swap below memory", r -> r.setMemoryLimitInBytes(64 << 20).setMemorySwapLimitInBytes(1),
                        "memory_swap_limit_in_bytes 1 is not valid: it counts memory and swap together, so it must "
                                + "not be below memory_limit_in_bytes (67108864)"),
                new Row("cpuset cpus not a list", r -> r.setCpusetCpus("cpuset-cpus-74"),
                        "cpuset_cpus \"cpuset-cpus-74\" is not valid: it must be a list of numbers and ascending ranges"),
                new Row("cpuset cpus descending range", r -> r.setCpusetCpus("0,3-1"),
                        "cpuset_cpus \"0,3-1\" is not valid"),
                new Row("cpuset cpus trailing comma", r -> r.setCpusetCpus("0,"), "cpuset_cpus \"0,\" is not valid"),
                new Row("cpuset mems not a list", r -> r.setCpusetMems("cpuset-mems-53"),
                        "cpuset_mems \"cpuset-mems-53\" is not valid"),
                new Row("hugepage size not a size", r -> r.addHugepageLimits(HugepageLimit.newBuilder()
                        .setPageSize("page-size-24").setLimit(1)),
                        "hugepage_limits[0].page_size \"page-size-24\" is not valid: it must be a size such as 2MB"),
                new Row("hugepage limit past int64", r -> r.addHugepageLimits(HugepageLimit.newBuilder()
                        .setPageSize("2MB").setLimit(-1)),
                        "hugepage_limits[0].limit 18446744073709551615 is not valid"),
                new Row("unified key not a cgroup file", r -> r.putUnified("fuzz", "v9"),
                        "unified key \"fuzz\" is not valid: a key is a cgroup v2 file name"),
                new Row("unified key naming a path", r -> r.putUnified("../memory.max", "1"),
                        "unified key \"../memory.max\" is not valid"));
    }

    static Stream<Row> accepted() {
        return Stream.of(
                new Row("cfs period at its limits", r -> r.setCpuPeriod(1000), ""),
                new Row("cfs period 1 s", r -> r.setCpuPeriod(1_000_000), ""),
                new Row("cfs quota -1", r -> r.setCpuQuota(-1), ""),
                new Row("cfs quota 1 ms", r -> r.setCpuQuota(1000).setCpuPeriod(100_000), ""),
                new Row("shares the most", r -> r.setCpuShares(262_144), ""),
                new Row("shares 2, the least", r -> r.setCpuShares(2), ""),
                new Row("oom score adj at its limits", r -> r.setOomScoreAdj(-1000), ""),
                new Row("oom score adj 1000", r -> r.setOomScoreAdj(1000), ""),
                new Row("swap equal to memory", r -> r.setMemoryLimitInBytes(1 << 20).setMemorySwapLimitInBytes(1 << 20),
                        ""),
                new Row("swap without memory", r -> r.setMemorySwapLimitInBytes(1 << 20), ""),
                new Row("cpuset lists", r -> r.setCpusetCpus("0-3,6,8-8").setCpusetMems("0"), ""),
                new Row("hugepage sizes", r -> r.addHugepageLimits(HugepageLimit.newBuilder().setPageSize("2MB")
                        .setLimit(4 << 20)).addHugepageLimits(HugepageLimit.newBuilder().setPageSize("1GB")), ""),
                new Row("unified files", r -> r.putUnified("memory.high", "1000000").putUnified("hugetlb.2MB.max", "0")
                        .putUnified("memory.oom.group", "1").putUnified("cpu.max", "max 100000"), ""));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refused")
    void anUpdateNamesTheFieldAndTheValue(Row row) {
        LinuxContainerResources r = row.set().apply(LinuxContainerResources.newBuilder()).build();
        assertThatThrownBy(() -> SpiMapper.resources(r, "linux")).isInstanceOfSatisfying(BackendException.class, e -> {
            assertThat(e.kind()).isEqualTo(BackendException.Kind.INVALID_ARGUMENT);
            assertThat(e.getMessage()).startsWith("linux.").contains(row.message());
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refused")
    void aCreateAndAPodNameTheirPaths(Row row) {
        LinuxContainerResources r = row.set().apply(LinuxContainerResources.newBuilder()).build();
        ContainerConfig c = ContainerConfig.newBuilder().setMetadata(ContainerMetadata.newBuilder().setName("c"))
                .setImage(ImageSpec.newBuilder().setImage("busybox"))
                .setLinux(LinuxContainerConfig.newBuilder().setResources(r)).build();
        assertThatThrownBy(() -> SpiMapper.container("c1", "s1", c, ImageConfig.NONE, List.of(), "", ""))
                .isInstanceOfSatisfying(BackendException.class,
                        e -> assertThat(e.getMessage()).startsWith("linux.resources.").contains(row.message()));
        PodSandboxConfig p = PodSandboxConfig.newBuilder().setMetadata(PodSandboxMetadata.newBuilder().setName("p"))
                .setLinux(LinuxPodSandboxConfig.newBuilder().setOverhead(r)).build();
        assertThatThrownBy(() -> SpiMapper.sandbox("s1", p, SpiMapper.Prepared.NONE))
                .isInstanceOfSatisfying(BackendException.class,
                        e -> assertThat(e.getMessage()).startsWith("linux.overhead.").contains(row.message()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("accepted")
    void valuesAtTheEdgesAreAccepted(Row row) {
        LinuxContainerResources r = row.set().apply(LinuxContainerResources.newBuilder()).build();
        assertThat(SpiMapper.resources(r, "linux")).isNotNull();
    }
}
