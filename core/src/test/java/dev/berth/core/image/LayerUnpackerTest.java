package dev.berth.core.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Unpacks hand-built layers into a temp dir and compares the result entry by entry. Runs as root. */
class LayerUnpackerTest {
    @TempDir
    Path tmp;
    Path layer;
    Path outside;

    @BeforeEach
    void dirs() throws Exception {
        layer = Files.createDirectories(tmp.resolve("a/b/layer"));
        outside = Files.createDirectories(tmp.resolve("outside"));
    }

    private LayerUnpacker.Stats unpack(TestLayers.Layer l, long max) throws Exception {
        return LayerUnpacker.unpack(new ByteArrayInputStream(l.tar()), layer, max);
    }

    @Test
    void unpacksEveryKindOfEntry() throws Exception {
        TestLayers.Layer l = new TestLayers.Layer()
                .dir("etc", 0755, 0, 0)
                .file("etc/passwd", "root:x:0:0::/root:/bin/sh\n")
                .file("bin/tool", "#!/bin/sh\necho hi\n".getBytes(StandardCharsets.UTF_8), 04755, 0, 0)
                .file("home/app/data", "x".repeat(100_000).getBytes(StandardCharsets.UTF_8), 0600, 1000, 1001)
                .dir("tmp", 01777, 0, 0)
                .dir("srv/private", 0700, 33, 33)
                .symlink("bin/sh", "busybox")
                .symlink("abs", "/etc/passwd")
                .hardlink("bin/tool2", "bin/tool")
                .chr("dev/null", 1, 3)
                .whiteout("var/gone")
                .opaque("var/cache")
                .fileWithXattr("etc/xattr", "x", "user.berth", "yes")
                .file("etc/passwd", "replaced\n");
        LayerUnpacker.Stats stats = unpack(l, 1 << 20);
        assertThat(TestTrees.describe(layer)).isEqualTo(l.expected);
        assertThat(stats.bytes()).isGreaterThan(100_000);
        assertThat(Files.readAttributes(layer.resolve("bin/tool2"), "unix:ino,nlink", LinkOption.NOFOLLOW_LINKS))
                .containsEntry("nlink", 2)
                .containsEntry("ino", Files.getAttribute(layer.resolve("bin/tool"), "unix:ino", LinkOption.NOFOLLOW_LINKS));
        UserDefinedFileAttributeView view = Files.getFileAttributeView(layer.resolve("etc/xattr"),
                UserDefinedFileAttributeView.class);
        ByteBuffer buf = ByteBuffer.allocate(16);
        view.read("berth", buf);
        assertThat(new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8)).isEqualTo("yes");
        assertThat(xattr(layer.resolve("var/cache"), "trusted.overlay.opaque")).isEqualTo("y");
    }

    static String xattr(Path p, String name) {
        byte[] v = Native.lgetxattr(p, name);
        return v == null ? "" : new String(v, StandardCharsets.UTF_8);
    }

    @Test
    void laterEntriesReplaceEarlierOnesWithoutFollowingLinks() throws Exception {
        Path victim = Files.writeString(outside.resolve("victim"), "safe");
        TestLayers.Layer l = new TestLayers.Layer()
                .symlink("evil", victim.toString())
                .file("evil", "overwritten?");
        unpack(l, 1 << 20);
        assertThat(Files.readString(victim)).isEqualTo("safe");
        assertThat(Files.readString(layer.resolve("evil"))).isEqualTo("overwritten?");
        assertThat(Files.isSymbolicLink(layer.resolve("evil"))).isFalse();
    }

    private void assertRejected(TestLayers.Layer l, String message) {
        assertThatThrownBy(() -> unpack(l, 1 << 20)).isInstanceOf(LayerUnpacker.BadArchive.class)
                .hasMessageContaining(message);
    }

    @Test
    void rejectsDotDot() throws Exception {
        assertRejected(new TestLayers.Layer().raw("../../../outside/pwned", TarConstants.LF_NORMAL, null,
                "x".getBytes(StandardCharsets.UTF_8)), "contains \"..\"");
        assertRejected(new TestLayers.Layer().raw("ok/../../x", TarConstants.LF_NORMAL, null, new byte[1]), "..");
        assertThat(outside).isEmptyDirectory();
        assertThat(tmp.resolve("a/pwned")).doesNotExist();
    }

    @Test
    void rejectsAbsoluteNames() throws Exception {
        Path target = outside.resolve("abs");
        assertRejected(new TestLayers.Layer().raw(target.toString(), TarConstants.LF_NORMAL, null, new byte[3]),
                "absolute path");
        assertThat(target).doesNotExist();
    }

    @Test
    void rejectsWritingThroughASymlink() throws Exception {
        assertRejected(new TestLayers.Layer().symlink("escape", outside.toString())
                .file("escape/pwned", "x"), "goes through the symlink \"escape\"");
        assertRejected(new TestLayers.Layer().symlink("up", "../../..")
                .dir("up/d", 0755, 0, 0), "goes through the symlink");
        assertThat(outside).isEmptyDirectory();
    }

    @Test
    void rejectsHardLinksOutside() throws Exception {
        Path target = Files.writeString(outside.resolve("secret"), "s");
        assertRejected(new TestLayers.Layer().raw("hl", TarConstants.LF_LINK, target.toString(), null),
                "absolute path");
        assertRejected(new TestLayers.Layer().raw("hl", TarConstants.LF_LINK, "../../../outside/secret", null), "..");
        assertRejected(new TestLayers.Layer().symlink("s", outside.toString())
                .raw("hl", TarConstants.LF_LINK, "s/secret", null), "goes through the symlink");
        assertRejected(new TestLayers.Layer().raw("hl", TarConstants.LF_LINK, "missing", null),
                "not a file earlier in this layer");
        assertThat(Files.getAttribute(target, "unix:nlink")).isEqualTo(1);
    }

    @Test
    void rejectsOversizedLayers() {
        TestLayers.Layer l = new TestLayers.Layer().file("big", new byte[600_000], 0644, 0, 0)
                .file("big2", new byte[600_000], 0644, 0, 0);
        assertThatThrownBy(() -> unpack(l, 1_000_000)).isInstanceOf(LayerUnpacker.BadArchive.class)
                .hasMessageContaining("\"big2\"").hasMessageContaining("limit of 1000000 bytes");
    }

    @Test
    void rejectsTruncatedTar() {
        byte[] tar = new TestLayers.Layer().file("f", new byte[10_000], 0644, 0, 0).tar();
        byte[] cut = java.util.Arrays.copyOf(tar, 4000);
        assertThatThrownBy(() -> LayerUnpacker.unpack(new ByteArrayInputStream(cut), layer, 1 << 20))
                .isInstanceOf(LayerUnpacker.BadArchive.class).hasMessageContaining("corrupt");
    }

    @Test
    void rejectsHugeMetadataHeaders() {
        TestLayers.Layer xattr = new TestLayers.Layer().fileWithXattr("f", "x", "user.big", "v".repeat(2 << 20));
        assertThatThrownBy(() -> unpack(xattr, 1 << 30)).isInstanceOf(LayerUnpacker.BadArchive.class)
                .hasMessageContaining("metadata header");
    }

    @Test
    void acceptsLongNamesAndXattrsOfReasonableSize() throws Exception {
        String deep = "d/".repeat(100) + "file-with-a-long-name-" + "x".repeat(150);
        unpack(new TestLayers.Layer().file(deep, "deep").fileWithXattr("g", "x", "user.ok", "v".repeat(2000)), 1 << 20);
        assertThat(Files.readString(layer.resolve(deep))).isEqualTo("deep");
        assertThat(xattr(layer.resolve("g"), "user.ok")).hasSize(2000);
    }

    private LayerUnpacker.BadArchive refusal(byte[] tar) {
        Throwable t = org.assertj.core.api.Assertions.catchThrowable(
                () -> LayerUnpacker.unpack(new ByteArrayInputStream(tar), layer, 1 << 30));
        assertThat(t).isInstanceOf(LayerUnpacker.BadArchive.class);
        return (LayerUnpacker.BadArchive) t;
    }

    @Test
    void refusesPathsTooDeepOrTooLongBeforeWritingThem() throws Exception {
        LayerUnpacker.BadArchive deep = refusal(TestLayers.nestedDirs(4000));
        assertThat(deep.kind()).isEqualTo(dev.berth.spi.BackendException.Kind.INVALID_ARGUMENT);
        assertThat(deep).hasMessageContaining("is nested 513 levels deep; the limit is 512");
        assertThat(deep.getMessage()).hasSizeLessThan(400);
        // twenty 250-byte names make a path over PATH_MAX in far fewer levels
        String dir = "n".repeat(250);
        String name = (dir + "/").repeat(20) + "f";
        assertRejected(new TestLayers.Layer().file(name, "x"), "bytes in the layer's directory; the limit is 4096");
        assertRejected(new TestLayers.Layer().file("x".repeat(256), "x"), "path component of 256 bytes");
        assertRejected(new TestLayers.Layer().symlink("s", "t".repeat(5000)), "target of 5000 bytes");
        // a path that fits is taken, however close to the limit
        int room = 4096 - 1 - layer.toString().length() - 1;
        int levels = (room - 1) / 100;
        String fits = ("m".repeat(99) + "/").repeat(levels) + "e".repeat(room - 100 * levels);
        assertThat(layer.resolve(fits).toString()).hasSize(4095);
        unpack(new TestLayers.Layer().file(fits, "ok"), 1 << 20);
        assertThat(Files.readString(layer.resolve(fits))).isEqualTo("ok");
    }

    @Test
    void refusesXattrsTheFileSystemCannotHoldAsAPrecondition() throws Exception {
        LayerUnpacker.BadArchive linux = refusal(new TestLayers.Layer()
                .fileWithXattr("f", "x", "user.huge", "v".repeat(70_000)).tar());
        assertThat(linux.kind()).isEqualTo(dev.berth.spi.BackendException.Kind.INVALID_ARGUMENT);
        assertThat(linux).hasMessageContaining("entry \"f\": xattr \"user.huge\"").hasMessageContaining("65536");
        Files.deleteIfExists(layer.resolve("f"));
        Path probe = Files.writeString(tmp.resolve("probe"), "");
        boolean takesIt = true;
        try {
            Files.getFileAttributeView(probe, UserDefinedFileAttributeView.class)
                    .write("big", ByteBuffer.wrap(new byte[20_000]));
        } catch (java.io.IOException e) {
            takesIt = false;
        }
        org.junit.jupiter.api.Assumptions.assumeFalse(takesIt, "this file system takes a 20,000-byte xattr");
        LayerUnpacker.BadArchive fs = refusal(new TestLayers.Layer()
                .fileWithXattr("g", "x", "user.a", "v".repeat(3000))
                .fileWithXattr("h", "x", "user.big", "v".repeat(20_000)).tar());
        assertThat(fs.kind()).isEqualTo(dev.berth.spi.BackendException.Kind.FAILED_PRECONDITION);
        assertThat(fs).hasMessageContaining("entry \"h\": xattr \"user.big\" of 20000 bytes does not fit");
    }

    @Test
    void ignoresForgedOverlayXattrs() throws Exception {
        unpack(new TestLayers.Layer().fileWithXattr("f", "x", "trusted.overlay.redirect", "/etc"), 1 << 20);
        assertThat(xattr(layer.resolve("f"), "trusted.overlay.redirect")).isEmpty();
    }
}
