package dev.berth.runc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.spi.BackendException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HugePageSizesTest {
    @TempDir
    Path dir;

    @Test
    void theKernelsDirectoriesNameTheSizesAsTheCriDoes() throws Exception {
        for (String d : new String[] {"hugepages-64kB", "hugepages-2048kB", "hugepages-1048576kB", "other"}) {
            Files.createDirectory(dir.resolve(d));
        }
        assertThat(HugePageSizes.of(dir)).containsExactlyInAnyOrder("64KB", "2MB", "1GB");
        assertThat(HugePageSizes.of(dir.resolve("absent"))).isEmpty();
        assertThat(HugePageSizes.name(32 * 1024 * 1024)).isEqualTo("32GB");
        assertThat(HugePageSizes.name(1536)).isEqualTo("1536KB");
    }

    @Test
    void aSizeTheHostLacksIsInvalidArgumentNamingIt() {
        HugePageSizes.check("create", Map.of("2MB", 0L), Set.of("2MB", "1GB"));
        assertThatThrownBy(() -> HugePageSizes.check("create", Map.of("3MB", 0L), Set.of("1GB", "2MB")))
                .isInstanceOfSatisfying(BackendException.class, e -> {
                    assertThat(e.kind()).isEqualTo(BackendException.Kind.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).isEqualTo("create: hugepage_limits names page size \"3MB\", which "
                            + "this host does not have (it has 1GB, 2MB)");
                });
        assertThatThrownBy(() -> HugePageSizes.check("create", Map.of("2MB", 0L), Set.of()))
                .hasMessageEndingWith("(it has no huge pages)");
    }
}
