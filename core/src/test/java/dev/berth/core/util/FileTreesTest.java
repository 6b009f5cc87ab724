package dev.berth.core.util;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** deleteTree removes a tree and never what a symlink in it, or the root itself, points at. */
class FileTreesTest {
    @TempDir
    Path dir;

    @Test
    void aTreeGoesButNotWhatItsLinksPointAt() throws Exception {
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Files.writeString(outside.resolve("keep"), "x");
        Path tree = Files.createDirectories(dir.resolve("tree/a/b"));
        Files.writeString(tree.resolve("f"), "y");
        Files.createSymbolicLink(dir.resolve("tree/a/link-dir"), outside);
        Files.createSymbolicLink(dir.resolve("tree/link-file"), outside.resolve("keep"));
        Files.createSymbolicLink(dir.resolve("tree/dangling"), dir.resolve("nowhere"));

        FileTrees.deleteTree(dir.resolve("tree"));

        assertThat(dir.resolve("tree")).doesNotExist();
        assertThat(outside.resolve("keep")).hasContent("x");
    }

    @Test
    void aSymlinkedRootIsRemovedAsALink() throws Exception {
        Path target = Files.createDirectories(dir.resolve("target"));
        Files.writeString(target.resolve("keep"), "x");
        Path link = Files.createSymbolicLink(dir.resolve("link"), target);
        FileTrees.deleteTree(link);
        assertThat(Files.exists(link, LinkOption.NOFOLLOW_LINKS)).isFalse();
        assertThat(target.resolve("keep")).hasContent("x");

        Path dangling = Files.createSymbolicLink(dir.resolve("dangling"), dir.resolve("nowhere"));
        FileTrees.deleteTree(dangling);
        assertThat(Files.exists(dangling, LinkOption.NOFOLLOW_LINKS)).isFalse();
    }

    @Test
    void nothingThereIsNoError() throws Exception {
        FileTrees.deleteTree(dir.resolve("missing"));
        FileTrees.deleteTree(null);
        FileTrees.deleteTreeUnchecked(dir.resolve("missing"));
        Path file = Files.writeString(dir.resolve("file"), "z");
        FileTrees.deleteTreeUnchecked(file);
        assertThat(file).doesNotExist();
    }
}
