package dev.berth.core.image;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.core.image.ImageVolumes.Outcome;
import dev.berth.core.image.ImageVolumes.Result;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An image's declared volumes in a container's writable layer, on layer directories built by hand as the unpacker
 * leaves them (whiteouts as 0/0 character devices, opaque directories by xattr). Runs as root.
 */
class ImageVolumesTest {
    @TempDir
    Path tmp;
    Path upper;
    Path top;
    Path bottom;

    @BeforeEach
    void layers() throws Exception {
        upper = Files.createDirectories(tmp.resolve("root/upper"));
        top = Files.createDirectories(tmp.resolve("root/top"));
        bottom = Files.createDirectories(tmp.resolve("root/bottom"));
    }

    private List<Outcome> ensure(List<String> volumes, List<String> covered) throws Exception {
        return ImageVolumes.ensure(upper, List.of(top, bottom), volumes, covered);
    }

    private Outcome ensure(String volume) throws Exception {
        List<Outcome> out = ensure(List.of(volume), List.of());
        assertThat(out).hasSize(1);
        return out.getFirst();
    }

    private static Path dir(Path p, int mode, int uid, int gid) throws Exception {
        Files.createDirectories(p);
        Native.lchown(p, uid, gid);
        Native.chmod(p, mode);
        return p;
    }

    private static Map<String, Object> attrs(Path p) throws Exception {
        return Files.readAttributes(p, "unix:mode,uid,gid,lastModifiedTime", LinkOption.NOFOLLOW_LINKS);
    }

    private List<String> upperEntries() throws Exception {
        try (Stream<Path> all = Files.walk(upper)) {
            return all.filter(p -> !p.equals(upper)).map(p -> upper.relativize(p).toString()).sorted().toList();
        }
    }

    @Test
    void aVolumeInNoLayerIsMadeRootOwned0755() throws Exception {
        Outcome o = ensure("/data");
        assertThat(o.result()).isEqualTo(Result.CREATED);
        assertThat(o.path()).isEqualTo("/data");
        Map<String, Object> a = attrs(upper.resolve("data"));
        assertThat((Integer) a.get("mode") & 07777).isEqualTo(0755);
        assertThat(a.get("uid")).isEqualTo(0);
        assertThat(a.get("gid")).isEqualTo(0);
        assertThat(ImageVolumes.lookup(List.of(upper, top, bottom), List.of("data")).kind())
                .isEqualTo(ImageFiles.Kind.DIR);
    }

    @Test
    void theImagesDirectoriesOnTheWayKeepTheirOwnerModeAndTime() throws Exception {
        dir(bottom.resolve("var"), 0755, 0, 0);
        Path lib = dir(bottom.resolve("var/lib"), 01770, 7, 8);
        FileTime old = FileTime.fromMillis(1_600_000_000_000L);
        Files.setLastModifiedTime(lib, old);
        dir(top.resolve("var"), 0750, 5, 6); // the top layer's /var is the one overlay shows

        Outcome o = ensure("/var/lib/app/");
        assertThat(o.result()).isEqualTo(Result.CREATED);
        assertThat(o.path()).isEqualTo("/var/lib/app");
        assertThat(upperEntries()).containsExactly("var", "var/lib", "var/lib/app");
        Map<String, Object> var = attrs(upper.resolve("var"));
        assertThat((Integer) var.get("mode") & 07777).isEqualTo(0750);
        assertThat(var.get("uid")).isEqualTo(5);
        assertThat(var.get("gid")).isEqualTo(6);
        Map<String, Object> copied = attrs(upper.resolve("var/lib"));
        assertThat((Integer) copied.get("mode") & 07777).isEqualTo(01770);
        assertThat(copied.get("uid")).isEqualTo(7);
        assertThat(copied.get("gid")).isEqualTo(8);
        assertThat(copied.get("lastModifiedTime")).isEqualTo(old);
        assertThat((Integer) attrs(upper.resolve("var/lib/app")).get("mode") & 07777).isEqualTo(0755);
    }

    @Test
    void aDirectoryTheImageHasIsLeftAlone() throws Exception {
        dir(bottom.resolve("srv/data"), 0700, 1000, 1000);
        Files.writeString(bottom.resolve("srv/data/keep"), "kept");
        Outcome o = ensure("/srv/data");
        assertThat(o.result()).isEqualTo(Result.EXISTS);
        assertThat(upperEntries()).isEmpty();
    }

