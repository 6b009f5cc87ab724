package dev.berth.hcs.layer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.hcs.bind.BackupFiles.BasicInfo;
import dev.berth.hcs.bind.PortableBackupFiles;
import dev.berth.hcs.bind.PortableBackupFiles.Recorded;
import dev.berth.hcs.fake.LayerBlobs;
import dev.berth.hcs.fake.WindowsLayerTars;
import dev.berth.hcs.fake.WindowsLayerTars.Entry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A Windows layer tar with backuptar's PAX headers through {@link LayerTar} to {@link PortableBackupFiles}: what each
 * file was given matches its headers; the tar's other rules still hold; malformed headers are refused, naming the
 * entry.
 */
class LayerTarBackupTest {
    @TempDir
    Path dir;
    private final PortableBackupFiles files = new PortableBackupFiles();

    @Test
    void eachFileGetsWhatItsHeadersSay() throws Exception {
        List<Entry> entries = new ArrayList<>(BackupStreamGoldenTest.table());
        entries.add(Entry.dir("Hives").pax("MSWINDOWS.fileattr", "16"));
        entries.add(Entry.file("Hives/System_Delta", "hive").pax("MSWINDOWS.rawsd", WindowsLayerTars.SD_BASE64));
        entries.add(Entry.hardLink("Files/same.txt", "Files/a.txt"));
        entries.add(Entry.file("Files/dir/.wh.gone", ""));
        entries.add(Entry.file("Files/ea.txt", "e").pax("MSWINDOWS.xattr.$KERNEL.PURGE", "AQID"));
        Path out = write(entries);

        Recorded a = recorded(out, "Files/a.txt");
        assertThat(a.securityDescriptor()).isEqualTo(BackupStreamGoldenTest.SD);
        assertThat(a.processSecurity()).isTrue();
        assertThat(a.info()).isEqualTo(new BasicInfo(132_444_736_002_500_000L, 133_444_736_010_000_000L,
                133_444_736_005_000_000L, 133_444_736_020_000_000L, 32));
        assertThat(out.resolve("Files/a.txt")).hasContent("hi");
        assertThat(a.dataSize()).isEqualTo(2);
        assertThat(Files.getLastModifiedTime(out.resolve("Files/a.txt")))
                .isEqualTo(FileTime.from(BackupStreamGoldenTest.M));

        Recorded d = recorded(out, "Files/dir");
        assertThat(d.directory()).isTrue();
        assertThat(d.info().attributes()).isEqualTo(18);
        assertThat(d.securityDescriptor()).isEqualTo(BackupStreamGoldenTest.SD);
        assertThat(out.resolve("Files/dir")).isDirectory();

        Recorded b = recorded(out, "Files/b.txt");
        assertThat(b.securityDescriptor()).isNull();
        assertThat(b.alternateStreams()).containsOnlyKeys(":zone:$DATA");
        assertThat(new String(b.alternateStreams().get(":zone:$DATA"), StandardCharsets.UTF_8)).isEqualTo("ZZ");
        assertThat(out.resolve("Files/b.txt")).hasContent("x");
        assertThat(out.resolve("Files/b.txt:zone")).doesNotExist();

        assertThat(ReparsePoints.decode(recorded(out, "Files/link").reparse()))
                .isEqualTo(new ReparsePoints.ReparsePoint("C:\\target", "\\??\\C:\\target", false, false));
        assertThat(recorded(out, "Files/link").info().attributes()).isEqualTo(0x420);
        assertThat(ReparsePoints.decode(recorded(out, "Files/rel").reparse()).relative()).isTrue();
        ReparsePoints.ReparsePoint junction = ReparsePoints.decode(recorded(out, "Files/junc").reparse());
        assertThat(junction.mountPoint()).isTrue();
        assertThat(junction.target()).isEqualTo("C:\\dir");

        Recorded plain = recorded(out, "Files/plain.txt");
        assertThat(plain.securityDescriptor()).isNull();
        assertThat(plain.reparse()).isNull();
        assertThat(plain.info().attributes()).isZero();
        assertThat(plain.info().creationTime()).isEqualTo(plain.info().lastWriteTime());

        Recorded hive = recorded(out, "Hives/System_Delta");
        assertThat(hive.processSecurity()).as("hcsshim's base layer writer applies every file's security").isTrue();
        assertThat(hive.securityDescriptor()).isEqualTo(BackupStreamGoldenTest.SD);

        assertThat(recorded(out, "Files/same.txt").hardLinkTarget()).isEqualTo(out.resolve("Files/a.txt").toString());
        assertThat(out.resolve("Files/same.txt")).hasContent("hi");
        assertThat(out.resolve(LayerTar.TOMBSTONES)).hasBinaryContent(
                "\uFEFFVersion 1.0\n\\Files\\dir\\gone\n".getBytes(StandardCharsets.UTF_8));

        // FILE_FULL_EA_INFORMATION: next 0, flags 0, name length 13, value length 3, name, NUL, value, padded to 4
        assertThat(recorded(out, "Files/ea.txt").extendedAttributes()).isEqualTo(bytes(
                "00000000000d0300244b45524e454c2e505552474500010203000000"));
        assertThat(Files.list(out.resolve("Files")).map(p -> p.getFileName().toString()))
                .as("no spool file is left").noneMatch(n -> n.startsWith(".backup-"));
    }

