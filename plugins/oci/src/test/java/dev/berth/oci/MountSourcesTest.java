package dev.berth.oci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.spi.BackendException;
import dev.berth.spi.ContainerMount;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MountSourcesTest {
    @TempDir
    Path dir;

    private static ContainerMount mount(String containerPath, Path host) {
        return new ContainerMount(containerPath, host.toString(), false, false, null, false, "");
    }

    @Test
    void missingHostPathsBecomeDirectoriesAndPresentOnesAreLeftAlone() throws Exception {
        Path file = Files.writeString(dir.resolve("file"), "kept");
        Path missing = dir.resolve("a").resolve("b");
        MountSources.ensure("c1", List.of(mount("/f", file), mount("/m", missing)));
        assertThat(missing).isDirectory();
        assertThat(file).isRegularFile().hasContent("kept");
    }

    @Test
    void aPathThatCannotBeCreatedIsAFailedPreconditionNamingIt() throws Exception {
        Path file = Files.writeString(dir.resolve("file"), "x");
        Path under = file.resolve("sub");
        assertThatThrownBy(() -> MountSources.ensure("c1", List.of(mount("/m", under))))
                .isInstanceOfSatisfying(BackendException.class,
                        e -> assertThat(e.kind()).isEqualTo(BackendException.Kind.FAILED_PRECONDITION))
                .hasMessageContaining("failed to create container \"c1\": host path \"" + under
                        + "\" of the mount at \"/m\" does not exist and cannot be created");
        Path dangling = Files.createSymbolicLink(dir.resolve("link"), dir.resolve("nowhere/deeper"));
        assertThatThrownBy(() -> MountSources.ensure("c1", List.of(mount("/l", dangling))))
                .isInstanceOf(BackendException.class)
                .hasMessageContaining("it is a link to a path that does not exist");
    }
}
