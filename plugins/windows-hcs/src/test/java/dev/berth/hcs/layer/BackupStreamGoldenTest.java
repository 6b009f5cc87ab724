package dev.berth.hcs.layer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.hcs.bind.BackupFiles;
import dev.berth.hcs.bind.BackupFiles.BasicInfo;
import dev.berth.hcs.bind.BackupStream;
import dev.berth.hcs.fake.LayerBlobs;
import dev.berth.hcs.fake.WindowsLayerTars;
import dev.berth.hcs.fake.WindowsLayerTars.Entry;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backup streams {@link LayerTar} makes from a table of backuptar-shaped entries, byte for byte against
 * {@code src/test/resources/golden/backup-streams.txt}, and decoded back field by field.
 *
 * <p>The golden hex was written from the documented layouts, independently of berth's encoder: Microsoft's
 * {@code WIN32_STREAM_ID} and {@code REPARSE_DATA_BUFFER} references, checked against go-winio's {@code backup.go}
 * ({@code BackupStreamWriter.WriteHeader}: id, attributes, int64 size, name size, UTF-16 name), {@code reparse.go}
 * ({@code EncodeReparsePoint}: the NT substitute name first, the print name second, both NUL-terminated, the flags
 * word only for a symlink), and {@code backuptar/tar.go} ({@code WriteBackupStreamFromTarFile}: the security
 * descriptor, extended attributes, reparse data and data streams in that order, then a {@code :name:$DATA} stream
 * per {@code file:name} entry; {@code FileInfoFromHeader}: the creation time defaulting to the modification time),
 * and with hcsshim's {@code pkg/ociwclayer/import.go} and {@code internal/wclayer/baselayerwriter.go} (the basic info
 * set before the stream is written). No code of theirs is copied.
 */
class BackupStreamGoldenTest {
    static final byte[] SD = Base64.getDecoder().decode(WindowsLayerTars.SD_BASE64);
    static final Instant M = Instant.ofEpochSecond(1_700_000_000L, 500_000_000);
    static final Instant A = Instant.ofEpochSecond(1_700_000_001L);
    static final Instant C = Instant.ofEpochSecond(1_700_000_002L);

    @TempDir
    Path dir;

    /** The table: a file with every header, a directory, an ADS, two symlinks, a junction and a bare file. */
    static List<Entry> table() {
        return List.of(
                Entry.file("Files/a.txt", "hi").times(M, A, C)
                        .pax("MSWINDOWS.rawsd", WindowsLayerTars.SD_BASE64)
                        .pax("MSWINDOWS.fileattr", "32")
                        .pax("LIBARCHIVE.creationtime", "1600000000.25"),
                Entry.dir("Files/dir").pax("MSWINDOWS.rawsd", WindowsLayerTars.SD_BASE64)
                        .pax("MSWINDOWS.fileattr", "18"),
                Entry.file("Files/b.txt", "x"),
                Entry.file("Files/b.txt:zone", "ZZ"),
                Entry.symlink("Files/link", "C:\\target").pax("MSWINDOWS.fileattr", "1056"),
                Entry.symlink("Files/rel", "sub\\f"),
                Entry.symlink("Files/junc", "C:\\dir").pax("MSWINDOWS.mountpoint", "1")
                        .pax("MSWINDOWS.fileattr", "1040"),
                Entry.file("Files/plain.txt", "abc"));
    }

    @Test
    void theStreamsAreTheGoldenBytes() throws Exception {
        Capturing files = new Capturing(dir.resolve("out"));
        write(table(), files);
        Map<String, String> golden = new TreeMap<>();
        for (String line : Files.readAllLines(Path.of("src/test/resources/golden/backup-streams.txt"))) {
            golden.put(line.substring(0, line.indexOf(' ')), line.substring(line.indexOf(' ') + 1));
        }
        Map<String, String> got = new TreeMap<>();
        files.streams.forEach((k, v) -> got.put(k, HexFormat.of().formatHex(v.toByteArray())));
        assertThat(got).isEqualTo(golden);
    }

    @Test
    void theBasicInfoIsTheHeadersAsFiletimes() throws Exception {
        Capturing files = new Capturing(dir.resolve("out"));
        write(table(), files);
        // 1700000000.5 s after 1970 is 133444736005000000 in 100 ns since 1601; creation 1600000000.25 s
        assertThat(files.infos.get("Files/a.txt")).isEqualTo(new BasicInfo(132_444_736_002_500_000L,
                133_444_736_010_000_000L, 133_444_736_005_000_000L, 133_444_736_020_000_000L, 32));
        assertThat(files.infos.get("Files/dir").attributes()).isEqualTo(18);
        assertThat(files.infos.get("Files/link").attributes()).isEqualTo(0x420);
        assertThat(files.infos.get("Files/junc").attributes()).isEqualTo(0x410);
        // no Windows headers: backuptar's defaults, the creation time is the modification time (the epoch here)
        BasicInfo plain = files.infos.get("Files/plain.txt");
        assertThat(plain.attributes()).isZero();
        assertThat(plain.lastWriteTime()).isEqualTo(116_444_736_000_000_000L);
        assertThat(plain.creationTime()).isEqualTo(plain.lastWriteTime());
        // reapplied innermost (last) first; the junction's attributes say directory, so it is one, as in hcsshim
        assertThat(files.directories).containsExactly("Files/junc", "Files/dir");
    }