    @Test
    void anImportFolderHasHcsshimsLegacyLayoutUnderFiles() throws Exception {
        List<Entry> entries = new ArrayList<>(BackupStreamGoldenTest.table());
        entries.add(Entry.dir("Hives").pax("MSWINDOWS.fileattr", "16"));
        entries.add(Entry.file("Hives/System_Delta", "hive").pax("MSWINDOWS.rawsd", WindowsLayerTars.SD_BASE64)
                .pax("MSWINDOWS.fileattr", "32"));
        LayerBlobs.Blob blob = WindowsLayerTars.blob(dir.resolve("blobs"), "import", entries);
        Path out = dir.resolve("import");
        Files.createDirectories(out);
        LayerTar.write(blob.path(), blob.diffId(), out, files, LayerTar.Layout.IMPORT);
        java.util.Map<String, String> golden = new java.util.TreeMap<>();
        for (String line : Files.readAllLines(Path.of("src/test/resources/golden/backup-streams.txt"))) {
            golden.put(line.substring(0, line.indexOf(' ')), line.substring(line.indexOf(' ') + 1));
        }
        // the attributes as a little-endian DWORD, then the same backup stream the base layout writes
        assertThat(hexOf(out.resolve("Files/a.txt"))).isEqualTo("20000000" + golden.get("Files/a.txt"));
        assertThat(hexOf(out.resolve("Files/link"))).isEqualTo("20040000" + golden.get("Files/link"));
        assertThat(hexOf(out.resolve("Files/plain.txt"))).isEqualTo("00000000" + golden.get("Files/plain.txt"));
        assertThat(out.resolve("Files/dir")).isEmptyDirectory();
        assertThat(hexOf(out.resolve("Files/dir.$wcidirs$"))).isEqualTo("12000000" + golden.get("Files/dir"));
        assertThat(out.resolve("Files/junc")).isEmptyDirectory();
        assertThat(hexOf(out.resolve("Files/junc.$wcidirs$"))).isEqualTo("10040000" + golden.get("Files/junc"));
        // the times are on the plain file, with no attributes
        assertThat(recorded(out, "Files/a.txt").info()).isEqualTo(new BasicInfo(132_444_736_002_500_000L,
                133_444_736_010_000_000L, 133_444_736_005_000_000L, 133_444_736_020_000_000L, 0));
        assertThat(recorded(out, "Files/a.txt").securityDescriptor()).as("not decoded: a plain file").isNull();
        assertThat(recorded(out, "Files/dir.$wcidirs$").info().attributes()).isZero();
        // hives still go through BackupWrite, without their security (hcsshim's legacy writer)
        assertThat(recorded(out, "Hives/System_Delta").securityDescriptor()).isEqualTo(BackupStreamGoldenTest.SD);
        assertThat(recorded(out, "Hives/System_Delta").processSecurity()).isFalse();
        assertThat(recorded(out, "Hives/System_Delta").info().attributes()).isZero();
        assertThat(recorded(out, "Hives.$wcidirs$").info().attributes()).as("Hives/ as a directory").isZero();
        assertThat(out.resolve("Hives")).isDirectory();
        assertThat(out.resolve("Hives/System_Delta")).hasContent("hive");
    }

    private static String hexOf(Path p) throws IOException {
        return java.util.HexFormat.of().formatHex(Files.readAllBytes(p));
    }

    @Test
    void theDiffIdIsStillChecked() throws Exception {
        LayerBlobs.Blob b = WindowsLayerTars.blob(dir.resolve("blobs"), "t", BackupStreamGoldenTest.table());
        Files.createDirectories(dir.resolve("out"));
        assertThatThrownBy(() -> LayerTar.write(b.path(), "sha256:" + "0".repeat(64), dir.resolve("out"), files))
                .hasMessageContaining("is not diff id");
    }

