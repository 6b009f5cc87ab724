package dev.berth.oci;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileTreesTest {
    @TempDir
    Path tmp;

    @Test
    void deletesATreeWithoutFollowingALinkThatPointsOutside() throws Exception {
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Path precious = Files.writeString(outside.resolve("precious"), "keep");
        Path tree = Files.createDirectories(tmp.resolve("bundle/rootfs/etc"));
        Files.writeString(tree.resolve("hosts"), "127.0.0.1 localhost");
        Files.createSymbolicLink(tree.resolve("escape"), outside);
        Files.createSymbolicLink(tree.resolve("file-link"), precious);
        Libc.mkfifo(tree.resolve("fifo"), 0600);

        FileTrees.deleteTree(tmp.resolve("bundle"));

        assertThat(tmp.resolve("bundle")).doesNotExist();
        assertThat(precious).hasContent("keep");
        assertThat(outside).isDirectory();
    }

    @Test
    void aLinkGivenAsTheTreeIsDeletedNotItsTarget() throws Exception {
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("precious"), "keep");
        Path link = Files.createSymbolicLink(tmp.resolve("link"), outside);

        FileTrees.deleteTree(link);

        assertThat(Files.exists(link, LinkOption.NOFOLLOW_LINKS)).isFalse();
        assertThat(outside.resolve("precious")).hasContent("keep");
    }

    @Test
    void aMissingTreeIsNothingToDo() throws Exception {
        FileTrees.deleteTree(tmp.resolve("never-made"));
        assertThat(tmp.resolve("never-made")).doesNotExist();
    }

    @Test
    void mountsUnderSeesTheRootMountOnlyAtTheRoot() {
        assertThat(FileTrees.mountsUnder(Path.of("/"))).contains("/");
        assertThat(FileTrees.isMounted(tmp.resolve("plain-dir"))).isFalse();
    }
}