    @Test
    void symbolicLinksAreFollowedInsideTheRoot() throws Exception {
        dir(bottom.resolve("real"), 0711, 3, 3);
        Files.createSymbolicLink(top.resolve("abs"), Path.of("/real"));
        dir(bottom.resolve("etc"), 0755, 0, 0);
        Files.createSymbolicLink(bottom.resolve("etc/rel"), Path.of("../real/./sub/.."));
        Files.createSymbolicLink(top.resolve("escape"), Path.of("../../../../../outside"));

        assertThat(ensure("/abs/v1")).extracting(Outcome::result, Outcome::path)
                .containsExactly(Result.CREATED, "/real/v1");
        assertThat(ensure("/etc/rel/v2")).extracting(Outcome::result, Outcome::path)
                .containsExactly(Result.CREATED, "/real/v2");
        assertThat(ensure("/escape/v3")).extracting(Outcome::result, Outcome::path)
                .containsExactly(Result.CREATED, "/outside/v3");
        assertThat(upperEntries()).containsExactly("outside", "outside/v3", "real", "real/v1", "real/v2");
        assertThat((Integer) attrs(upper.resolve("real")).get("uid")).isEqualTo(3);
        assertThat(tmp.resolve("outside")).doesNotExist();
        assertThat(tmp.resolve("root/outside")).doesNotExist();
        assertThat(Files.isSymbolicLink(top.resolve("abs"))).isTrue();
    }

    @Test
    void aWhiteoutOrAnOpaqueDirectoryHidesWhatIsBelow() throws Exception {
        dir(bottom.resolve("gone"), 0700, 9, 9);
        Native.mknod(top.resolve("gone"), Native.S_IFCHR | 0, 0, 0);
        dir(bottom.resolve("opq/x"), 0700, 9, 9);
        dir(top.resolve("opq"), 0755, 0, 0);
        Native.lsetxattr(top.resolve("opq"), "trusted.overlay.opaque", "y".getBytes(StandardCharsets.US_ASCII));

        assertThat(ensure("/gone/x").result()).isEqualTo(Result.CREATED);
        Map<String, Object> gone = attrs(upper.resolve("gone"));
        assertThat(gone.get("uid")).as("made anew, not copied from the whited-out layer").isEqualTo(0);
        assertThat((Integer) gone.get("mode") & 07777).isEqualTo(0755);
        assertThat(ensure("/opq/x").result()).isEqualTo(Result.CREATED);
        assertThat((Integer) attrs(upper.resolve("opq/x")).get("uid")).isEqualTo(0);
    }

    @Test
    void aFileOrALinkLoopIsSkipped() throws Exception {
        Files.createDirectories(bottom.resolve("etc"));
        Files.writeString(bottom.resolve("etc/file"), "x");
        Files.createSymbolicLink(top.resolve("a"), Path.of("/b"));
        Files.createSymbolicLink(top.resolve("b"), Path.of("a"));

        assertThat(ensure("/etc/file").result()).isEqualTo(Result.NOT_A_DIRECTORY);
        assertThat(ensure("/etc/file/sub")).extracting(Outcome::result, Outcome::path)
                .containsExactly(Result.NOT_A_DIRECTORY, "/etc/file");
        assertThat(ensure("/a/x").result()).isEqualTo(Result.TOO_MANY_LINKS);
        assertThat(upperEntries()).isEmpty();
    }

    @Test
    void anOverLongVolumeOrTooManyAreSkipped() throws Exception {
        assertThat(ensure("/" + "a/".repeat(2100)).result()).isEqualTo(Result.TOO_LONG);
        List<String> many = new java.util.ArrayList<>();
        for (int i = 0; i <= ImageVolumes.MAX_VOLUMES; i++) {
            many.add("/v/" + i);
        }
        List<Outcome> out = ensure(many, List.of());
        assertThat(out).hasSize(ImageVolumes.MAX_VOLUMES + 1);
        assertThat(out.getLast().result()).isEqualTo(Result.TOO_MANY);
        assertThat(out.subList(0, ImageVolumes.MAX_VOLUMES)).allMatch(o -> o.result() == Result.CREATED);
        assertThat(upper.resolve("v/" + (ImageVolumes.MAX_VOLUMES - 1))).isDirectory();
        assertThat(upper.resolve("v/" + ImageVolumes.MAX_VOLUMES)).doesNotExist();
    }

    @Test
    void aVolumeTheRequestMountsIsTheBackendsAndTheRootIsNoVolume() throws Exception {
        List<Outcome> out = ensure(List.of("/data/", "/", "cache"), List.of("/data", "/other"));
        assertThat(out).extracting(Outcome::volume, Outcome::result)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("/data/", Result.COVERED),
                        org.assertj.core.groups.Tuple.tuple("cache", Result.CREATED));
        assertThat(upperEntries()).containsExactly("cache");
    }

    @Test
    void volumesAreReadFromTheConfigAndPathsCleaned() throws Exception {
        ObjectMapper json = new ObjectMapper();
        assertThat(ImageVolumes.declared(json.readTree("{\"Volumes\":{\"/a\":{},\"/b/c\":{}}}")))
                .containsExactly("/a", "/b/c");
        assertThat(ImageVolumes.declared(json.readTree("{\"Volumes\":null}"))).isEmpty();
        assertThat(ImageVolumes.declared(json.readTree("{}"))).isEmpty();
        assertThat(ImageVolumes.clean("../../x/./y//")).isEqualTo("/x/y");
        assertThat(ImageVolumes.clean("/")).isEqualTo("/");
    }
}