    static Stream<Arguments> refusals() {
        String sd = WindowsLayerTars.SD_BASE64;
        return Stream.of(
                Arguments.of(List.of(Entry.file("Files/x", "1").pax("MSWINDOWS.rawsd", "not base64!")),
                        "entry \"Files/x\" has MSWINDOWS.rawsd that is not base64"),
                Arguments.of(List.of(Entry.file("Files/x", "1").pax("MSWINDOWS.rawsd", "AAAAAAAA")),
                        "entry \"Files/x\" has a MSWINDOWS.rawsd that is not a self-relative security descriptor"),
                Arguments.of(List.of(Entry.file("Files/x", "1").pax("MSWINDOWS.fileattr", "4294967296")),
                        "entry \"Files/x\" has MSWINDOWS.fileattr \"4294967296\", not a 32-bit decimal"),
                Arguments.of(List.of(Entry.file("Files/x", "1").pax("MSWINDOWS.fileattr", "-1")),
                        "not a 32-bit decimal"),
                Arguments.of(List.of(Entry.file("Files/x", "1").pax("MSWINDOWS.fileattr", "0x20")),
                        "not a 32-bit decimal"),
                Arguments.of(List.of(Entry.file("Files/x", "1").pax("MSWINDOWS.fileattr", "16")),
                        "entry \"Files/x\" has MSWINDOWS.fileattr 16, which says directory for a file"),
                Arguments.of(List.of(Entry.dir("Files/d").pax("MSWINDOWS.fileattr", "32")),
                        "does not say directory for a directory"),
                Arguments.of(List.of(Entry.file("Files/x", "1").pax("MSWINDOWS.sd", "O:BAG:SYD:")),
                        "entry \"Files/x\" has only an SDDL security descriptor"),
                Arguments.of(List.of(Entry.file("Files/x", "1").pax("MSWINDOWS.xattr.n", "%%%")),
                        "entry \"Files/x\" has MSWINDOWS.xattr.n that is not base64"),
                Arguments.of(List.of(Entry.rawPax("LIBARCHIVE.creationtime", "yesterday"), Entry.file("Files/x", "1")),
                        "the entry after the start of the tar has a header that cannot be read: Corrupted PAX header. "
                                + "Time field value is invalid 'yesterday'"),
                Arguments.of(List.of(Entry.file("Files/x:s", "1")),
                        "entry \"Files/x:s\" is an alternate data stream with no file before it"),
                Arguments.of(List.of(Entry.file("Files/y", "1").pax("MSWINDOWS.rawsd", sd),
                                Entry.file("Files/x:s", "1")),
                        "entry \"Files/x:s\" is an alternate data stream with no file before it"),
                Arguments.of(List.of(Entry.file("Files/x", "1"), Entry.dir("Files/d"), Entry.file("Files/x:s", "1")),
                        "entry \"Files/x:s\" is an alternate data stream with no file before it"),
                Arguments.of(List.of(Entry.file("Files/x", "1"), Entry.file("Files/x:a:b", "1")),
                        "entry \"Files/x:a:b\" is not an alternate data stream a Windows layer holds"),
                Arguments.of(List.of(Entry.file("Files/../../x", "1")), "entry \"Files/../../x\" leaves the layer"),
                Arguments.of(List.of(Entry.file("Files/x", "1"),
                                Entry.hardLink("Files/h", "Files/../../../etc/passwd")),
                        "leaves the layer"),
                Arguments.of(List.of(Entry.symlink("Files/l", "")), "entry \"Files/l\" a link target that is empty"));
    }

    @ParameterizedTest
    @MethodSource("refusals")
    void malformedHeadersAreRefusedNamingTheEntry(List<Entry> entries, String message) throws Exception {
        assertThatThrownBy(() -> write(entries)).isInstanceOf(IOException.class).hasMessageContaining(message);
    }

    private Path write(List<Entry> entries) throws IOException {
        LayerBlobs.Blob b = WindowsLayerTars.blob(dir.resolve("blobs"), "layer", entries);
        Path out = dir.resolve("out");
        Files.createDirectories(out);
        LayerTar.write(b.path(), b.diffId(), out, files);
        return out;
    }

    private Recorded recorded(Path out, String name) {
        Recorded r = files.recorded(out.resolve(name));
        assertThat(r).as(name).isNotNull();
        return r;
    }

    private static byte[] bytes(String hex) {
        return java.util.HexFormat.of().parseHex(hex);
    }
}