    @Test
    void theGoldenStreamsDecodeToEveryField() throws Exception {
        Map<String, byte[]> golden = new TreeMap<>();
        for (String line : Files.readAllLines(Path.of("src/test/resources/golden/backup-streams.txt"))) {
            golden.put(line.substring(0, line.indexOf(' ')),
                    HexFormat.of().parseHex(line.substring(line.indexOf(' ') + 1)));
        }
        assertThat(decode(golden.get("Files/a.txt"))).containsExactly(
                Map.entry("3", hex(SD)), Map.entry("1", hex("hi")));
        assertThat(decode(golden.get("Files/dir"))).containsExactly(Map.entry("3", hex(SD)));
        assertThat(decode(golden.get("Files/b.txt"))).containsExactly(
                Map.entry("1", hex("x")), Map.entry("4:zone:$DATA", hex("ZZ")));
        assertThat(decode(golden.get("Files/plain.txt"))).containsExactly(Map.entry("1", hex("abc")));
        assertThat(reparse(golden.get("Files/link")))
                .isEqualTo(new ReparsePoints.ReparsePoint("C:\\target", "\\??\\C:\\target", false, false));
        assertThat(reparse(golden.get("Files/rel")))
                .isEqualTo(new ReparsePoints.ReparsePoint("sub\\f", "sub\\f", false, true));
        assertThat(reparse(golden.get("Files/junc")))
                .isEqualTo(new ReparsePoints.ReparsePoint("C:\\dir", "\\??\\C:\\dir", true, false));
    }

    @Test
    void aStreamCutShortIsNotRead() throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        BackupStream.writeHeader(b, new BackupStream.Header(BackupStream.BACKUP_DATA, 0, 10, ""));
        b.write("short".getBytes(StandardCharsets.UTF_8));
        BackupStream.Reader r = new BackupStream.Reader(new ByteArrayInputStream(b.toByteArray()));
        r.next();
        assertThatThrownBy(() -> r.data().readAllBytes()).isInstanceOf(EOFException.class);
        byte[] half = HexFormat.of().parseHex("0100000000000000");
        assertThatThrownBy(() -> new BackupStream.Reader(new ByteArrayInputStream(half)).next())
                .isInstanceOf(EOFException.class).hasMessageContaining("inside a stream header");
        assertThatThrownBy(() -> ReparsePoints.decode(HexFormat.of().parseHex("0100008004000000000000000000000000")))
                .hasMessageContaining("neither a symlink nor a mount point");
    }

    /** Each stream as "id[name]" to its data's hex, in order. */
    static Map<String, String> decode(byte[] stream) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        BackupStream.Reader r = new BackupStream.Reader(new ByteArrayInputStream(stream));
        BackupStream.Header h;
        while ((h = r.next()) != null) {
            assertThat(h.attributes()).isZero();
            out.put(h.id() + h.name(), hex(r.data().readAllBytes()));
        }
        return out;
    }

    static ReparsePoints.ReparsePoint reparse(byte[] stream) throws IOException {
        BackupStream.Reader r = new BackupStream.Reader(new ByteArrayInputStream(stream));
        BackupStream.Header h = r.next();
        assertThat(h.id()).isEqualTo(BackupStream.BACKUP_REPARSE_DATA);
        ReparsePoints.ReparsePoint p = ReparsePoints.decode(r.data().readAllBytes());
        assertThat(r.next()).isNull();
        return p;
    }

    private void write(List<Entry> entries, BackupFiles files) throws IOException {
        LayerBlobs.Blob b = WindowsLayerTars.blob(dir.resolve("blobs"), "table", entries);
        Files.createDirectories(dir.resolve("out"));
        LayerTar.write(b.path(), b.diffId(), dir.resolve("out"), files);
    }

    static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    static String hex(String s) {
        return hex(s.getBytes(StandardCharsets.UTF_8));
    }

    /** Keeps each file's raw backup stream and basic info, by its name in the layer; creates it empty on disk. */
    static final class Capturing implements BackupFiles {
        final Path root;
        final Map<String, ByteArrayOutputStream> streams = new TreeMap<>();
        final Map<String, BasicInfo> infos = new TreeMap<>();
        final List<String> directories = new java.util.ArrayList<>();

        Capturing(Path root) {
            this.root = root;
        }

        @Override
        public BackupFile create(Path path, boolean directory, boolean processSecurity) throws IOException {
            String name = root.relativize(path).toString();
            if (directory) {
                Files.createDirectory(path);
            } else {
                Files.createFile(path);
            }
            ByteArrayOutputStream s = new ByteArrayOutputStream();
            streams.put(name, s);
            return new BackupFile() {
                @Override
                public void setBasicInfo(BasicInfo info) {
                    infos.put(name, info);
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    s.write(b, off, len);
                }

                @Override
                public void close() {}
            };
        }

        @Override
        public void setBasicInfo(Path path, BasicInfo info) {
            String name = root.relativize(path).toString();
            assertThat(infos.get(name)).isEqualTo(info);
            directories.add(name);
        }

        @Override
        public void createHardLink(Path link, Path target) throws IOException {
            Files.createLink(link, target);
        }
    }
}
