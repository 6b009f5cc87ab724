package dev.berth.core.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.spi.BackendException;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading /etc/passwd through unpacked layers as overlayfs shows them, and resolving users with it. */
class ImageFilesTest {
    @TempDir
    Path tmp;

    private Path layer(String name, TestLayers.Layer l) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        LayerUnpacker.unpack(new ByteArrayInputStream(l.tar()), dir, 1 << 20);
        return dir;
    }

    private static String read(List<Path> lowers) {
        return ImageFiles.read(lowers, "etc/passwd", 1 << 20).map(b -> new String(b, StandardCharsets.UTF_8))
                .orElse("<absent>");
    }

    @Test
    void topLayerWinsAndWhiteoutsAndOpaqueDirsHide() throws Exception {
        Path base = layer("base", new TestLayers.Layer().file("etc/passwd", "base").file("etc/group", "g"));
        Path newer = layer("newer", new TestLayers.Layer().file("etc/passwd", "newer"));
        Path gone = layer("gone", new TestLayers.Layer().whiteout("etc/passwd"));
        Path opaque = layer("opaque", new TestLayers.Layer().opaque("etc").file("etc/hosts", "h"));
        Path unrelated = layer("unrelated", new TestLayers.Layer().file("usr/x", "x"));
        Path symlinked = layer("symlinked", new TestLayers.Layer().symlink("etc/passwd", "/host/etc/passwd"));
        assertThat(read(List.of(unrelated, base))).isEqualTo("base");
        assertThat(read(List.of(newer, unrelated, base))).isEqualTo("newer");
        assertThat(read(List.of(gone, base))).isEqualTo("<absent>");
        assertThat(read(List.of(newer, gone, base))).isEqualTo("newer");
        assertThat(read(List.of(opaque, base))).isEqualTo("<absent>");
        assertThat(read(List.of(symlinked, base))).isEqualTo("<absent>");
        assertThat(read(List.of())).isEqualTo("<absent>");
    }

    @Test
    void resolvesUsersLikeRunc() {
        String passwd = "root:x:0:0:root:/root:/bin/sh\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n# c\nbad line\n";
        String group = "root:x:0:\nusers:x:100:www-data\nwww-data:x:33:\nadm:x:4:www-data,root\n";
        java.util.function.Function<String, Optional<byte[]>> files = p -> Optional.of(
                (p.equals("etc/passwd") ? passwd : group).getBytes(StandardCharsets.UTF_8));
        assertThat(UserResolver.resolve("", "img", files)).isEqualTo(new UserResolver.Resolved(0, 0, List.of(4L)));
        assertThat(UserResolver.resolve("www-data", "img", files))
                .isEqualTo(new UserResolver.Resolved(33, 33, List.of(100L, 4L)));
        assertThat(UserResolver.resolve("33", "img", files)).isEqualTo(new UserResolver.Resolved(33, 33, List.of(100L, 4L)));
        assertThat(UserResolver.resolve("1002", "img", files)).isEqualTo(new UserResolver.Resolved(1002, 0, List.of()));
        assertThat(UserResolver.resolve("1003:users", "img", files)).isEqualTo(new UserResolver.Resolved(1003, 100, List.of()));
        assertThat(UserResolver.resolve("0:users", "img", files)).isEqualTo(new UserResolver.Resolved(0, 100, List.of(4L)));
        assertThat(UserResolver.resolve("www-data:7", "img", files)).isEqualTo(new UserResolver.Resolved(33, 7, List.of(100L, 4L)));
        assertThatThrownBy(() -> UserResolver.resolve("ghost", "img", files)).isInstanceOf(BackendException.class)
                .hasMessage("failed to resolve user \"ghost\" in image \"img\": no such user in /etc/passwd");
        assertThatThrownBy(() -> UserResolver.resolve("0:ghosts", "img", files)).isInstanceOf(BackendException.class)
                .hasMessageContaining("no such group");
        // no /etc/passwd at all: numeric users still work
        assertThat(UserResolver.resolve("5:6", "img", p -> Optional.empty()))
                .isEqualTo(new UserResolver.Resolved(5, 6, List.of()));
    }
}
