package dev.berth.hcs.bind;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.hcs.bind.BackupFiles.BasicInfo;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The portable writer decodes what it is given in any pieces, and refuses a stream BackupWrite would not take. */
class PortableBackupFilesTest {
    @TempDir
    Path dir;
    private final PortableBackupFiles files = new PortableBackupFiles();

    @Test
    void aStreamGivenInPiecesIsDecoded() throws Exception {
        ByteArrayOutputStream s = new ByteArrayOutputStream();
        BackupStream.write(s, BackupStream.BACKUP_SECURITY_DATA, new byte[] {1, 0, 4, (byte) 0x80});
        BackupStream.write(s, BackupStream.BACKUP_DATA, "content".getBytes(StandardCharsets.UTF_8));
        BackupStream.writeHeader(s, new BackupStream.Header(BackupStream.BACKUP_ALTERNATE_DATA, 0, 1, ":s:$DATA"));
        s.write('a');
        byte[] b = s.toByteArray();
        Path f = dir.resolve("f");
        // 2000-01-01T00:00:00Z as a FILETIME
        BasicInfo info = new BasicInfo(1, 2, 125_911_584_000_000_000L, 3, BasicInfo.FILE_ATTRIBUTE_ARCHIVE);
        try (BackupFiles.BackupFile w = files.create(f, false, true)) {
            w.setBasicInfo(info);
            for (int i = 0; i < b.length; i += 3) {
                w.write(b, i, Math.min(3, b.length - i));
            }
        }
        assertThat(f).hasContent("content");
        PortableBackupFiles.Recorded r = files.recorded(f);
        assertThat(r.securityDescriptor()).containsExactly(1, 0, 4, 0x80);
        assertThat(r.alternateStreams().get(":s:$DATA")).containsExactly('a');
        assertThat(r.info()).isEqualTo(info);
        assertThat(Files.getLastModifiedTime(f)).isEqualTo(FileTime.from(Instant.parse("2000-01-01T00:00:00Z")));
        assertThat(PortableBackupFiles.instant(116_444_736_000_000_000L)).isEqualTo(Instant.EPOCH);
    }

    @Test
    void aStreamBackupWriteWouldNotTakeFailsTheClose() throws Exception {
        assertThatThrownBy(() -> write(dir.resolve("d"), true, stream(BackupStream.BACKUP_DATA, "x")))
                .hasMessageContaining("a data stream for a directory");
        assertThatThrownBy(() -> write(dir.resolve("p"), false, stream(BackupStream.BACKUP_PROPERTY_DATA, "x")))
                .hasMessageContaining("stream id 6 is not written by berth");
        byte[] cut = stream(BackupStream.BACKUP_DATA, "content");
        assertThatThrownBy(() -> write(dir.resolve("c"), false, java.util.Arrays.copyOf(cut, cut.length - 2)))
                .isInstanceOf(EOFException.class);
        ByteArrayOutputStream bad = new ByteArrayOutputStream();
        BackupStream.writeHeader(bad, new BackupStream.Header(BackupStream.BACKUP_ALTERNATE_DATA, 0, 0, "s"));
        assertThatThrownBy(() -> write(dir.resolve("a"), false, bad.toByteArray()))
                .hasMessageContaining("an alternate data stream named \"s\"");
        assertThatThrownBy(() -> files.create(dir.resolve("d"), false, true))
                .isInstanceOf(FileAlreadyExistsException.class);
        try (var l = Files.list(dir)) {
            assertThat(l.map(p -> p.getFileName().toString())).as("no spool file is left")
                    .noneMatch(n -> n.startsWith(".backup-"));
        }
    }

    private void write(Path p, boolean directory, byte[] stream) throws IOException {
        try (BackupFiles.BackupFile w = files.create(p, directory, true)) {
            w.write(stream, 0, stream.length);
        }
    }

    private static byte[] stream(int id, String data) throws IOException {
        ByteArrayOutputStream s = new ByteArrayOutputStream();
        BackupStream.write(s, id, data.getBytes(StandardCharsets.UTF_8));
        return s.toByteArray();
    }
}
