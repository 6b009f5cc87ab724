package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.spi.LinuxResources;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SwapLimitsTest {
    static LinuxResources memory(long limit, long swap) {
        return new LinuxResources(0, 0, 512, limit, 0, "", "", Map.of(), Map.of(), swap);
    }

    @Test
    void aMemoryLimitAloneGetsAnEqualSwapLimitWhereSwapIsAccounted() {
        LinuxResources r = SwapLimits.apply(memory(200, 0), true);
        assertThat(r.memorySwapLimitBytes()).isEqualTo(200);
        assertThat(r.memoryLimitBytes()).isEqualTo(200);
        assertThat(r.cpuShares()).as("the rest unchanged").isEqualTo(512);
    }

    @Test
    void aSwapLimitAskedForIsKeptAndNothingIsAddedWithoutAMemoryLimit() {
        LinuxResources asked = memory(200, 300);
        assertThat(SwapLimits.apply(asked, true)).isSameAs(asked);
        LinuxResources none = memory(0, 0);
        assertThat(SwapLimits.apply(none, true)).isSameAs(none);
        LinuxResources swapOnly = memory(0, 300);
        assertThat(SwapLimits.apply(swapOnly, true)).isSameAs(swapOnly);
    }

    @Test
    void whereSwapIsNotAccountedNoSwapLimitIsWritten() {
        assertThat(SwapLimits.apply(memory(200, 300), false).memorySwapLimitBytes()).isZero();
        assertThat(SwapLimits.apply(memory(200, 0), false).memorySwapLimitBytes()).isZero();
        LinuxResources none = memory(200, 0);
        assertThat(SwapLimits.apply(none, false)).isSameAs(none);
    }

    @Test
    void swapAccountingIsReadFromTheMemoryHierarchy(@TempDir Path dir) throws Exception {
        Path v1 = Files.createDirectories(dir.resolve("memory"));
        List<Cgroups.Hierarchy> hybrid = List.of(new Cgroups.Hierarchy(dir.resolve("unified"), true, List.of()),
                new Cgroups.Hierarchy(v1, false, List.of("memory")));
        assertThat(SwapLimits.accountedIn(hybrid)).as("v1 without memsw").isFalse();
        Files.writeString(v1.resolve("memory.memsw.limit_in_bytes"), "9223372036854771712\n");
        assertThat(SwapLimits.accountedIn(hybrid)).as("v1 with memsw").isTrue();

        Path v2 = Files.createDirectories(dir.resolve("v2"));
        Path child = Files.createDirectories(v2.resolve("system.slice"));
        Files.writeString(child.resolve("memory.current"), "0\n");
        List<Cgroups.Hierarchy> unified = List.of(new Cgroups.Hierarchy(v2, true, List.of("memory", "cpu")));
        assertThat(SwapLimits.accountedIn(unified)).as("v2 without memory.swap.max").isFalse();
        Files.writeString(child.resolve("memory.swap.max"), "max\n");
        assertThat(SwapLimits.accountedIn(unified)).as("v2 with memory.swap.max").isTrue();
    }
}
